"""The schema gate and the client protocol window (reference §2: 1 to 3 accepted, upstream's 409
body outside). The gate is open only when the ledger holds exactly the migrations the Worker was
built with (names and checksums, none missing), optionally followed by later ones `invoke migrate`
applied without a gap; otherwise /enqueue answers 503 (the client resends) and /health says why."""

from __future__ import annotations

import shutil
import sqlite3

import httpx
import pytest

from infra.environments import schema_version
from infra.history.files import read_migrations
from infra.history.sumfile import write_sum
from infra.paths import DEFAULT_MIGRATIONS_DIR, STATE_DIR_VARIABLE
from infra.runner.apply import MigrateOptions, run_migrate
from tests.worker.conftest import TEAM_KEY, local_database, plan_vars, read_rows, session, unreadable_ledger_state

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
    """Guards against the reason on /health losing what an operator needs when the schema is behind:
    how many migrations are applied and which one is next."""
    built = schema_version()
    next_name = read_migrations(DEFAULT_MIGRATIONS_DIR)[built - 1].name
    worker = start_worker(upto=built - 1)
    for _ in range(2):
        body = httpx.get(f"{worker.url}/health").json()
        assert body["status"] == "schema_behind"
        assert (body["schema_version"], body["schema_version_applied"]) == (built, built - 1)
        assert body["schema_reason"] == (f"the database has {built - 1} of the {built} migrations this Worker was "
                                         f"built with; run the migrations (next: {next_name})")


def test_an_empty_database_reports_version_zero(start_worker):
    """Guards against a database with no ledger at all (never migrated) judged a mismatch rather than
    behind by all of the Worker's migrations, starting at the first."""
    built = schema_version()
    first = read_migrations(DEFAULT_MIGRATIONS_DIR)[0].name
    worker = start_worker(upto=0)
    response = httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH)
    body = response.json()
    assert response.status_code == 503
    assert (body["schema_version_applied"], body["schema_state"]) == (0, "behind"), body
    assert body["schema_reason"] == (f"the database has 0 of the {built} migrations this Worker was built with; "
                                     f"run the migrations (next: {first})")


def test_the_gate_opens_once_the_database_is_migrated(start_worker, tmp_path):
    state = tmp_path / "gate-state"
    behind = start_worker(upto=schema_version() - 1, state=state)
    assert httpx.post(f"{behind.url}/enqueue", json=SYNC, headers=AUTH).status_code == 503
    behind.stop()
    current = start_worker(upto=schema_version(), state=state)
    assert httpx.post(f"{current.url}/enqueue", json=SYNC, headers=AUTH).status_code == 200
    health = httpx.get(f"{current.url}/health").json()
    assert (health["status"], health["schema_state"]) == ("ok", "current"), "exactly the Worker's migrations: current, not ahead"


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


@pytest.mark.parametrize("version, shown", [
    ("3", 'a string "3"'), ("3" * 40, f'a string "{"3" * 16}"'), (3.5, "a number"), (True, "a boolean"), ([3], "an array"),
])
def test_a_version_that_is_not_an_integer_is_400_saying_what_it_is(running_worker, version, shown):
    """Guards against a wrongly typed version's 400 not saying what was sent (or quoting a long string whole)."""
    response = httpx.post(f"{running_worker.url}/enqueue", json={**SYNC, "sync_protocol_version": version}, headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"error": f"sync_protocol_version must be an integer (the client sends 3), not {shown}"}


def test_the_window_is_checked_before_the_schema_gate(start_worker):
    worker = start_worker(upto=schema_version() - 1)
    response = httpx.post(f"{worker.url}/enqueue", json={**SYNC, "sync_protocol_version": 4}, headers=AUTH)
    assert response.status_code == 409
    assert response.json()["error"] == "protocol_version_unsupported"


