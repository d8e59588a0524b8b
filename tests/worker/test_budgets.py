"""The Worker keeps within the plan's per-invocation budget (D1 queries, a batch counting each
statement; subrequests: Workers AI, Vectorize, KV), which workerd does not enforce. Every Worker
here runs behind worker/dev/counting.mjs, which counts those calls between the Worker and the
runtime and, like the platform, fails a call past the limit (tests/worker/conftest.py).
"""

from __future__ import annotations

import json
import re
import sqlite3

import httpx
import pytest

from infra.bench.worker_load import make_push
from infra.environments import schema_version
from tests.worker.conftest import (
    AUTH,
    DEFERRED,
    budget_vars,
    counted,
    local_database,
    prompt_batch,
    push,
    read_rows,
    run_cron,
    run_in_node,
    scheduled_runs,
    session,
    stored_vectors,
    usage,
)

pytestmark = pytest.mark.workerd

FREE, PAID = 50, 1000


def stored_ids(state, machine_id: str, tables=("sessions", "spores", "plans", "prompt_batches", "entities", "graph_edges")) -> set:
    return {(table, row_id) for table in tables for (row_id,) in read_rows(state, f"SELECT id FROM {table} WHERE machine_id = ?", machine_id)}


@pytest.mark.parametrize("plan, budget", [("free", FREE), ("paid", PAID)])
def test_a_thousand_records_with_one_percent_bad_fit_the_plan(start_worker, tmp_path, plan, budget):
    state = tmp_path / plan
    worker = start_worker(upto=schema_version(), state=state, plan=plan)
    batch = make_push("m-budget", 0, size=1000, bad_every=100)
    response = push(worker, batch.records, "m-budget")
    assert response.status_code == 200, response.text
    answer = response.json()
    spent = counted(response)
    assert spent["d1"] <= budget and spent["subrequests"] <= budget, spent
    # the Worker's own account agrees with what was counted between it and the runtime
    assert int(response.headers["x-hyphae-d1-statements"]) == spent["d1"]
    assert int(response.headers["x-hyphae-subrequests"]) == spent["subrequests"]
    assert {entry["id"]: entry["error"] for entry in answer["rejected"]}.keys() == batch.bad.keys()
    assert all(entry["error"].startswith(batch.bad[entry["id"]]) for entry in answer["rejected"])
    assert (answer["accepted"], answer["dead_lettered"]) == (990, [])
    assert stored_ids(state, "m-budget") == batch.good
    # what the inline drain could not embed within the budget waits in the backlog, never lost
    embedded = sum(1 for table, _ in batch.good if table in ("sessions", "spores", "plans"))
    assert answer["embeddings"]["written"] + answer["embeddings"]["skipped"] == embedded
    assert read_rows(state, "SELECT count(*) FROM team_embed_backlog") == [(answer["embeddings"]["skipped"],)]


def test_a_push_that_cannot_fit_is_refused_whole_so_the_client_resends_it(start_worker, tmp_path):
    state = tmp_path / "tiny"
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(4, plan="free"))
    response = push(worker, [session(f"s-{index}", "m-tiny") for index in range(10)], "m-tiny")
    assert response.status_code == 503
    assert response.json()["error"].startswith("this request needs more D1 queries than one invocation may make")
    assert counted(response)["d1"] <= 4
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(0,)]


def poison(state, title: str = "poison") -> None:
    """A cause D1 refuses for some rows only (a trigger), as a constraint would."""
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute(f"CREATE TRIGGER refuse_poison BEFORE INSERT ON sessions WHEN NEW.title = '{title}' "
                           "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END")


def test_a_failing_batch_is_narrowed_by_bisection_not_retried_record_by_record(start_worker, tmp_path):
    state = tmp_path / "bisect"
    worker = start_worker(upto=schema_version(), state=state)
    poison(state)
    records = [session(f"s-{index:03d}", "m-bisect", title="poison" if index in (17, 140, 233) else f"t{index}") for index in range(300)]
    response = push(worker, records, "m-bisect")
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (300, [])
    assert sorted(entry["id"] for entry in answer["dead_lettered"]) == ["s-017", "s-140", "s-233"]
    assert all(entry["error"] == "D1_ERROR: poisoned row: SQLITE_CONSTRAINT" or "poisoned row" in entry["error"] for entry in answer["dead_lettered"])
    assert read_rows(state, "SELECT count(*) FROM sessions WHERE machine_id = 'm-bisect'") == [(297,)]
    # one query per record (and its job) would be 600; bisection isolates 3 of 300 in a fraction
    assert counted(response)["d1"] < 300 / 2, counted(response)


