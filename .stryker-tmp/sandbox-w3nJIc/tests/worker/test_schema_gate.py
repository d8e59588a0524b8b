"""The schema gate (a database behind the Worker's schema gets 503 naming both versions) and the
client protocol window (reference §2: 1 to 3 accepted, upstream's 409 body outside)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from infra.environments import schema_version
from tests.worker.conftest import TEAM_KEY, local_database

pytestmark = pytest.mark.workerd

AUTH = {"authorization": f"Bearer {TEAM_KEY}"}
SYNC = {"sync_protocol_version": 3, "machine_id": "m-gate", "records": []}


def test_writes_get_503_naming_both_versions_while_the_database_is_behind(start_worker):
    built = schema_version()
    worker = start_worker(upto=built - 1)
    for path in ("/enqueue", "/connect"):
        response = httpx.post(f"{worker.url}{path}", json=SYNC, headers=AUTH)
        body = response.json()
        assert response.status_code == 503, body
        assert body["schema_version_required"] == built
        assert body["schema_version_applied"] == built - 1
        assert f"version {built - 1}" in body["error"] and f"version {built}" in body["error"]


def test_health_says_the_schema_is_behind_and_never_migrates(start_worker, tmp_path):
    built = schema_version()
    worker = start_worker(upto=built - 1)
    for _ in range(2):
        body = httpx.get(f"{worker.url}/health").json()
        assert body["status"] == "schema_behind"
        assert (body["schema_version"], body["schema_version_applied"]) == (built, built - 1)


def test_an_empty_database_reports_version_zero(start_worker):
    worker = start_worker(upto=0)
    response = httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH)
    assert response.status_code == 503
    assert response.json()["schema_version_applied"] == 0


def test_the_gate_opens_once_the_database_is_migrated(start_worker, tmp_path):
    state = tmp_path / "gate-state"
    behind = start_worker(upto=schema_version() - 1, state=state)
    assert httpx.post(f"{behind.url}/enqueue", json=SYNC, headers=AUTH).status_code == 503
    behind.stop()
    current = start_worker(upto=schema_version(), state=state)
    assert httpx.post(f"{current.url}/enqueue", json=SYNC, headers=AUTH).status_code == 200
    assert httpx.get(f"{current.url}/health").json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/enqueue", "/connect"])
@pytest.mark.parametrize("version", [0, 4])
def test_a_version_outside_the_window_gets_upstreams_409_body(running_worker, path, version):
    response = httpx.post(f"{running_worker.url}{path}", json={**SYNC, "sync_protocol_version": version}, headers=AUTH)
    body = response.json()
    assert response.status_code == 409
    assert (body["error"], body["sync_protocol_version"], body["min_compat_client_version"]) == ("protocol_version_unsupported", 3, 1)
    assert f"client sync protocol {version}" in body["message"]


@pytest.mark.parametrize("path", ["/enqueue", "/connect"])
@pytest.mark.parametrize("version", [1, 2, 3, None])
def test_every_version_of_the_window_is_accepted_and_a_missing_one_passes(running_worker, path, version):
    body = {**SYNC, "sync_protocol_version": version} if version is not None else {"machine_id": "m-gate", "records": []}
    response = httpx.post(f"{running_worker.url}{path}", json=body, headers=AUTH)
    assert response.status_code == 200, response.text


def test_a_version_that_is_not_a_number_is_400(running_worker):
    response = httpx.post(f"{running_worker.url}/enqueue", json={**SYNC, "sync_protocol_version": "3"}, headers=AUTH)
    assert response.status_code == 400


def test_the_window_is_checked_before_the_schema_gate(start_worker):
    worker = start_worker(upto=schema_version() - 1)
    response = httpx.post(f"{worker.url}/enqueue", json={**SYNC, "sync_protocol_version": 4}, headers=AUTH)
    assert response.status_code == 409
    assert response.json()["error"] == "protocol_version_unsupported"


def test_a_ledger_the_worker_cannot_read_closes_the_gate_with_the_reason(start_worker, tmp_path):
    state = tmp_path / "damaged-ledger"
    database = local_database(state)
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY)")  # no `name` column
    worker = start_worker(upto=0, state=state)
    health = httpx.get(f"{worker.url}/health")
    assert health.status_code == 503
    assert health.json()["status"] == "database_unavailable" and "no such column: name" in health.json()["error"]
    response = httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH)
    assert response.status_code == 503
    assert response.json()["error"].startswith("cannot read the migration ledger d1_migrations (")
