"""The team key during a rotation (docs/credentials.md), over HTTP against workerd: the previous key
works until its expiry and not after, each machine's generation is recorded (never the key), and
the MCP token's creation and rotations are recorded with its fingerprint (never the token)."""

from __future__ import annotations

import datetime
import sqlite3

import httpx
import pytest

from infra.environments import schema_version
from infra.local.runtime import start_local_worker
from infra.local.smoke import client_token_hash
from tests.worker.conftest import apply_migrations, local_database, plan_vars, read_rows, stand_ins

pytestmark = pytest.mark.workerd

CURRENT, PREVIOUS, OTHER = "current-key-6f0d2b9c1e7a4853", "previous-key-3a8e5c7d9b1f2046", "unknown-key-0000000000000"
UTC = datetime.timezone.utc


def instant(offset: datetime.timedelta) -> str:
    return (datetime.datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def keys(generation: int | str | None = 3, previous: str | None = PREVIOUS, expires: str | None = None) -> dict[str, str]:
    bindings = {"MYCO_TEAM_API_KEY": CURRENT}
    if generation is not None:
        bindings["MYCO_TEAM_AUTH_GENERATION"] = str(generation)
    if previous is not None:
        bindings["MYCO_TEAM_API_KEY_PREVIOUS"] = previous
    if expires is not None:
        bindings["MYCO_TEAM_AUTH_PREVIOUS_EXPIRES"] = expires
    return bindings


@pytest.fixture
def worker_with(worker_artifact, tmp_path):
    """Start a Worker over a migrated database with the given team key bindings."""
    started = []

    def start(bindings: dict[str, str]):
        state = tmp_path / f"state-{len(started)}"
        apply_migrations(state, schema_version())
        worker = start_local_worker(worker_artifact, key_bindings=bindings, state=state, extra_options=stand_ins())
        worker.state = state
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def push(worker, key: str, machine_id: str) -> httpx.Response:
    return httpx.post(f"{worker.url}/enqueue", json={"machine_id": machine_id, "sync_protocol_version": 3, "records": []},
                      headers={"authorization": f"Bearer {key}"}, timeout=30)


def connect(worker, key: str, machine_id: str) -> httpx.Response:
    return httpx.post(f"{worker.url}/connect", json={"machine_id": machine_id, "sync_protocol_version": 3},
                      headers={"authorization": f"Bearer {key}"}, timeout=30)


def generations(worker) -> dict[str, int | None]:
    return dict(read_rows(worker.state, "SELECT machine_id, team_key_generation FROM nodes"))


def test_during_the_window_both_keys_work_and_each_machine_is_recorded_with_its_generation(worker_with):
    worker = worker_with(keys(expires=instant(datetime.timedelta(days=7))))

    assert connect(worker, CURRENT, "m-new").status_code == 200
    assert push(worker, PREVIOUS, "m-old").status_code == 200, "a machine that never connected is registered by its push"
    assert push(worker, OTHER, "m-stranger").status_code == 401
    assert generations(worker) == {"m-new": 3, "m-old": 2}

    assert push(worker, CURRENT, "m-old").status_code == 200, "the teammate re-joined with the new key"
    assert generations(worker)["m-old"] == 3


@pytest.mark.parametrize("expires, why", [
    ("a second ago", "the window ended a second ago: refused by the Worker's clock, no deploy needed"),
    (None, "no expiry: a window fails closed"),
    ("next tuesday", "an unreadable expiry fails closed"),
])
def test_outside_the_window_the_previous_key_is_refused_and_the_current_one_works(worker_with, expires, why):
    if expires == "a second ago":  # computed here, not at collection: every xdist worker collects the same ids
        expires = instant(-datetime.timedelta(seconds=1))
    worker = worker_with(keys(expires=expires))

    refused = push(worker, PREVIOUS, "m-old")
    assert refused.status_code == 401, why
    assert refused.json() == {"error": "invalid team API key"}, "the refusal does not say the key was once valid"
    assert push(worker, CURRENT, "m-new").status_code == 200
    assert generations(worker) == {"m-new": 3}


def test_a_machine_seen_with_the_previous_key_keeps_that_generation_until_it_switches(worker_with):
    worker = worker_with(keys(expires=instant(datetime.timedelta(hours=1))))
    assert connect(worker, PREVIOUS, "m-old").status_code == 200
    assert httpx.get(f"{worker.url}/queue-stats", headers={"authorization": f"Bearer {PREVIOUS}"}).status_code == 200
    assert generations(worker) == {"m-old": 2}, "routes without a machine id leave the record as it was"


@pytest.mark.parametrize("generation", [None, "0", "-2", "two"])
def test_without_a_positive_generation_no_machine_is_given_one(worker_with, generation):
    """Guards against a made-up generation recorded (0, or -1 for the previous key) when the Worker's
    MYCO_TEAM_AUTH_GENERATION is unset or not a positive integer: both keys still work, and
    the generation is recorded as unknown."""
    worker = worker_with(keys(generation=generation, expires=instant(datetime.timedelta(days=1))))
    assert connect(worker, CURRENT, "m-new").status_code == 200
    assert push(worker, PREVIOUS, "m-old").status_code == 200
    assert generations(worker) == {"m-new": None, "m-old": None}


def test_an_empty_previous_key_opens_no_window(worker_artifact, tmp_path):
    """Guards against an empty MYCO_TEAM_API_KEY_PREVIOUS taken for a key during its window: a bearer
    token that is blank once trimmed (a non-breaking space) would match it."""
    state = tmp_path / "empty-previous"
    apply_migrations(state, schema_version())
    window = {"MYCO_TEAM_AUTH_GENERATION": "3", "MYCO_TEAM_AUTH_PREVIOUS_EXPIRES": instant(datetime.timedelta(days=1)),
              "MYCO_TEAM_API_KEY_PREVIOUS": ""}  # a plain variable: an empty secret is never bound locally
    worker = start_local_worker(worker_artifact, key_bindings={"MYCO_TEAM_API_KEY": CURRENT}, state=state,
                                extra_options={**stand_ins(), "vars": {**plan_vars("paid"), **window}})
    worker.state = state
    try:
        refused = httpx.post(f"{worker.url}/enqueue", json={"machine_id": "m-blank", "sync_protocol_version": 3, "records": []},
                             headers={"authorization": b"Bearer \xc2\xa0"}, timeout=30)
        assert refused.status_code == 401, refused.text
        assert push(worker, CURRENT, "m-new").status_code == 200
        assert generations(worker) == {"m-new": 3}
    finally:
        worker.stop()


def test_no_key_is_stored_in_the_database_or_the_log(worker_with):
    worker = worker_with(keys(expires=instant(datetime.timedelta(days=1))))
    connect(worker, CURRENT, "m-new")
    push(worker, PREVIOUS, "m-old")
    push(worker, OTHER, "m-x")
    httpx.post(f"{worker.url}/mcp/rotate", headers={"authorization": f"Bearer {CURRENT}"}, timeout=30)
    worker.stop()

    database = local_database(worker.state).read_bytes()
    log = worker.log_path.read_text()
    for key in (CURRENT, PREVIOUS, OTHER):
        assert key.encode() not in database and key not in log


def test_the_mcp_token_is_recorded_when_created_and_rotated_by_its_fingerprint_only(worker_with):
    worker = worker_with(keys(expires=instant(datetime.timedelta(days=1))))
    first = connect(worker, PREVIOUS, "m-old").json()["mcp_token"]
    rotated = httpx.post(f"{worker.url}/mcp/rotate", headers={"authorization": f"Bearer {CURRENT}",
                                                             "x-hyphae-actor": ("invoke rotate (ops@laptop) \u00e9" + "x" * 200).encode("latin-1")}, timeout=30)
    assert rotated.status_code == 200
    answer = rotated.json()
    assert answer["mcp_token_hash"] == client_token_hash(answer["token"]) != client_token_hash(first)
    assert httpx.get(f"{worker.url}/health").json()["mcp_token_hash"] == answer["mcp_token_hash"]

    events = read_rows(worker.state, "SELECT credential, action, fingerprint, team_key_generation, actor, at "
                                     "FROM team_credential_events ORDER BY id")
    assert [row[:5] for row in events] == [
        ("mcp_token", "created", client_token_hash(first), 2, None),
        ("mcp_token", "rotated", answer["mcp_token_hash"], 3, ("invoke rotate (ops@laptop) " + "x" * 200)[:120]),
    ]
    assert events[1][5] == answer["rotated_at"]
    connection = sqlite3.connect(f"file:{local_database(worker.state)}?mode=ro", uri=True)
    try:
        dumped = "\n".join(connection.iterdump())
    finally:
        connection.close()
    assert first not in dumped and answer["token"] not in dumped, "the tokens live in KV only"
