"""The daemon UI's endpoints (reference §3.7): /sync-summary, /queue-stats, /records, /members,
/search, against the Worker on workerd (/rebuild, an operator endpoint, is tested in test_operations.py)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from infra.environments import BINDING_AI, BINDING_VECTORIZE, schema_version
from tests.worker.conftest import (
    AUTH,
    OTHER_PROJECT,
    PROJECT,
    counted,
    enqueue,
    get,
    local_database,
    read_rows,
    record,
    session,
    spore,
    stand_ins,
)

pytestmark = pytest.mark.workerd


def test_sync_summary_counts_every_synced_table_and_this_machines_rows(start_worker, tmp_path):
    worker = start_worker(upto=schema_version(), state=tmp_path / "summary")
    enqueue(worker, [session("s1", "m-a"), spore("sp1", "m-a"), spore("sp2", "m-a", status="superseded")], "m-a")
    enqueue(worker, [session("s1", "m-b")], "m-b")
    body = get(worker, "/sync-summary", machine_id="m-a")
    assert len(body["tables"]) == 19 and body["total_records"] == 4
    assert (body["tables"]["sessions"], body["machine_tables"]["sessions"], body["machine_tables"]["spores"]) == (2, 1, 2)
    assert (body["vector_count"], body["vector_index_healthy"], body["embeddable_count"]) == (1, True, 1)
    assert "machine_tables" not in get(worker, "/sync-summary")


def test_queue_stats_count_what_the_answers_said(start_worker, tmp_path):
    worker = start_worker(upto=schema_version(), state=tmp_path / "stats")
    enqueue(worker, [session("s1", "m-q", content_hash="h1"), session("s2", "m-q"), {**session("bad", "m-q"), "table": "nope"}], "m-q")
    enqueue(worker, [session("s1", "m-q", content_hash="h1")], "m-q")
    stats = get(worker, "/queue-stats")
    assert (stats["enqueued"], stats["accepted"], stats["rejected"], stats["unchanged"], stats["processed"], stats["failed"]) == (4, 3, 1, 1, 3, 1)
    assert (stats["backlog"], stats["dead_lettered"], stats["dropped_fields"]) == (0, 0, {})


def test_queue_stats_of_a_new_team_show_every_field_empty(start_worker, tmp_path):
    """Guards against /queue-stats leaving out a field (or the embedding backlog's counts) while the
    stats row is still empty, or before a push's last_run_at is written."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "stats-empty")
    assert get(worker, "/queue-stats") == {
        "enqueued": 0, "processed": 0, "failed": 0, "backlog": 0, "last_run_at": None, "last_error": None,
        "embed_ok": 0, "embed_failed": 0, "last_embed_error": None, "last_embed_at": None,
        "accepted": 0, "rejected": 0, "unchanged": 0, "dead_lettered": 0,
        "embed_backlog": {"jobs": 0, "retrying": 0, "oldest_queued_at_ms": None}, "dropped_fields": {},
    }
    enqueue(worker, [session("s-run", "m-run")], "m-run")
    assert isinstance(get(worker, "/queue-stats")["last_run_at"], int)


def test_a_record_is_read_back_by_table_and_id(running_worker):
    enqueue(running_worker, [spore("sp-read", "m-read", content="read me")], "m-read")
    body = get(running_worker, "/records/spores/sp-read")
    assert (body["record"]["content"], body["record"]["machine_id"], body["record"]["table"]) == ("read me", "m-read", "spores")
    assert get(running_worker, "/records/spores/sp-read", machine_id="m-other", expect=404) == {"error": "not_found"}
    assert get(running_worker, "/records/nodes/x", expect=400)["error"] == "Unknown record type: nodes"


def test_members_are_listed_and_a_departed_machine_removed(running_worker):
    members = [record("team_members", machine, machine, project_id=None, user=machine, role="member") for machine in ("m-mem1", "m-mem2")]
    for member in members:
        enqueue(running_worker, [member], member["machine_id"])
    listed = {member["machine_id"] for member in get(running_worker, "/members")["members"]}
    assert {"m-mem1", "m-mem2"} <= listed
    assert httpx.delete(f"{running_worker.url}/members/m-mem1", headers=AUTH).json() == {"removed": 1}
    assert "m-mem1" not in {member["machine_id"] for member in get(running_worker, "/members")["members"]}


def test_search_ranks_by_meaning_hydrates_from_d1_and_applies_the_filters(start_worker, tmp_path):
    worker = start_worker(upto=schema_version(), state=tmp_path / "search")
    enqueue(worker, [
        spore("sp-d1", "m-s", content="batch writes to the D1 database"),
        spore("sp-cat", "m-s", content="the cat sat on the mat", observation_type="gotcha"),
        spore("sp-other", "m-s", content="batch writes to the D1 database", project_id=OTHER_PROJECT),
        session("s-d1", "m-s", summary="we discussed D1 batch writes"),
    ], "m-s")
    results = get(worker, "/search", q="D1 batch writes")["results"]
    assert {result["id"] for result in results[:3]} == {"sp-d1", "sp-other", "s-d1"}
    hydrated = next(result for result in results if result["id"] == "sp-d1")
    assert (hydrated["table"], hydrated["machine_id"], hydrated["data"]["content"]) == ("spores", "m-s", "batch writes to the D1 database")
    scoped = get(worker, "/search", q="D1 batch writes", project_id=PROJECT, tables="spores")["results"]
    assert {result["id"] for result in scoped} == {"sp-d1", "sp-cat"}
    assert [result["id"] for result in get(worker, "/search", q="cat", observation_type="gotcha")["results"]] == ["sp-cat"]
    assert get(worker, "/search", q="cat", limit=1, tables="sessions")["results"][0]["id"] == "s-d1"
    assert get(worker, "/search", expect=400)["error"] == 'Missing query parameter "q"'


def test_a_record_path_that_is_not_valid_percent_encoding_is_400(running_worker):
    response = httpx.get(f"{running_worker.url}/records/spores/%E0%A4%A", headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "the path is not valid percent-encoding"


def test_sync_summary_without_vectorize_says_so_and_reads_the_machine_id_trimmed(start_worker, tmp_path):
    """Guards against /sync-summary failing, or reporting a healthy index, when Vectorize is not
    bound, and against a machine_id sent with spaces around it (or blank) read as another machine."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "summary-unbound", extra={"serviceWorkers": [], "serviceBindings": {}})
    enqueue(worker, [session("s1", "m-a", summary="a finished session with a summary", status="completed"), session("s2", "m-b")], "m-a")
    body = get(worker, "/sync-summary", machine_id="  m-a  ")
    assert body["embeddable_count"] == 1, "a session counts whatever its status: only spores are filtered on it"
    assert (body["vector_count"], body["vector_index_healthy"], body["vector_index_error"]) == (None, False, "Vectorize is not bound")
    assert (body["machine_id"], body["machine_tables"]["sessions"], body["total_records"]) == ("m-a", 1, 2)
    assert (body["schema_version"], body["sync_protocol_version"]) == (schema_version(), 3)
    assert "machine_tables" not in get(worker, "/sync-summary", machine_id="   ")


def test_a_record_is_read_for_the_machine_asked_and_a_table_not_keyed_by_id_is_refused(running_worker):
    """Guards against /records answering another machine's row when one is asked for, and against
    reading entity_mentions (rows keyed by more than an id) by id."""
    for machine in ("m-one", "m-two"):
        enqueue(running_worker, [spore("sp-shared", machine, content=f"{machine}'s")], machine)
    for machine in ("m-one", "m-two"):
        assert get(running_worker, "/records/spores/sp-shared", machine_id=machine)["record"]["content"] == f"{machine}'s"
    assert get(running_worker, "/records/entity_mentions/x", expect=400)["error"] == "Unknown record type: entity_mentions"


def test_sync_summary_reports_an_index_that_answers_an_error_as_unhealthy_with_the_error(start_worker, tmp_path):
    """Guards against /sync-summary failing, or reporting a healthy index, when Vectorize is bound
    but its describe() fails (here: the binding reaches a service that has no such method)."""
    options = stand_ins()
    options["serviceBindings"] = {**options["serviceBindings"], BINDING_VECTORIZE: options["serviceBindings"][BINDING_AI]}
    worker = start_worker(upto=schema_version(), state=tmp_path / "summary-broken-index", extra=options)
    body = get(worker, "/sync-summary")
    assert (body["vector_count"], body["vector_index_healthy"]) == (None, False)
    assert "describe" in body["vector_index_error"], body["vector_index_error"]


def test_removing_a_member_with_a_blank_machine_id_is_refused_naming_the_field(running_worker):
    """Guards against DELETE /members/<blank> answering an error that does not name machine_id."""
    response = httpx.delete(f"{running_worker.url}/members/%20", headers=AUTH, timeout=30)
    assert (response.status_code, response.json()["error"]) == (400, "machine_id is required (a non-empty string)")


def test_a_summary_of_all_machines_spends_no_per_machine_count(running_worker):
    """Guards against /sync-summary without a machine_id still running the per-machine count query
    (one D1 query more on every call of the daemon UI)."""
    mine, everyone = (httpx.get(f"{running_worker.url}/sync-summary", params=params, headers=AUTH, timeout=30)
                      for params in ({"machine_id": "m-any"}, {}))
    assert "machine_tables" in mine.json() and "machine_tables" not in everyone.json()
    assert counted(everyone)["d1"] == counted(mine)["d1"] - 1


# worker-index's survivors: the error envelope of a failure the Worker did not foresee.

def test_a_failing_d1_call_is_a_500_with_the_first_300_characters_of_its_reason_and_logged(start_worker, tmp_path):
    """Guards against a D1 failure answered as anything but 500 `internal error: <reason>` (a 503
    naming no budget, an empty or uncut message), and against the operator's log losing the line
    `unhandled error` with the stack."""
    state = tmp_path / "failing-delete"
    worker = start_worker(upto=schema_version(), state=state)
    reason = "refused " + "x" * 600
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute(f"CREATE TRIGGER refuse_delete BEFORE DELETE ON team_members BEGIN SELECT RAISE(ABORT, '{reason}'); END")
        connection.execute("INSERT INTO team_members (id, machine_id, user, role) VALUES ('m-fail', 'm-fail', 'u', 'member')")
    response = httpx.delete(f"{worker.url}/members/m-fail", headers=AUTH, timeout=30)
    assert (response.status_code, response.json()) == (500, {"error": "internal error: " + f"D1_ERROR: {reason}"[:300]})
    assert read_rows(state, "SELECT machine_id FROM team_members") == [("m-fail",)]
    worker.stop()
    log = worker.log_path.read_text()
    assert f"unhandled error Error: D1_ERROR: {reason}" in log
    assert "at async handleRemoveMember (" in log