def worker_without(start_worker, state, variable: str):
    """A Worker over a migrated database whose vars lack `variable`."""
    unset = {name: value for name, value in plan_vars("paid").items() if name != variable}
    return start_worker(upto=schema_version(), state=state, extra={"vars": unset})


def test_a_worker_without_its_expected_schema_version_keeps_the_gate_closed(start_worker, tmp_path):
    """Guards against the schema gate open when the expected schema version (MYCO_SCHEMA_VERSION) is unset."""
    state = tmp_path / "no-schema-version"
    worker = worker_without(start_worker, state, "MYCO_SCHEMA_VERSION")
    for path in ("/enqueue", "/connect"):
        response = httpx.post(f"{worker.url}{path}", json={**SYNC, "records": [session("s-unset", "m-gate")]}, headers=AUTH)
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "MYCO_SCHEMA_VERSION is not set on this Worker"
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(0,)]
    assert read_rows(state, "SELECT count(*) FROM nodes") == [(0,)]
    health = httpx.get(f"{worker.url}/health").json()
    assert (health["status"], health["schema_version"]) == ("schema_behind", None)


def test_a_worker_without_its_protocol_version_refuses_versioned_pushes_with_503(start_worker, tmp_path):
    """Guards against a Worker whose SYNC_PROTOCOL_VERSION is unset answering a client with a 409 that
    blames the client's version (or accepting it) instead of a 503 naming the variable."""
    state = tmp_path / "no-protocol-version"
    worker = worker_without(start_worker, state, "SYNC_PROTOCOL_VERSION")
    for path in ("/enqueue", "/connect"):
        response = httpx.post(f"{worker.url}{path}", json={**SYNC, "records": [session("s-unset", "m-gate")]}, headers=AUTH)
        assert response.status_code == 503, response.text
        assert response.json() == {"error": "SYNC_PROTOCOL_VERSION is not set on this Worker"}
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(0,)]


def test_without_a_minimum_the_window_is_the_server_version_alone(start_worker, tmp_path):
    """Guards against a Worker without MIN_COMPAT_CLIENT_VERSION accepting clients older than its own
    protocol (upstream's rule: a missing minimum equals the server version)."""
    worker = worker_without(start_worker, tmp_path / "no-minimum", "MIN_COMPAT_CLIENT_VERSION")
    health = httpx.get(f"{worker.url}/health").json()
    assert (health["sync_protocol_version"], health["min_compat_client_version"]) == (3, 3)
    refused = httpx.post(f"{worker.url}/enqueue", json={**SYNC, "sync_protocol_version": 2}, headers=AUTH)
    assert refused.status_code == 409, refused.text
    assert refused.json()["message"] == "client sync protocol 2 is outside the window this Worker accepts (3 to 3)"
    assert httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH).status_code == 200


@pytest.mark.parametrize("path", ["/enqueue", "/connect"])
def test_a_null_version_passes_like_a_missing_one(running_worker, path):
    """Guards against a `sync_protocol_version: null` refused as a wrongly typed version: upstream
    checks the version only when it is there, and JSON null is its absence."""
    response = httpx.post(f"{running_worker.url}{path}", json={**SYNC, "sync_protocol_version": None}, headers=AUTH)
    assert response.status_code == 200, response.text


def test_a_ledger_the_worker_cannot_read_closes_the_gate_with_the_reason(start_worker, tmp_path):
    state = unreadable_ledger_state(tmp_path / "damaged-ledger")
    worker = start_worker(upto=0, state=state)
    health = httpx.get(f"{worker.url}/health")
    assert health.status_code == 503
    # /health answers anyone: it says the database did not answer, never D1's own words
    assert health.json()["status"] == "database_unavailable" and "no such column" not in health.text
    response = httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH)
    assert response.status_code == 503
    assert response.json()["error"].startswith("cannot read the migration ledger d1_migrations (")


def edit_ledger(state, *statements: str) -> None:
    with sqlite3.connect(local_database(state)) as connection:
        for sql in statements:
            connection.execute(sql)


