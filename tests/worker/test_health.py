"""GET /health, POST /connect and the MCP token over HTTP against the Worker on workerd.

The client reconnects after every /health whose `mcp_token_hash` differs from its own hash of the
token /connect gave it (reference §3.6), so the hash must be exactly the client's.
"""

from __future__ import annotations

import httpx
import pytest

from infra.environments import load_environment, schema_version
from infra.local.smoke import client_token_hash
from tests.worker.conftest import AUTH, MCP_TOKEN, get, plan_vars, read_rows, unreadable_ledger_state

pytestmark = pytest.mark.workerd


def connect(worker, machine_id: str, **fields) -> httpx.Response:
    return httpx.post(f"{worker.url}/connect", json={"machine_id": machine_id, "sync_protocol_version": 3, **fields}, headers=AUTH, timeout=30)


def test_health_advertises_the_protocol_window_of_the_environment_model_without_auth(running_worker):
    response = httpx.get(f"{running_worker.url}/health")
    body = response.json()
    worker = load_environment("local").worker
    assert response.status_code == 200, body
    assert (body["status"], body["sync_protocol_version"], body["min_compat_client_version"]) == ("ok", 3, 1)
    assert (worker.sync_protocol_version, worker.min_compat_client_version) == (3, 1)
    assert (body["schema_version"], body["schema_version_applied"]) == (schema_version(), schema_version())
    assert body["bindings"] == {"d1": True, "kv": True, "vectorize": True, "ai": True, "api_key": True}
    assert "error" not in body and "schema_reason" not in body  # a healthy answer names no error, not even null


@pytest.mark.parametrize("method, path", [("GET", "/health/"), ("HEAD", "/health"), ("HEAD", "/health/")])
def test_head_and_a_trailing_slash_answer_like_get_health(running_worker, method, path):
    reference = httpx.get(f"{running_worker.url}/health")
    response = httpx.request(method, f"{running_worker.url}{path}")
    assert response.status_code == reference.status_code == 200
    assert response.headers["content-type"] == reference.headers["content-type"]
    if method == "HEAD":
        assert response.content == b""
    else:
        assert response.json() == reference.json()


def test_health_shows_the_clients_hash_of_the_mcp_token_never_the_token(running_worker):
    response = httpx.get(f"{running_worker.url}/health")
    assert response.json()["mcp_token_hash"] == client_token_hash(MCP_TOKEN)
    assert MCP_TOKEN not in response.text


def test_health_counts_the_registered_nodes(start_worker):
    """Guards against `node_count` lost (null) while the database answers: the count of nodes."""
    worker = start_worker(upto=schema_version())
    assert httpx.get(f"{worker.url}/health").json()["node_count"] == 0
    for machine_id in ("m-one", "m-two"):
        assert connect(worker, machine_id).status_code == 200
    assert httpx.get(f"{worker.url}/health").json()["node_count"] == 2


def test_health_without_the_d1_binding_names_it_and_reads_nothing(start_worker):
    """Guards against a Worker with no D1 binding reported as anything but an unavailable
    database whose error names the missing binding."""
    worker = start_worker(upto=schema_version(), extra={"d1Databases": {}})
    response = httpx.get(f"{worker.url}/health")
    body = response.json()
    assert response.status_code == 503
    assert (body["status"], body["error"], body["bindings"]["d1"]) == ("database_unavailable", "the D1 binding MYCO_TEAM_DB is missing", False)
    assert (body["schema_version_applied"], body["schema_state"], body["node_count"]) == (None, None, None)


def test_health_reports_an_empty_team_key_as_no_key(start_worker):
    """Guards against an empty MYCO_TEAM_API_KEY shown as a bound key (`length >= 0`). The local
    runtime binds no empty secret, so the empty key is bound as a plain variable."""
    worker = start_worker(upto=schema_version(), api_key="", extra={"vars": {**plan_vars("paid"), "MYCO_TEAM_API_KEY": ""}})
    assert httpx.get(f"{worker.url}/health").json()["bindings"]["api_key"] is False


