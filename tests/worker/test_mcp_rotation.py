"""`invoke rotate --credential mcp-token` against workerd: the Worker rotates and records it,
/health's hash changes, and a client that compares hashes (the simulator, as the daemon does)
fetches the new token through /connect. The token is never printed. That a later `pulumi up`
leaves the rotated token alone is tests/stack/test_credentials.py: the program owns no KV value."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from infra.contract import read_contract
from infra.environments import schema_version
from infra.local.smoke import client_token_hash
from infra.paths import REPO_ROOT
from infra.rotation.mcp_token import McpRotationFailed, rotate_mcp_token
from tests.worker.conftest import PROJECT, TEAM_KEY, read_rows
from tests.worker.simulator import SimulatedClient

pytestmark = pytest.mark.workerd


def test_a_rotation_is_seen_by_a_client_comparing_hashes_which_fetches_the_new_token(start_worker, tmp_path):
    state = tmp_path / "mcp-state"
    worker = start_worker(upto=schema_version(), state=state)
    client = SimulatedClient(worker.url, TEAM_KEY, "machine-alice", read_contract(), (PROJECT,))
    first = client.connect()["mcp_token"]
    assert client.health() == "ok" and client.counters.connects == 1, "same hash: no reconnect"

    rotation = rotate_mcp_token(worker.url, TEAM_KEY)

    assert rotation.before == client_token_hash(first) != rotation.after
    assert httpx.get(f"{worker.url}/health").json()["mcp_token_hash"] == rotation.after
    client.health()
    assert client.counters.connects == 2, "a new hash on /health makes the client call /connect"
    assert client.token != first and client.token_hash == rotation.after
    client.health()
    assert client.counters.connects == 2, "and it has converged: no reconnect after every /health"
    client.close()

    (event,) = read_rows(state, "SELECT action, fingerprint, actor, at FROM team_credential_events WHERE action = 'rotated'")
    assert event[:2] == ("rotated", rotation.after) and event[2].startswith("invoke rotate (") and event[3] == rotation.rotated_at


def test_the_task_rotates_through_a_url_prints_fingerprints_and_never_the_token(start_worker, tmp_path):
    state = tmp_path / "task-state"
    worker = start_worker(upto=schema_version(), state=state)
    token = httpx.post(f"{worker.url}/connect", json={"machine_id": "m1", "sync_protocol_version": 3},
                       headers={"authorization": f"Bearer {TEAM_KEY}"}).json()["mcp_token"]
    result = subprocess.run([sys.executable, "-m", "invoke", "rotate", "--env", "staging", "--credential", "mcp-token",
                             "--url", worker.url], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
                            env={**os.environ, "MYCO_TEAM_API_KEY": TEAM_KEY, "HYPHAE_NO_PULUMI_CLI": "1"})
    assert result.returncode == 0, result.stderr
    new_hash = httpx.get(f"{worker.url}/health").json()["mcp_token_hash"]
    assert f"fingerprint {client_token_hash(token)} -> {new_hash}" in result.stdout
    new_token = httpx.post(f"{worker.url}/connect", json={"machine_id": "m1", "sync_protocol_version": 3},
                           headers={"authorization": f"Bearer {TEAM_KEY}"}).json()["mcp_token"]
    assert client_token_hash(new_token) == new_hash
    for secret in (token, new_token, TEAM_KEY):
        assert secret not in result.stdout + result.stderr


def test_a_refused_rotation_says_why_and_changes_nothing(running_worker):
    before = httpx.get(f"{running_worker.url}/health").json()["mcp_token_hash"]
    with pytest.raises(McpRotationFailed, match=r"/mcp/rotate answered 401: invalid team API key$"):
        rotate_mcp_token(running_worker.url, "not-the-team-key")
    assert httpx.get(f"{running_worker.url}/health").json()["mcp_token_hash"] == before


def test_without_the_kv_binding_connect_and_rotate_answer_503_naming_it_and_health_stays_readable(start_worker, tmp_path):
    """Guards against a Worker deployed without its KV binding answering /connect or /mcp/rotate
    with anything but a 503 naming MYCO_SECRETS (or recording a token it could not store), and
    against /health failing, or logging an error on every call, for want of the token."""
    state = tmp_path / "no-kv"
    worker = start_worker(upto=schema_version(), state=state, extra={"kvNamespaces": {}})
    health = httpx.get(f"{worker.url}/health", timeout=30)
    assert health.status_code == 200, health.text
    assert (health.json()["mcp_token_hash"], health.json()["bindings"]["kv"]) == (None, False)
    for path, body in (("/connect", {"machine_id": "m-no-kv", "sync_protocol_version": 3}), ("/mcp/rotate", None)):
        response = httpx.post(f"{worker.url}{path}", json=body, headers={"authorization": f"Bearer {TEAM_KEY}"}, timeout=30)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["error"] == "the KV binding MYCO_SECRETS is missing", path
    assert read_rows(state, "SELECT count(*) FROM team_credential_events") == [(0,)]
    assert "cannot read the MCP token" not in worker.log_path.read_text()


def test_the_actor_is_recorded_printable_and_trimmed_and_one_with_nothing_printable_as_none(start_worker, tmp_path):
    """Guards against the `x-hyphae-actor` header recorded with the spaces left at its ends once
    its non-printable characters are stripped, or recorded as '' when nothing printable is left."""
    state = tmp_path / "actor"
    worker = start_worker(upto=schema_version(), state=state)
    for actor in ("\u00e9 ops@laptop \u00e9", "\u00e9\u00e9"):
        response = httpx.post(f"{worker.url}/mcp/rotate", timeout=30,
                              headers={"authorization": f"Bearer {TEAM_KEY}", "x-hyphae-actor": actor.encode("latin-1")})
        assert response.status_code == 200, response.text
    rows = read_rows(state, "SELECT actor FROM team_credential_events WHERE action = 'rotated' ORDER BY id")
    assert rows == [("ops@laptop",), (None,)]