def test_on_the_free_plan_records_that_cannot_be_isolated_in_time_are_deferred_then_applied_by_the_cron(start_worker, tmp_path):
    state = tmp_path / "deferred"
    worker = start_worker(upto=schema_version(), state=state, plan="free")
    poison(state)
    poisoned = {f"s-{index:04d}" for index in range(5, 1000, 100)}  # 1% of the records
    records = [session(f"s-{index:04d}", "m-defer", title="poison" if f"s-{index:04d}" in poisoned else f"t{index}") for index in range(1000)]
    response = push(worker, records, "m-defer")
    assert response.status_code == 200, response.text
    assert counted(response)["d1"] <= FREE
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (1000, [])
    parked = {entry["id"] for entry in answer["dead_lettered"]}
    written = {row_id for (row_id,) in read_rows(state, "SELECT id FROM sessions")}
    # every record is somewhere durable: written, or parked in team_dlq (accepted, never lost)
    assert written | parked == {record["id"] for record in records} and not written & parked
    assert any(entry["error"].startswith("deferred:") for entry in answer["dead_lettered"])
    for _ in range(40):  # each cron run applies what its own budget allows
        run_cron(worker)
        if read_rows(state, "SELECT count(*) FROM team_dlq WHERE reason LIKE 'deferred:%'") == [(0,)]:
            break
    assert read_rows(state, "SELECT count(*) FROM team_dlq WHERE reason LIKE 'deferred:%'") == [(0,)]
    assert {row_id for (row_id,) in read_rows(state, "SELECT row_id FROM team_dlq")} == poisoned
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(990,)]
    runs = scheduled_runs(worker)
    assert runs and all(run["d1"] <= FREE and run["subrequests"] <= FREE and not run["refused"] and not run["failed"] for run in runs)


def test_the_cron_drains_a_large_backlog_within_the_free_plan_run_after_run(start_worker, tmp_path):
    state = tmp_path / "cron"
    worker = start_worker(upto=schema_version(), state=state, plan="free")
    for batch in range(3):
        assert push(worker, make_push("m-cron", batch, size=100, bad_every=None).records, "m-cron").status_code == 200
    reindex = httpx.post(f"{worker.url}/vectors/reindex", json={}, headers=AUTH)
    assert reindex.status_code == 200 and counted(reindex)["d1"] <= FREE
    queued = reindex.json()["enqueued"]
    assert queued == 150  # sessions, spores and plans: half of the 300 records
    for _ in range(20):
        run_cron(worker)
        if read_rows(state, "SELECT count(*) FROM team_embed_backlog") == [(0,)]:
            break
    assert read_rows(state, "SELECT count(*) FROM team_embed_backlog") == [(0,)]
    assert len(stored_vectors(worker)) == queued
    runs = scheduled_runs(worker)
    assert all(run["d1"] <= FREE and run["subrequests"] <= FREE and not run["refused"] for run in runs)
    assert sum(run["ai"] for run in runs) >= queued / 16  # texts are embedded 16 to a call


def test_a_row_written_later_clears_its_older_dead_letter(start_worker, tmp_path):
    state = tmp_path / "cleared"
    worker = start_worker(upto=schema_version(), state=state)
    poison(state)
    assert push(worker, [session("s-late", "m-clear", title="poison")], "m-clear").json()["dead_lettered"][0]["id"] == "s-late"
    assert push(worker, [session("s-late", "m-clear", title="fixed")], "m-clear").json()["dead_lettered"] == []
    assert read_rows(state, "SELECT count(*) FROM team_dlq") == [(0,)]
    assert read_rows(state, "SELECT title FROM sessions WHERE id = 's-late'") == [("fixed",)]


def test_a_push_naming_many_machines_costs_what_one_machines_does(start_worker, tmp_path):
    state = tmp_path / "machines"
    worker = start_worker(upto=schema_version(), state=state, plan="free")
    records = [session(f"s-{index}", f"m-many-{index % 100}", content_hash=f"h{index}") for index in range(1000)]
    response = push(worker, records, "m-many-0")
    assert response.status_code == 200 and response.json()["accepted"] == 1000
    assert counted(response)["d1"] <= 12, counted(response)  # the lookups and writes are per table, not per machine
    assert read_rows(state, "SELECT count(DISTINCT machine_id), count(*) FROM sessions") == [(100, 1000)]


# --- What writes.js plans to spend: parking a push's records, packing them into batches, and
# deferring what the budget can no longer cover.