NEXT = schema_version() + 1  # the first migration after the ones the Worker is built with

# What the database's ledger is made to hold, and the start of what the gate says about it.
LEDGER_DAMAGE = {
    "a migration missing before a later one": (
        ["DELETE FROM d1_migrations WHERE name LIKE '0005_%'", "DELETE FROM hyphae_migrations WHERE name LIKE '0005_%'"],
        "the ledger lacks 0005_embed_stats_and_dlq_replays.sql but has 0006_text_ids.sql after it"),
    "a stray row far ahead": (
        ["INSERT INTO d1_migrations (name) VALUES ('9999_bogus.sql')",
         "INSERT INTO hyphae_migrations (name, sha256, run_id, applied_by) VALUES ('9999_bogus.sql', 'ab', 'r', 'me')"],
        f"the ledger has 9999_bogus.sql, which is not migration {NEXT:04d}"),
    "a next migration without a checksum": (
        [f"INSERT INTO d1_migrations (name) VALUES ('{NEXT:04d}_by_hand.sql')"],
        f"the ledger has {NEXT:04d}_by_hand.sql, which is not migration {NEXT:04d} applied by `invoke migrate`"),
    "an edited migration": (
        ["UPDATE hyphae_migrations SET sha256 = 'edited' WHERE name LIKE '0003_%'"],
        "0003_project_scoping.sql was applied with another checksum than this Worker was built with"),
    "a row wrangler wrote": (
        ["DELETE FROM hyphae_migrations WHERE name LIKE '0002_%'"],
        "0002_skills.sql was recorded without a checksum (applied by wrangler?)"),
    "a ledger wrangler alone wrote (no hyphae_migrations)": (
        ["DROP TABLE hyphae_migrations"],
        "0001_initial.sql was recorded without a checksum (applied by wrangler?)"),
    "a stray row between two migrations": (
        ["INSERT INTO d1_migrations (name) VALUES ('0004_zz_stray.sql')",
         "INSERT INTO hyphae_migrations (name, sha256, run_id, applied_by) VALUES ('0004_zz_stray.sql', 'ab', 'r', 'me')"],
        "the ledger has 0004_zz_stray.sql where this Worker expects 0005_embed_stats_and_dlq_replays.sql"),
    "a stray row whose name is 64 characters, shown whole": (
        ["INSERT INTO d1_migrations (name) VALUES ('9999_" + "n" * 55 + ".sql')"],
        "the ledger has 9999_" + "n" * 55 + ".sql, which is not migration"),
    "a stray row whose name is longer, cut at 64 characters": (
        ["INSERT INTO d1_migrations (name) VALUES ('9999_" + "n" * 56 + ".sql')"],
        "the ledger has 9999_" + "n" * 56 + ".sq\u2026, which is not migration"),
}


@pytest.mark.parametrize("damage", LEDGER_DAMAGE)
def test_the_gate_is_closed_unless_the_ledger_holds_exactly_the_workers_migrations(start_worker, tmp_path, damage):
    statements, reason = LEDGER_DAMAGE[damage]
    state = tmp_path / "ledger"
    worker = start_worker(upto=schema_version(), state=state)
    assert httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH).status_code == 200
    edit_ledger(state, *statements)
    response = httpx.post(f"{worker.url}/enqueue", json={**SYNC, "records": [session("s-gate", "m-gate")]}, headers=AUTH)
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["schema_state"] == "mismatch" and body["schema_reason"].startswith(reason), body
    assert body["error"].startswith("the database's migrations are not the ones this Worker was built with: ")
    health = httpx.get(f"{worker.url}/health")
    assert health.status_code == 503
    assert (health.json()["status"], health.json()["schema_state"]) == ("schema_mismatch", "mismatch")
    assert health.json()["schema_reason"].startswith(reason)
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(0,)]