def test_an_unreadable_ledger_is_shown_as_unavailable_and_its_reason_logged(start_worker, tmp_path):
    """Guards against /health's fixed wording for a database that did not answer, and the log line
    with D1's own reason, being lost: the public answer hides the reason, the operator's log has it."""
    state = unreadable_ledger_state(tmp_path / "damaged")
    worker = start_worker(upto=0, state=state)
    body = httpx.get(f"{worker.url}/health").json()
    assert (body["status"], body["error"]) == ("database_unavailable", "the database did not answer (the reason is in the Worker's log)")
    assert (body["schema_version_applied"], body["node_count"], body["bindings"]["d1"]) == (None, None, True)
    worker.stop()
    log = worker.log_path.read_text()
    assert "health: cannot read the migration ledger:" in log and "no such column" in log


def test_no_token_yet_is_a_null_hash_and_no_error_logged(start_worker):
    """Guards against /health hashing a token that does not exist yet: the null hash must come
    from "no token", not from a failed hash whose error lands in the operator's log."""
    worker = start_worker(upto=schema_version())
    body = httpx.get(f"{worker.url}/health").json()
    assert (body["status"], body["mcp_token_hash"]) == ("ok", None)
    worker.stop()
    assert "cannot read the MCP token" not in worker.log_path.read_text()


def test_an_unreadable_mcp_token_is_a_null_hash_and_its_reason_logged(start_worker):
    """Guards against a KV read that fails taking /health down or dropping `mcp_token_hash` from
    the answer, and against its reason missing from the Worker's log. MYCO_SECRETS bound to a
    plain value (not a namespace) makes the read fail as a broken binding would."""
    worker = start_worker(upto=schema_version(), extra={"kvNamespaces": {}, "vars": {**plan_vars("paid"), "MYCO_SECRETS": "not a namespace"}})
    response = httpx.get(f"{worker.url}/health")
    body = response.json()
    assert (response.status_code, body["status"]) == (200, "ok"), body
    assert "mcp_token_hash" in body and body["mcp_token_hash"] is None
    worker.stop()
    assert "health: cannot read the MCP token:" in worker.log_path.read_text()


def test_the_first_connect_creates_the_token_and_health_then_shows_its_hash(start_worker):
    worker = start_worker(upto=schema_version())
    assert httpx.get(f"{worker.url}/health").json()["mcp_token_hash"] is None
    first = connect(worker, "m-first").json()
    again = connect(worker, "m-second").json()
    assert first["mcp_token"] == again["mcp_token"] and len(first["mcp_token"]) == 36
    assert httpx.get(f"{worker.url}/health").json()["mcp_token_hash"] == client_token_hash(first["mcp_token"])


def test_rotation_replaces_the_token_and_the_hash_follows(start_worker):
    worker = start_worker(upto=schema_version())
    before = connect(worker, "m-rotate").json()["mcp_token"]
    rotated = httpx.post(f"{worker.url}/mcp/rotate", headers=AUTH)
    assert rotated.status_code == 200, rotated.text
    token = rotated.json()["token"]
    assert token != before
    assert connect(worker, "m-rotate").json()["mcp_token"] == token
    assert httpx.get(f"{worker.url}/health").json()["mcp_token_hash"] == client_token_hash(token)


def test_connect_registers_the_node_and_returns_the_config_with_the_team_id(running_worker, worker_state):
    put = httpx.put(f"{running_worker.url}/config", json={"team_id": "team_42", "team_name": "Platform"}, headers=AUTH)
    assert put.json() == {"updated": 2}
    first = connect(running_worker, "m-node", version="0.14.2", vault_name="vault", agent="claude")
    body = first.json()
    assert first.status_code == 200, body
    assert (body["status"], body["sync_protocol_version"], body["min_compat_client_version"]) == ("connected", 3, 1)
    assert (body["config"]["team_id"], body["config"]["team_name"], body["mcp_token"], body["mcp_endpoint"]) == ("team_42", "Platform", MCP_TOKEN, "/mcp")
    registered = read_rows(worker_state, "SELECT registered_at, package_version, sync_protocol_version FROM nodes WHERE machine_id = 'm-node'")
    assert registered[0][1:] == ("0.14.2", 3)
    connect(running_worker, "m-node")
    assert read_rows(worker_state, "SELECT registered_at, package_version FROM nodes WHERE machine_id = 'm-node'") == [(registered[0][0], "0.14.2")]
    assert get(running_worker, "/config") == {"config": {"team_id": "team_42", "team_name": "Platform"}, "sync_protocol_version": 3}