@pytest.mark.parametrize("queries, deferred", [(9, False), (8, True)])
def test_a_record_is_written_when_the_budget_covers_it_exactly_and_deferred_with_its_reason_when_not(start_worker, tmp_path,
                                                                                                      queries, deferred):
    """Guards against a write refused when the budget left covers it exactly (deferred instead), and
    against a deferred record's reason cut short (the whole reason is what /dlq lists)."""
    state = tmp_path / f"exact-{queries}"
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(queries))
    # After the gate's query: the row (1), parking it if it failed (3: parkCost), the dead-letter
    # clean-up (1) and the counters kept for the last batch (3): 8 of the 8 left, or of 7.
    response = push(worker, [prompt_batch("pb-exact", "m-exact")], "m-exact")
    assert response.status_code == 200, response.text
    assert counted(response)["d1"] <= queries
    answer = response.json()
    assert answer["accepted"] == 1
    if deferred:
        assert answer["dead_lettered"] == [{"table": "prompt_batches", "id": "pb-exact", "error": DEFERRED}]
        assert read_rows(state, "SELECT reason FROM team_dlq WHERE lease_id = 'prompt_batches:pb-exact:m-exact'") == [(DEFERRED,)]
        assert read_rows(state, "SELECT count(*) FROM prompt_batches") == [(0,)]
    else:
        assert answer["dead_lettered"] == []
        assert read_rows(state, "SELECT id FROM prompt_batches") == [("pb-exact",)]


def test_parking_a_record_near_a_whole_json_parameter_is_planned_as_two_lists(start_worker, tmp_path):
    """Guards against a wrong count of the statements parking may take (parkCost: each row plus
    four keys and its reason, in lists of JSON_PARAMETER_BYTES, two per list and one more): a row
    whose parked entry just overflows one list needs 2 * 2 + 1, and the push is refused naming it."""
    state = tmp_path / "park-cost"
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(4))
    # the row's JSON is about 1,895,800 bytes: with 4 * 1,024 key bytes and 1,100 for the reason,
    # just over JSON_PARAMETER_BYTES (1,900,000), and just under it without the reason's share
    large = prompt_batch("pb-large", "m-large", user_prompt="x" * 1_895_600)
    response = push(worker, [large], "m-large")
    assert response.status_code == 503
    # no lookup (no content hash) + parking (5) + the dead-letter clean-up (1) + the counters (3),
    # against the 3 queries left after the gate
    assert response.json()["error"] == ("this request needs more D1 queries than one invocation may make (9 > 3, "
                                        "hyphae:worker.plan); it was not completed, send it again or in smaller batches")
    assert read_rows(state, "SELECT count(*) FROM prompt_batches") == [(0,)]


def test_large_rows_are_packed_into_batches_of_at_most_eight_megabytes_of_parameters(start_worker, tmp_path):
    """Guards against packing that ignores or underrates the rows' sizes: three rows of 1.5 MB
    (counted twice, as a batch carries each row's JSON and the statement's list) are two batches,
    never one."""
    state = tmp_path / "packing"
    worker = start_worker(upto=schema_version(), state=state)
    records = [prompt_batch(f"pb-big-{index}", "m-big", user_prompt=str(index) * 1_500_000) for index in range(3)]
    response = push(worker, records, "m-big")
    assert response.status_code == 200, response.text
    assert (response.json()["accepted"], response.json()["dead_lettered"]) == (3, [])
    # the gate; two rows (one statement each: a row fills most of a JSON list); the third; the last batch
    assert usage(response) == (4, 1 + 2 + 1 + 1 + 2)
    assert read_rows(state, "SELECT count(*) FROM prompt_batches WHERE length(user_prompt) = 1500000") == [(3,)]


# worker-budget's survivors: budget.js run by node, as the Worker imports it


def budget_in_node(body: str):
    """`body` run by node with budget.js's exports in scope (see run_in_node)."""
    return run_in_node("import { Budget, BudgetExceeded, meteredEnv } from './worker/src/budget.js';", body)


@pytest.mark.parametrize("value, limit", [
    ("unset", FREE), (None, FREE), ("", FREE), ("0", FREE), ("-5", FREE), ("many", FREE), ("1000", PAID), ("7", 7),
])
def test_a_budget_var_unset_or_not_a_positive_integer_is_the_free_plan(value, limit):
    """Guards against an unset, zero, negative or unreadable D1_QUERY_BUDGET / SUBREQUEST_BUDGET
    taken as the limit (no limit at all, or none allowed) rather than the Free plan's 50."""
    env = "{}" if value == "unset" else json.dumps({"D1_QUERY_BUDGET": value, "SUBREQUEST_BUDGET": value})
    assert budget_in_node(f"answer = Budget.fromEnv({env}).limits;") == {"queries": limit, "subrequests": limit}


