"""The operator endpoints and the cron run (worker/src/operations.js, reference §3.7) against the
Worker on workerd: GET /dlq, POST /dlq/retry and /dlq/discard, POST /vectors/reindex, POST
/rebuild, and the scheduled run that applies deferred records and drains the embedding backlog.

Dead letters are parked straight in D1 (as writes.js parks them) where a test needs a payload the
Worker would not park itself; the cron is run through workerd's scheduled handler."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from infra.environments import schema_version
from tests.worker.conftest import (
    AUTH,
    DEFERRED,
    FAIL_ONCE,
    PROJECT,
    budget_vars,
    enqueue,
    get,
    local_database,
    plan_vars,
    prompt_batch,
    push,
    read_rows,
    run_cron,
    scheduled_runs,
    session,
    spore,
    stand_ins,
    stored_vectors,
    vector_id,
)

pytestmark = pytest.mark.workerd


def park(state, lease_id: str, payload: str, created_at: int = 1, reason: str = "D1_ERROR: refused") -> None:
    """A team_dlq entry written straight to D1, as writes.js parks one (its payload as given)."""
    table, row_id, machine_id = lease_id.split(":")
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute("INSERT INTO team_dlq (lease_id, table_name, row_id, machine_id, operation, payload, reason, created_at) "
                           "VALUES (?, ?, ?, ?, 'upsert', ?, ?, ?)", (lease_id, table, row_id, machine_id, payload, reason, created_at))


def parked_session(record_id: str, machine_id: str, content_hash: str | None = None, **data) -> str:
    """A session's payload as writes.js parks it (parkedPayload): the envelope and the row's data."""
    entry = session(record_id, machine_id, content_hash=content_hash, **data)
    return json.dumps({"table": "sessions", "id": record_id, "machine_id": machine_id, "operation": "upsert", "content_hash": content_hash,
                       "data": {key: value for key, value in entry["data"].items() if key not in ("id", "machine_id")}})


# --- The dead letters: GET /dlq, POST /dlq/retry, POST /dlq/discard.

def test_a_retried_dead_letter_is_stored_once_the_cause_is_gone(start_worker, tmp_path):
    state = tmp_path / "dlq-retry"
    worker = start_worker(upto=schema_version(), state=state)
    with sqlite3.connect(local_database(state)) as connection:  # a cause D1 refuses, removable later
        connection.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON sessions WHEN NEW.title = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END")
    assert enqueue(worker, [session("s-poison", "m-r", title="poison")], "m-r")["dead_lettered"][0]["error"].startswith("D1_ERROR: poisoned row")
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute("DROP TRIGGER refuse_poison")
    retried = httpx.post(f"{worker.url}/dlq/retry", json={"lease_ids": ["sessions:s-poison:m-r"]}, headers=AUTH).json()
    assert (retried["retried"], retried["failed"]) == (1, [])
    assert read_rows(state, "SELECT title FROM sessions WHERE id = 's-poison'") == [("poison",)]
    assert get(worker, "/dlq")["messages"] == []


@pytest.mark.parametrize("route", ["retry", "discard"])
@pytest.mark.parametrize("body, status, error", [
    ({}, 400, "lease_ids array is required"),
    ({"lease_ids": "sessions:s1:m1"}, 400, "lease_ids array is required"),
    ({"lease_ids": []}, 400, "lease_ids array is required"),
    ({"lease_ids": [42, None, ["sessions:s1:m1"]]}, 400, "lease_ids array is required"),
    ({"lease_ids": [f"sessions:s{index}:m1" for index in range(1001)]}, 413, "at most 1000 lease_ids per request"),
], ids=["left-out", "a-string", "empty", "no-strings", "1001"])
def test_a_dlq_request_without_lease_ids_or_with_too_many_is_refused_whole(running_worker, route, body, status, error):
    """Guards against /dlq/retry and /dlq/discard reading a missing, empty or non-string lease_ids
    list as one to act on (answering 200 for nothing), against the 1,000-id limit dropped, and
    against their error messages emptied."""
    response = httpx.post(f"{running_worker.url}/dlq/{route}", json=body, headers=AUTH, timeout=60)
    assert (response.status_code, response.json()) == (status, {"error": error})


def test_a_dlq_request_of_exactly_1000_lease_ids_is_served(running_worker):
    """Guards against the lease_ids limit off by one: 1,000 ids (MAX_LEASE_IDS) are one request."""
    body = {"lease_ids": [f"sessions:s{index}:m-none" for index in range(1000)]}
    response = httpx.post(f"{running_worker.url}/dlq/discard", json=body, headers=AUTH, timeout=60)
    assert (response.status_code, response.json()) == (200, {"discarded": 0})


def test_dlq_lists_the_newest_entries_first_up_to_the_limit_asked(start_worker, tmp_path):
    """Guards against GET /dlq ignoring ?limit= (always its default of 50)."""
    state = tmp_path / "dlq-limit"
    worker = start_worker(upto=schema_version(), state=state)
    for index in range(3):
        park(state, f"sessions:s-list-{index}:m-list", parked_session(f"s-list-{index}", "m-list"), created_at=10 + index)
    assert [entry["lease_id"] for entry in get(worker, "/dlq", limit=2)["messages"]] == ["sessions:s-list-2:m-list", "sessions:s-list-1:m-list"]
    assert len(get(worker, "/dlq")["messages"]) == 3


def test_a_retry_reports_the_entries_it_cannot_read_keeps_them_and_stores_the_rest(start_worker, tmp_path):
    """Guards against /dlq/retry failing whole (500) or passing over in silence a parked entry whose
    payload is not JSON or that the contract now rejects: each is reported in `refused` with its
    reason and stays parked, while the readable entries are stored and leave team_dlq; and against
    a retry of entries that are all unreadable, or not there, answering anything but zeros."""
    state = tmp_path / "dlq-refused"
    worker = start_worker(upto=schema_version(), state=state)
    park(state, "sessions:s-garbled:m-ret", "{not json")
    park(state, "sessions:s-colour:m-ret", json.dumps({"table": "colours", "id": "s-colour", "machine_id": "m-ret", "operation": "upsert", "data": {}}))
    park(state, "sessions:s-good:m-ret", parked_session("s-good", "m-ret"))
    refused = [{"lease_id": "sessions:s-colour:m-ret", "error": "Unknown table: colours"},
               {"lease_id": "sessions:s-garbled:m-ret", "error": "Expected property name or '}' in JSON at position 1 (line 1 column 2)"}]
    for lease_ids, answer in [(["sessions:s-missing:m-ret"], {"retried": 0, "failed": [], "refused": []}),
                              (["sessions:s-garbled:m-ret", "sessions:s-colour:m-ret"], {"retried": 0, "failed": [], "refused": refused}),
                              (["sessions:s-garbled:m-ret", "sessions:s-colour:m-ret", "sessions:s-good:m-ret"],
                               {"retried": 1, "failed": [], "refused": refused})]:
        response = httpx.post(f"{worker.url}/dlq/retry", json={"lease_ids": lease_ids}, headers=AUTH, timeout=60)
        assert response.status_code == 200, response.text
        assert {**response.json(), "refused": sorted(response.json()["refused"], key=lambda entry: entry["lease_id"])} == answer
    assert read_rows(state, "SELECT lease_id FROM team_dlq ORDER BY lease_id") == [("sessions:s-colour:m-ret",), ("sessions:s-garbled:m-ret",)]
    assert read_rows(state, "SELECT id, title FROM sessions") == [("s-good", "t-s-good")]


def test_a_retried_entry_whose_row_already_holds_its_content_leaves_the_dead_letters(running_worker, worker_state):
    """Guards against /dlq/retry leaving parked an entry that needs no write (the stored row already
    has its content hash): only written rows are cleared with the writes, so the retry's own
    clean-up must take it out, else it is retried for ever."""
    enqueue(running_worker, [session("s-same", "m-same", content_hash="h-same")], "m-same")
    park(worker_state, "sessions:s-same:m-same", parked_session("s-same", "m-same", content_hash="h-same"))
    response = httpx.post(f"{running_worker.url}/dlq/retry", json={"lease_ids": ["sessions:s-same:m-same"]}, headers=AUTH, timeout=60)
    assert (response.status_code, response.json()) == (200, {"retried": 1, "failed": [], "refused": []})
    assert read_rows(worker_state, "SELECT count(*) FROM team_dlq WHERE lease_id = 'sessions:s-same:m-same'") == [(0,)]


def test_a_retried_entry_whose_payload_is_not_an_object_is_refused_and_kept(running_worker, worker_state):
    """Guards against /dlq/retry failing whole with a 500 on a parked payload that is JSON but not
    an object (a hand-edited row): it is refused like any record that is not an object."""
    park(worker_state, "sessions:s-null:m-null", "null")
    response = httpx.post(f"{running_worker.url}/dlq/retry", json={"lease_ids": ["sessions:s-null:m-null"]}, headers=AUTH, timeout=60)
    assert (response.status_code, response.json()) == (200, {"retried": 0, "failed": [], "refused": [
        {"lease_id": "sessions:s-null:m-null", "error": "a record must be a JSON object"}]})
    assert read_rows(worker_state, "SELECT payload FROM team_dlq WHERE lease_id = 'sessions:s-null:m-null'") == [("null",)]


@pytest.mark.parametrize("budget", [6, 7])
def test_a_retry_the_query_budget_cannot_cover_is_refused_whole_before_it_writes(start_worker, tmp_path, budget):
    """Guards against /dlq/retry planning its writes without the query that clears team_dlq (the
    retry then starts writing with one query too few and fails half-way): one entry needs the gate,
    the read of the entry and 5 more (parking it again if need be, the clean-ups); with a query less
    it is refused whole, naming both numbers, the entry left as it was."""
    state = tmp_path / f"retry-budget-{budget}"
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(budget))
    park(state, "sessions:s-budget:m-budget", parked_session("s-budget", "m-budget"))
    response = httpx.post(f"{worker.url}/dlq/retry", json={"lease_ids": ["sessions:s-budget:m-budget"]}, headers=AUTH, timeout=60)
    lease = "sessions:s-budget:m-budget"
    if budget == 6:
        assert (response.status_code, response.json()) == (503, {
            "error": "this request needs more D1 queries than one invocation may make (5 > 4, hyphae:worker.plan); "
                     "it was not completed, send it again or in smaller batches", "budget": "queries"})
        assert read_rows(state, "SELECT lease_id, reason, replay_count FROM team_dlq") == [(lease, "D1_ERROR: refused", 0)]
    else:  # enough to start; too few to write it on its own: parked again, for the cron
        assert (response.status_code, response.json()) == (200, {"retried": 0, "failed": [{"lease_id": lease}], "refused": []})
        assert read_rows(state, "SELECT lease_id, reason, replay_count FROM team_dlq") == [(lease, DEFERRED, 1)]
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(0,)]


# --- POST /vectors/reindex and POST /rebuild.

@pytest.mark.parametrize("body, error", [
    ({"table": "prompt_batches"}, "Unknown table: prompt_batches"),
    ({"table": ["spores"]}, "Unknown table: spores"),
    ({"table": "t" * 100}, "Unknown table: " + "t" * 64),
    ({"table": "constructor"}, "Unknown table: constructor"),
])
def test_a_reindex_of_a_table_without_embeddings_is_refused_naming_it(running_worker, body, error):
    """Guards against /vectors/reindex taking a table that is not a string (an array naming an
    embedded table) or has no embeddings (a name every object inherits, like "constructor", once
    passed the check and failed as a 500 "no such table"), and against its message emptied or
    echoing a long name whole (cut to 64 characters)."""
    response = httpx.post(f"{running_worker.url}/vectors/reindex", json=body, headers=AUTH, timeout=60)
    assert (response.status_code, response.json()) == (400, {"error": error})


def test_a_reindex_or_a_rebuild_may_be_sent_without_a_body(start_worker, tmp_path):
    """Guards against POST /vectors/reindex refusing a request without a body (its body is
    optional: every embedded table), against the reindex leaving an older error in
    vector_reindex_last_error, and against POST /rebuild without a body answered with anything
    but the 400 naming machine_id."""
    state = tmp_path / "no-body"
    worker = start_worker(upto=schema_version(), state=state)
    enqueue(worker, [spore("sp-nobody", "m-nobody")], "m-nobody")
    reindex = httpx.post(f"{worker.url}/vectors/reindex", headers=AUTH, timeout=60)
    assert reindex.status_code == 200, reindex.text
    assert (reindex.json()["enqueued"], reindex.json()["by_table"]["spores"]) == (1, 1)
    config = get(worker, "/config")["config"]
    assert (config["vector_reindex_status"], config["vector_reindex_last_error"]) == ("queued", "")
    rebuild = httpx.post(f"{worker.url}/rebuild", headers=AUTH, timeout=60)
    assert (rebuild.status_code, rebuild.json()) == (400, {"error": "machine_id is required (a non-empty string)"})
    assert read_rows(state, "SELECT count(*) FROM spores") == [(1,)]


def test_rebuild_deletes_only_that_machines_rows_and_then_its_vectors(start_worker, tmp_path):
    state = tmp_path / "rebuild"
    worker = start_worker(upto=schema_version(), state=state)
    enqueue(worker, [spore("sp-1", "m-rb"), session("s-1", "m-rb")], "m-rb")
    enqueue(worker, [spore("sp-1", "m-keep")], "m-keep")
    answer = httpx.post(f"{worker.url}/rebuild", json={"machine_id": "m-rb"}, headers=AUTH).json()
    assert (answer["ok"], answer["deleted"]["spores"], answer["deleted"]["sessions"], answer["truncated_tables"]) == (True, 1, 1, 19)
    assert read_rows(state, "SELECT machine_id FROM spores") == [("m-keep",)]
    assert get(worker, "/queue-stats")["backlog"] == 2  # one job per deleted row of an embedded table
    httpx.get(f"{worker.url}/cdn-cgi/handler/scheduled", timeout=60)
    assert set(stored_vectors(worker)) == {vector_id("spores", "sp-1", "m-keep")}
    assert httpx.post(f"{worker.url}/rebuild", json={}, headers=AUTH).status_code == 400


# --- The cron run (runScheduled): what it applies, how far it drains within its budgets, and
# the vector_reindex_* keys it leaves.

def add_rows_and_jobs(state, spores: dict[str, str], gone: list[str], machine_id: str = "m-cron") -> None:
    """Spores written straight to D1 (never embedded inline) and an embedding job for each, and
    jobs for rows that are not there (the cron removes their vectors)."""
    with sqlite3.connect(local_database(state)) as connection:
        connection.executemany("INSERT INTO spores (id, machine_id, agent_id, observation_type, content, created_at, project_id) "
                               "VALUES (?, ?, 'a', 'decision', ?, 1, ?)", [(row_id, machine_id, text, PROJECT) for row_id, text in spores.items()])
        connection.executemany("INSERT INTO team_embed_backlog (table_name, row_id, machine_id, queued_at) VALUES ('spores', ?, ?, 1)",
                               [(row_id, machine_id) for row_id in [*spores, *gone]])


def reindex_keys(worker) -> dict:
    config = get(worker, "/config")["config"]
    return {key.removeprefix("vector_reindex_"): value for key, value in config.items()
            if key.startswith("vector_reindex_") and key != "vector_reindex_last_run_at"}


def test_a_cron_run_drains_in_rounds_until_done_or_stuck_and_records_what_it_did(start_worker, tmp_path):
    """Guards against the cron stopping after its first round of 100 jobs, or going on after a
    round that finished nothing (a failing job retried within the run); against the counts it
    leaves in vector_reindex_* (processed, reindexed, deleted) summed wrongly or subtracted; against
    the status "running" emptied, the last error dropped or set when there is none; against a run
    that only deleted as many vectors as it wrote leaving no record; and against an idle run
    rewriting the keys."""
    state = tmp_path / "cron-rounds"
    worker = start_worker(upto=schema_version(), state=state, extra=stand_ins(FAIL_MARKER=FAIL_ONCE, FAIL_ATTEMPTS="3"))
    add_rows_and_jobs(state, {}, [f"sp-gone-{index:03d}" for index in range(150)])
    run_cron(worker)  # two rounds: 100 jobs, then 50
    assert read_rows(state, "SELECT count(*) FROM team_embed_backlog") == [(0,)]
    assert reindex_keys(worker) == {"status": "idle", "last_processed": "150", "last_reindexed": "0", "last_deleted": "150", "last_error": ""}

    # a job written, one removed, one failing in two rounds (the second finishes nothing, so the
    # run stops; the stand-in fails its text three times: a batched call and its one-by-one retry,
    # then the second round's call): it stays queued with its error
    add_rows_and_jobs(state, {"sp-ok": "a spore that embeds", "sp-flaky": f"flaky {FAIL_ONCE}"}, ["sp-gone-a"])
    run_cron(worker)
    [(attempts, error)] = read_rows(state, "SELECT attempts, last_error FROM team_embed_backlog WHERE row_id = 'sp-flaky'")
    assert (attempts, error) == (2, "embedding failed: InferenceUpstreamError: 3030: the stand-in model failed for this text (FAIL_MARKER)")
    assert reindex_keys(worker) == {"status": "running", "last_processed": "4", "last_reindexed": "1", "last_deleted": "1", "last_error": error}

    add_rows_and_jobs(state, {}, ["sp-gone-b"])
    run_cron(worker)  # the flaky one written, one more removed
    assert read_rows(state, "SELECT count(*) FROM team_embed_backlog") == [(0,)]
    done = reindex_keys(worker)
    assert done == {"status": "idle", "last_processed": "2", "last_reindexed": "1", "last_deleted": "1", "last_error": ""}
    last_run = get(worker, "/config")["config"]["vector_reindex_last_run_at"]
    run_cron(worker)  # nothing to do: the keys stay as they were
    assert (reindex_keys(worker), get(worker, "/config")["config"]["vector_reindex_last_run_at"]) == (done, last_run)


def test_a_cron_run_short_of_queries_for_the_deferred_records_leaves_them_for_the_next_run_and_says_so(start_worker, tmp_path):
    """Guards against the cron applying deferred records without keeping its own closing queries
    (the run then fails over the budget, or the keys are never written), against a BudgetExceeded
    there failing the whole run or passing without the log line saying the records wait. With 11
    queries a run applies them (with 10 it can afford only to park them again: writes.js)."""
    state = tmp_path / "cron-deferred"
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(8))
    assert push(worker, [prompt_batch("pb-wait", "m-wait")], "m-wait").json()["dead_lettered"][0]["error"] == DEFERRED
    worker.stop()
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(9))
    run_cron(worker)
    [run] = scheduled_runs(worker)
    assert (run["refused"], run["failed"]) == (None, [])
    assert read_rows(state, "SELECT count(*) FROM team_dlq") == [(1,)]
    worker.stop()
    assert ("cron: deferred records wait for the next run: this request needs more D1 queries than one invocation may make "
            "(8 > 7, hyphae:worker.plan); it was not completed, send it again or in smaller batches\n") in worker.log_path.read_text()
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(11))
    run_cron(worker)
    [run] = scheduled_runs(worker)
    assert (run["refused"], run["failed"]) == (None, [])
    assert (read_rows(state, "SELECT count(*) FROM team_dlq"), read_rows(state, "SELECT id FROM prompt_batches")) == ([(0,)], [("pb-wait",)])


def test_a_d1_failure_while_applying_the_deferred_records_fails_the_cron_run(start_worker, tmp_path):
    """Guards against the cron swallowing an error other than its budget running out while it
    applies the deferred records (the platform would count a run that did not happen as a success)."""
    state = tmp_path / "cron-deferred-fails"
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(8))
    assert push(worker, [prompt_batch("pb-stuck", "m-stuck")], "m-stuck").json()["dead_lettered"][0]["error"] == DEFERRED
    worker.stop()
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute("CREATE TRIGGER keep_dlq BEFORE DELETE ON team_dlq BEGIN SELECT RAISE(ABORT, 'team_dlq is read-only'); END")
    worker = start_worker(upto=schema_version(), state=state)
    run_cron(worker)
    assert [run["failed"] for run in scheduled_runs(worker)] == [["Error: D1_ERROR: team_dlq is read-only: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_TRIGGER)"]]
    assert read_rows(state, "SELECT lease_id FROM team_dlq") == [("prompt_batches:pb-stuck:m-stuck",)]


@pytest.mark.parametrize("budget, queries, status", [({"D1_QUERY_BUDGET": "5"}, 4, "running"), ({"SUBREQUEST_BUDGET": "4"}, 8, "running")],
                         ids=["queries", "ai-calls"])
def test_a_cron_run_reads_no_more_of_the_backlog_once_a_budget_cannot_cover_a_round(start_worker, tmp_path, budget, queries, status):
    """Guards against the cron reading the backlog again (a D1 query for nothing, or past the
    budget) when fewer queries are left than a round and its closing need, or when its Workers AI
    calls are spent; and against a run that did nothing while jobs wait leaving no status."""
    state = tmp_path / "cron-budget"
    worker = start_worker(upto=schema_version(), state=state, extra={"vars": {**plan_vars("paid"), **budget}})
    add_rows_and_jobs(state, {f"sp-{index:02d}": f"spore {index}" for index in range(40)}, [])
    run_cron(worker)
    [run] = scheduled_runs(worker)
    assert (run["d1"], run["refused"], run["failed"]) == (queries, None, [])
    assert get(worker, "/config")["config"]["vector_reindex_status"] == status


def test_a_cron_run_whose_failures_are_all_made_good_in_later_rounds_records_them(start_worker, tmp_path):
    """Guards against the cron's "nothing happened" check summing its counts wrongly (failed
    subtracted): a run as many of whose embeddings failed as it finished, all made good by later
    rounds, left no record of itself. The stand-in fails each marked text twice: b fails with the
    first call and on its own; c and d on their own, then c with the second round's call, then d on
    its own: 4 failures, 4 vectors written, over three rounds."""
    state = tmp_path / "cron-made-good"
    worker = start_worker(upto=schema_version(), state=state, extra=stand_ins(FAIL_MARKER=FAIL_ONCE))
    add_rows_and_jobs(state, {"sp-a": "plain a", **{f"sp-{name}": f"{name} {FAIL_ONCE}" for name in "bcd"}}, [])
    run_cron(worker)
    assert read_rows(state, "SELECT count(*) FROM team_embed_backlog") == [(0,)]
    assert reindex_keys(worker) == {"status": "idle", "last_processed": "8", "last_reindexed": "4", "last_deleted": "0", "last_error": ""}