def test_connect_stores_the_nodes_fields_and_keeps_known_ones_a_later_connect_omits(start_worker, tmp_path):
    """Guards against an empty `package_version` stored instead of the client's `version`, the older
    tools' `package_version` losing to `version`, and the schema version not stored or forgotten
    when a later /connect omits it."""
    state = tmp_path / "nodes"
    worker = start_worker(upto=schema_version(), state=state)
    query = "SELECT package_version, schema_version, sync_protocol_version, last_seen = registered_at FROM nodes"
    assert connect(worker, "m-fields", package_version="", version="0.15.0", schema_version=7).status_code == 200
    assert read_rows(state, query) == [("0.15.0", 7, 3, 1)]
    assert connect(worker, "m-fields", package_version="0.9.1", version="0.16.0").status_code == 200
    assert read_rows(state, query)[0][:3] == ("0.9.1", 7, 3)


def test_connect_reads_a_null_field_as_one_left_out(start_worker, tmp_path):
    """Guards against a JSON null in an optional integer field (`schema_version`,
    `sync_protocol_version`) refused as "not an integer": the client sends null for a value it
    does not know, and the node keeps what it stored before."""
    state = tmp_path / "nulls"
    worker = start_worker(upto=schema_version(), state=state)
    query = "SELECT package_version, schema_version, sync_protocol_version FROM nodes"
    assert connect(worker, "m-null", version="0.15.0", schema_version=7).status_code == 200
    answer = connect(worker, "m-null", package_version=None, version=None, schema_version=None, sync_protocol_version=None)
    assert answer.status_code == 200, answer.text
    assert read_rows(state, query) == [("0.15.0", 7, 3)]


def test_connect_takes_a_machine_id_of_1024_utf8_bytes_and_refuses_one_more(start_worker, tmp_path):
    """Guards against the machine_id limit moving by a byte (`>=`) or counting characters, not bytes."""
    state = tmp_path / "long-id"
    worker = start_worker(upto=schema_version(), state=state)
    assert connect(worker, "é" * 512).status_code == 200
    refused = connect(worker, "é" * 512 + "x")
    assert (refused.status_code, refused.json()["error"]) == (413, "machine_id is over 1024 bytes")
    assert read_rows(state, "SELECT length(CAST(machine_id AS BLOB)) FROM nodes") == [(1024,)]


def test_connect_without_a_machine_id_is_400(running_worker):
    response = httpx.post(f"{running_worker.url}/connect", json={"sync_protocol_version": 3}, headers=AUTH)
    assert response.status_code == 400
    assert "machine_id" in response.json()["error"]