def test_a_budget_spends_up_to_its_limit_and_refuses_past_it_naming_what_and_how_much():
    """Guards against spend refusing the call that reaches the limit exactly, letting one pass it
    (the check dropped, or the count subtracted), a refused spend counting, and the 503's message
    naming the wrong kind, the wrong sum or losing its advice."""
    answer = budget_in_node("""
        const refused = (budget, kind, count) => {
          try { budget.spend(kind, count); return null; } catch (error) { return [error instanceof BudgetExceeded, error.kind, error.message]; }
        };
        const budget = new Budget({ queries: 3, subrequests: 2 });
        const steps = [refused(budget, "queries", 3), refused(budget, "queries", 1), budget.remaining("queries"),
                       refused(budget, "subrequests"), refused(budget, "subrequests"), refused(budget, "subrequests"),
                       budget.remaining("subrequests"), refused(new Budget({ queries: 3, subrequests: 2 }), "queries", 4)];
        answer = steps;""")
    def message(kind: str, wanted: int, limit: int) -> str:
        return (f"this request needs more {kind} than one invocation may make ({wanted} > {limit}, hyphae:worker.plan); "
                "it was not completed, send it again or in smaller batches")
    assert answer == [
        None, [True, "queries", message("D1 queries", 4, 3)], 0,
        None, None, [True, "subrequests", message("subrequests", 3, 2)],
        0, [True, "queries", message("D1 queries", 4, 3)],
    ]


METERED = {
    "AI": ["run"],
    "MYCO_TEAM_VECTORS": ["upsert", "insert", "deleteByIds", "getByIds", "query", "describe"],
    "MYCO_SECRETS": ["get", "getWithMetadata", "put", "delete", "list"],
}


def test_the_metered_env_spends_a_subrequest_on_every_counted_call_and_exposes_no_other():
    """Guards against a Workers AI, Vectorize or KV method the platform counts left unwrapped (not
    reachable, or a call the budget never sees) and against a binding the Worker lacks appearing in
    the metered env (as a wrapper of nothing, so `env.AI` reads as bound)."""
    answer = budget_in_node(f"""
        const methods = {json.dumps(METERED)};
        const calls = [];
        const binding = (name) => Object.fromEntries([...methods[name], "unmetered"].map((method) => [method, (...args) => {{
          calls.push([name, method, ...args]); return `${{name}}.${{method}}`; }}]));
        const env = {{ AI: binding("AI"), MYCO_TEAM_VECTORS: binding("MYCO_TEAM_VECTORS"), MYCO_SECRETS: binding("MYCO_SECRETS"), PLAN: "paid" }};
        const budget = new Budget({{ queries: 1, subrequests: 100 }});
        const child = meteredEnv(env, budget);
        const exposed = Object.fromEntries(Object.keys(methods).map((name) => [name, Object.keys(child[name]).sort()]));
        const answers = Object.keys(methods).flatMap((name) => methods[name].map((method) => child[name][method]("x", 1)));
        const bare = meteredEnv({{ PLAN: "free" }}, budget);
        answer = [exposed, answers, calls, budget.remaining("subrequests"), child.PLAN,
                  [bare.AI ?? null, bare.MYCO_TEAM_VECTORS ?? null, bare.MYCO_SECRETS ?? null, bare.PLAN]];""")
    exposed, answers, calls, remaining, plan, bare = answer
    assert exposed == {name: sorted(methods) for name, methods in METERED.items()}
    assert answers == [f"{name}.{method}" for name, methods in METERED.items() for method in methods]
    assert calls == [[name, method, "x", 1] for name, methods in METERED.items() for method in methods]
    assert (remaining, plan) == (100 - 12, "paid")
    assert bare == [None, None, None, "free"]


# worker-index's survivors: a refusal over the budget, and a cron run that fails.

def test_a_push_over_the_query_budget_is_a_503_naming_the_budget(start_worker, tmp_path):
    """Guards against the 503 of a push over the invocation's budget losing its `budget` field
    (which budget ran out: the client's cue to send smaller batches)."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "named", extra=budget_vars(4))
    response = push(worker, [session(f"s-{index}", "m-named") for index in range(10)], "m-named")
    body = response.json()
    assert (response.status_code, sorted(body), body["budget"]) == (503, ["budget", "error"], "queries")
    assert re.fullmatch(r"this request needs more D1 queries than one invocation may make \(\d+ > 3, hyphae:worker\.plan\); "
                        r"it was not completed, send it again or in smaller batches", body["error"]), body


def test_a_failing_cron_run_fails_the_scheduled_event_and_logs_why(start_worker, tmp_path):
    """Guards against a cron run's failure swallowed (the platform would count a failed run as a
    success) or logged without the `scheduled run failed` line and its stack."""
    worker = start_worker(upto=0, state=tmp_path / "cron-fails")
    run_cron(worker)
    reason = "Error: database schema is at version 0, this Worker needs version 10; run the migrations"
    assert [run["failed"] for run in scheduled_runs(worker)] == [[reason]]
    worker.stop()
    log = worker.log_path.read_text()
    assert f"scheduled run failed {reason}\n    at requireSchema" in log