def test_a_hyphae_ledger_the_worker_cannot_read_is_not_taken_for_a_wrangler_one(start_worker, tmp_path):
    """Guards against a damaged hyphae_migrations (D1 cannot read its checksums) read as if wrangler had
    applied every migration: the gate cannot judge it, so it says the ledger is unreadable."""
    state = tmp_path / "damaged-checksums"
    worker = start_worker(upto=schema_version(), state=state)
    edit_ledger(state, "ALTER TABLE hyphae_migrations RENAME COLUMN sha256 TO digest")
    response = httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH)
    assert response.status_code == 503, response.text
    assert response.json()["error"].startswith("cannot read the migration ledger d1_migrations (")
    assert "sha256" in response.json()["error"]


def test_later_migrations_keep_the_gate_open_only_while_they_continue_the_numbering(start_worker, tmp_path):
    """Guards against the gate judging only the first migration after the Worker's own: each later one
    must follow the one before it."""
    state = tmp_path / "two-later"
    worker = start_worker(upto=schema_version(), state=state)

    def add(version: int) -> None:
        name = f"{version:04d}_later_{version}.sql"
        edit_ledger(state, f"INSERT INTO d1_migrations (name) VALUES ('{name}')",
                    f"INSERT INTO hyphae_migrations (name, sha256, run_id, applied_by) VALUES ('{name}', 'ab', 'r', 'me')")

    add(NEXT)
    add(NEXT + 1)
    health = httpx.get(f"{worker.url}/health").json()
    assert (health["status"], health["schema_state"], health["schema_version_applied"]) == ("ok", "ahead", NEXT + 1)
    add(NEXT + 3)
    response = httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH)
    assert response.status_code == 503, response.text
    assert response.json()["schema_reason"].startswith(f"the ledger has {NEXT + 3:04d}_later_{NEXT + 3}.sql, which is not migration {NEXT + 2:04d}")


def test_a_database_ahead_of_the_worker_through_invoke_migrate_keeps_the_gate_open(start_worker, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, folder)
    later = f"{schema_version() + 1:04d}_node_notes.sql"
    (folder / later).write_text("ALTER TABLE nodes ADD COLUMN note TEXT;\n")
    write_sum(folder, read_migrations(folder))
    state = tmp_path / "ahead"
    worker = start_worker(upto=schema_version(), state=state)
    with pytest.MonkeyPatch.context() as patch:  # the expand-only migration a newer Worker needs, applied first
        patch.setenv(STATE_DIR_VARIABLE, str(state))
        run_migrate("local", folder, MigrateOptions())
    health = httpx.get(f"{worker.url}/health").json()
    assert (health["status"], health["schema_state"], health["schema_version_applied"]) == ("ok", "ahead", schema_version() + 1)
    answer = httpx.post(f"{worker.url}/enqueue", json={**SYNC, "records": [session("s-ahead", "m-gate")]}, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    assert read_rows(state, "SELECT id FROM sessions") == [("s-ahead",)]


@pytest.mark.parametrize("name", [f"x{NEXT:04d}_later.sql", f"{NEXT:04d}_later.sql.bak"])
def test_a_later_row_named_like_a_migration_only_in_part_closes_the_gate(start_worker, tmp_path, name):
    """Guards against the migration-name pattern matching anywhere in a name: a later row with text
    before its number or after `.sql` (with a checksum, numbered as the next one) taken for a migration."""
    state = tmp_path / "partial-name"
    worker = start_worker(upto=schema_version(), state=state)
    edit_ledger(state, f"INSERT INTO d1_migrations (name) VALUES ('{name}')",
                f"INSERT INTO hyphae_migrations (name, sha256, run_id, applied_by) VALUES ('{name}', 'ab', 'r', 'me')")
    response = httpx.post(f"{worker.url}/enqueue", json=SYNC, headers=AUTH)
    assert response.status_code == 503, response.text
    assert response.json()["schema_reason"].startswith(f"the ledger has {name}, which is not migration {NEXT:04d} ")