@pytest.mark.parametrize("body, message", [({}, "Empty config body"), ({"team_id": 7}, "config values must be strings")])
def test_put_config_refuses_an_empty_body_or_values_that_are_not_strings(running_worker, body, message):
    response = httpx.put(f"{running_worker.url}/config", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


def test_put_config_names_the_first_five_wrong_values_by_key_and_type_and_stores_none(running_worker):
    """Guards against the refusal's list losing its cap of five, its 64-character cut of a key,
    its separators or the types, and against a refused body storing its string values."""
    long_key = "k" * 100
    body = {long_key: 1, "b": None, "c": [], "d": {}, "e": 1.5, "f": True, "fine": "stored?"}
    response = httpx.put(f"{running_worker.url}/config", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == (f"config values must be strings; not: {'k' * 64} (an integer), b (null), c (an array), "
                                        "d (an object), e (a number)")
    assert "fine" not in get(running_worker, "/config")["config"]


def test_put_config_takes_a_pair_up_to_16_bytes_below_d1s_value_limit_and_refuses_one_more(start_worker):
    """Guards against the size check moving by a byte either way (`>=`, or the 16 bytes kept for
    the pair's JSON added instead of subtracted) and against the refusal naming more than the
    first 64 characters of the key."""
    worker = start_worker(upto=schema_version())
    key = "n" * 100
    largest = 2_000_000 - 16 - len(key)
    refused = httpx.put(f"{worker.url}/config", json={key: "v" * (largest + 1)}, headers=AUTH, timeout=60)
    assert refused.status_code == 413
    assert refused.json()["error"] == f"config key {'n' * 64}: over D1's 2000000 bytes per value"
    assert get(worker, "/config")["config"] == {}
    accepted = httpx.put(f"{worker.url}/config", json={key: "v" * largest}, headers=AUTH, timeout=60)
    assert accepted.json() == {"updated": 1}
    assert len(get(worker, "/config")["config"][key]) == largest


def test_unknown_route_is_404_wrong_method_is_405_and_the_mcp_server_is_a_clear_404(running_worker):
    assert httpx.get(f"{running_worker.url}/nope", headers=AUTH).status_code == 404
    assert httpx.get(f"{running_worker.url}/enqueue", headers=AUTH).status_code == 405
    for path in ("/mcp", "/mcp/tools"):
        response = httpx.post(f"{running_worker.url}{path}", headers=AUTH)
        assert response.status_code == 404
        assert "MCP server" in response.json()["error"]


# worker-index's survivors: the router (worker/src/index.js), its paths, methods and refusals.

@pytest.mark.parametrize("method, path, shown", [
    ("GET", "/x/records/spores/sp1", "/x/records/spores/sp1"),
    ("GET", "/records/spores/sp1/more", "/records/spores/sp1/more"),
    ("DELETE", "/x/members/m1", "/x/members/m1"),
    ("DELETE", "/members/m1/more", "/members/m1/more"),
    ("GET", "/", "/"),
    ("GET", "//", "/"),
    ("GET", "/" + "n" * 300, "/" + "n" * 199),
])
def test_a_path_that_only_contains_a_route_is_404_naming_the_first_200_characters(running_worker, method, path, shown):
    """Guards against a parameter route matched anywhere in a path rather than as the whole path
    (its `^` or `$` dropped: /x/members/m1 would remove m1), the root read as an empty path, and the
    404's message lost, uncut, or sent with a 401's WWW-Authenticate challenge."""
    response = httpx.request(method, f"{running_worker.url}{path}", headers=AUTH, timeout=30)
    assert (response.status_code, response.json()) == (404, {"error": f"Not found: no route {shown}"})
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize("method, path, shown", [
    ("POST", "/records/spores/sp1", "/records/spores/sp1"),
    ("GET", "/members/m1", "/members/m1"),
    ("PUT", "/records/spores/" + "r" * 300, "/records/spores/" + "r" * 184),
])
def test_a_parameter_route_asked_with_another_method_is_405_naming_it(running_worker, method, path, shown):
    """Guards against a parameter route answering any method (GET /members/m1 removing m1), a path
    that matches one reported as unknown (404), and the 405's message lost, uncut, or sent with a
    401's WWW-Authenticate challenge."""
    response = httpx.request(method, f"{running_worker.url}{path}", headers=AUTH, timeout=30)
    assert (response.status_code, response.json()) == (405, {"error": f"method {method} not allowed on {shown}"})
    assert "www-authenticate" not in response.headers


def test_every_trailing_slash_is_ignored(running_worker):
    """Guards against only the last of several trailing slashes dropped (`/health//` a 404)."""
    reference = httpx.get(f"{running_worker.url}/health")
    response = httpx.get(f"{running_worker.url}/health//")
    assert (response.status_code, response.json()) == (200, reference.json())
