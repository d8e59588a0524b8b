"""POST /enqueue over HTTP against workerd: what `accepted` and `rejected` promise (reference §3.3, §7).

`accepted` must mean durably in D1 when the answer is sent (these tests read the D1 file right
after the answer); `rejected` only what can never succeed, echoing table and id exactly as sent.
"""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from infra.environments import schema_version
from tests.worker.conftest import (
    AUTH,
    DEFERRED,
    OTHER_PROJECT,
    PROJECT,
    budget_vars,
    enqueue,
    get,
    local_database,
    prompt_batch,
    push,
    read_rows,
    record,
    session,
    spore,
    usage,
)

pytestmark = pytest.mark.workerd


def test_accepted_records_are_in_d1_when_the_answer_is_sent(running_worker, worker_state):
    answer = enqueue(running_worker, [session("s-durable", "m-durable"), spore("sp-durable", "m-durable")], "m-durable")
    assert (answer["accepted"], answer["rejected"]) == (2, [])
    rows = read_rows(worker_state, "SELECT id, machine_id, title, project_id, synced_at FROM sessions WHERE machine_id = 'm-durable'")
    assert rows[0][:4] == ("s-durable", "m-durable", "t-s-durable", PROJECT) and rows[0][4] is not None
    assert read_rows(worker_state, "SELECT content FROM spores WHERE machine_id = 'm-durable'") == [("use D1 batch writes",)]


@pytest.mark.parametrize("bad, error", [
    ({"table": "colours", "id": "c1", "operation": "upsert", "data": {"project_id": PROJECT}}, "Unknown table: colours"),
    ({**session("s-noproj"), "data": {"agent": "a", "started_at": 1, "created_at": 1}}, "Invalid project_id: expected proj_<32 hex chars>, got undefined"),
    ({**session("s-path"), "data": {"project_id": "/home/me/repo"}}, 'Invalid project_id: expected proj_<32 hex chars>, got "/home/me/repo"'),
    ({**session("s-upper"), "data": {"project_id": "proj_" + "A" * 32}}, "Invalid project_id"),
    ({**session("s-op"), "operation": "embed"}, 'operation must be "upsert" or "delete", not "embed"'),
    ({**session("s-noid"), "id": None}, "id must be a non-empty string"),
    ({**session("s-list"), "data": [1, 2]}, "data must be a JSON object"),
    ({**session("s-raw"), "data": {"__raw": "{not json"}}, "the client could not read this row's stored payload (__raw)"),
])
def test_a_record_that_can_never_succeed_is_rejected_alone_echoing_table_and_id(running_worker, worker_state, bad, error):
    answer = enqueue(running_worker, [session("s-before", "m-reject"), bad, session("s-after", "m-reject")], "m-reject")
    assert answer["accepted"] == 2
    [rejected] = answer["rejected"]
    assert (rejected["table"], rejected["id"]) == (bad["table"], bad["id"])
    assert rejected["error"].startswith(error)
    stored = read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = 'm-reject' ORDER BY id")
    assert ("s-before",) in stored and ("s-after",) in stored and (bad["id"],) not in stored


def test_deletes_carry_the_project_id_check_too_and_team_members_need_none(running_worker, worker_state):
    member = record("team_members", "m-team", "m-team", project_id=None, user="m-team", role="member", joined="2026-01-02T03:04:05Z")
    bad_delete = record("sessions", "s-x", "m-team", "delete", project_id=None)
    answer = enqueue(running_worker, [member, bad_delete], "m-team")
    assert answer["accepted"] == 1
    assert answer["rejected"][0]["id"] == "s-x"
    assert read_rows(worker_state, 'SELECT id, "user", joined FROM team_members WHERE machine_id = ?', "m-team") == [("m-team", "m-team", "2026-01-02T03:04:05Z")]


def test_embedded_is_dropped_and_a_field_outside_the_contract_is_dropped_and_counted(running_worker, worker_state):
    before = get(running_worker, "/queue-stats")["dropped_fields"].get("spores.mood", 0)
    answer = enqueue(running_worker, [spore("sp-new", "m-newer", mood="curious"), spore("sp-new2", "m-newer", mood="calm")], "m-newer")
    assert (answer["accepted"], answer["rejected"], answer["dropped_fields"]) == (2, [], {"spores.mood": 2})
    assert read_rows(worker_state, "SELECT count(*) FROM spores WHERE machine_id = 'm-newer'") == [(2,)]
    stats = get(running_worker, "/queue-stats")
    assert stats["dropped_fields"]["spores.mood"] == before + 2
    assert "spores.embedded" not in stats["dropped_fields"]


def test_the_protocol_3_tables_and_the_thread_fields_are_stored(running_worker, worker_state):
    records = [
        record("skill_lineage", "sklin_1", "m-p3", skill_id="skill_1", generation=2, action="revise", created_at=5),
        record("okf_generations", "okfgen_1", "m-p3", generation=1, status="draft", plan="{}", created_at=5, updated_at=5),
        record("okf_pages", "okfpage_1", "m-p3", path="a.md", type="note", created_at=5, updated_at=5),
        record("okf_page_revisions", "okfrev_1", "m-p3", page_id="okfpage_1", page_generation=1, bundle_generation_id="okfgen_1",
               action="create", body="# a", created_at=5),
        record("prompt_batches", "pbat_thread", "m-p3", session_id="s1", created_at=5, thread_id="thr_1", thread_label="side quest"),
    ]
    answer = enqueue(running_worker, records, "m-p3")
    assert (answer["accepted"], answer["rejected"], answer["dead_lettered"], answer["dropped_fields"]) == (5, [], [], {})
    for table in ("skill_lineage", "okf_generations", "okf_pages", "okf_page_revisions"):
        assert read_rows(worker_state, f"SELECT count(*) FROM {table} WHERE machine_id = 'm-p3'") == [(1,)], table
    assert read_rows(worker_state, "SELECT thread_id, thread_label FROM prompt_batches WHERE id = 'pbat_thread'") == [("thr_1", "side quest")]


def test_ids_are_stored_as_the_exact_strings_the_client_sent(running_worker, worker_state):
    records = [record("prompt_batches", batch_id, "m-ids", session_id="s1", created_at=1, parent_prompt_batch_id=7)
               for batch_id in ("123", "0042", "pbat_0123456789abcdef0123456789abcdef")]
    records.append(record("digest_extracts", "99", "m-ids", agent_id="a", tier=1, content="c", generated_at=1))
    assert enqueue(running_worker, records, "m-ids")["accepted"] == 4
    stored = read_rows(worker_state, "SELECT id, typeof(id) FROM prompt_batches WHERE machine_id = 'm-ids' ORDER BY id")
    assert stored == [("0042", "text"), ("123", "text"), ("pbat_0123456789abcdef0123456789abcdef", "text")]
    assert read_rows(worker_state, "SELECT id, typeof(id) FROM digest_extracts WHERE machine_id = 'm-ids'") == [("99", "text")]


def test_the_envelope_decides_identity_not_the_local_columns_in_data(running_worker, worker_state):
    legacy = session("s-envelope", "m-envelope")
    legacy["data"].update({"id": "something-else", "machine_id": "local"})
    assert enqueue(running_worker, [legacy], "m-envelope")["accepted"] == 1
    assert read_rows(worker_state, "SELECT id, machine_id FROM sessions WHERE id = 's-envelope'") == [("s-envelope", "m-envelope")]


def test_an_unchanged_content_hash_is_not_rewritten_and_a_changed_one_is(running_worker, worker_state):
    enqueue(running_worker, [session("s-hash", "m-hash", content_hash="h1", title="first")], "m-hash")
    again = enqueue(running_worker, [session("s-hash", "m-hash", content_hash="h1", title="ignored")], "m-hash")
    assert (again["accepted"], again["unchanged"]) == (1, 1)
    changed = enqueue(running_worker, [session("s-hash", "m-hash", content_hash="h2", title="second")], "m-hash")
    assert (changed["accepted"], changed["unchanged"]) == (1, 0)
    assert read_rows(worker_state, "SELECT title FROM sessions WHERE machine_id = 'm-hash'") == [("second",)]


def test_a_batch_far_above_100_bound_parameters_is_written_whole(running_worker, worker_state):
    # 250 sessions of ~12 columns: 3,000 values. The local D1 refuses a 101st bound parameter like
    # D1 does (test_d1_limits.py): the rows travel as one JSON parameter, never one per value.
    records = [session(f"bulk-{index:03d}", "m-bulk", content_hash=f"h-{index}") for index in range(250)]
    answer = enqueue(running_worker, records, "m-bulk")
    assert (answer["accepted"], answer["rejected"], answer["dead_lettered"]) == (250, [], [])
    assert read_rows(worker_state, "SELECT count(*) FROM sessions WHERE machine_id = 'm-bulk'") == [(250,)]
    assert enqueue(running_worker, records, "m-bulk")["unchanged"] == 250


def test_deletes_remove_only_the_named_rows_of_that_machine(running_worker, worker_state):
    enqueue(running_worker, [session("keep", "m-del"), session("drop1", "m-del"), session("drop2", "m-del")], "m-del")
    enqueue(running_worker, [session("drop1", "m-del-other")], "m-del-other")
    answer = enqueue(running_worker, [record("sessions", "drop1", "m-del", "delete"), record("sessions", "drop2", "m-del", "delete"),
                                      record("sessions", "never-there", "m-del", "delete")], "m-del")
    assert (answer["accepted"], answer["rejected"]) == (3, [])
    assert read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = 'm-del'") == [("keep",)]
    assert read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = 'm-del-other'") == [("drop1",)]


def test_records_for_one_row_count_in_request_order(running_worker, worker_state):
    enqueue(running_worker, [session("recreated", "m-order"), session("removed", "m-order")], "m-order")
    answer = enqueue(running_worker, [record("sessions", "recreated", "m-order", "delete"), session("recreated", "m-order", title="again"),
                                      session("removed", "m-order"), record("sessions", "removed", "m-order", "delete")], "m-order")
    assert (answer["accepted"], answer["rejected"]) == (4, [])
    assert read_rows(worker_state, "SELECT id, title FROM sessions WHERE machine_id = 'm-order'") == [("recreated", "again")]


def test_entity_mentions_upsert_and_delete_by_their_unique_key(running_worker, worker_state):
    mention = {"entity_id": "e1", "note_id": "n1", "note_type": "spore", "agent_id": "a1", "project_id": PROJECT}
    upsert = {"table": "entity_mentions", "operation": "upsert", "machine_id": "m-mention", "data": mention}
    assert enqueue(running_worker, [upsert, upsert], "m-mention")["accepted"] == 2
    assert read_rows(worker_state, "SELECT count(*) FROM entity_mentions WHERE machine_id = 'm-mention'") == [(1,)]
    assert enqueue(running_worker, [{**upsert, "operation": "delete"}], "m-mention")["accepted"] == 1
    assert read_rows(worker_state, "SELECT count(*) FROM entity_mentions WHERE machine_id = 'm-mention'") == [(0,)]


def test_entity_mentions_belong_to_the_machine_that_pushed_them(running_worker, worker_state):
    mention = {"entity_id": "e7", "note_id": "n7", "note_type": "spore", "agent_id": "a1", "project_id": PROJECT}
    for machine in ("m-mention-a", "m-mention-b"):
        upsert = {"table": "entity_mentions", "operation": "upsert", "machine_id": machine, "data": mention}
        assert enqueue(running_worker, [upsert], machine)["accepted"] == 1
    owners = "SELECT machine_id FROM entity_mentions WHERE entity_id = 'e7' ORDER BY machine_id"
    assert read_rows(worker_state, owners) == [("m-mention-a",), ("m-mention-b",)]  # b did not take a's row over
    delete = {"table": "entity_mentions", "operation": "delete", "machine_id": "m-mention-b", "data": mention}
    assert enqueue(running_worker, [delete], "m-mention-b")["accepted"] == 1
    assert read_rows(worker_state, owners) == [("m-mention-a",)]  # and b's delete left a's row alone


def test_a_record_d1_refuses_is_dead_lettered_durably_and_its_batch_mates_are_written(running_worker, worker_state):
    no_agent = session("s-no-agent", "m-dlq")
    del no_agent["data"]["agent"]  # sessions.agent is NOT NULL in D1
    answer = enqueue(running_worker, [session("s-fine", "m-dlq"), no_agent, session("s-fine2", "m-dlq")], "m-dlq")
    assert (answer["accepted"], answer["rejected"]) == (3, [])
    [parked] = answer["dead_lettered"]
    assert (parked["table"], parked["id"]) == ("sessions", "s-no-agent") and "NOT NULL" in parked["error"]
    assert read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = 'm-dlq' ORDER BY id") == [("s-fine",), ("s-fine2",)]
    [listed] = [message for message in get(running_worker, "/dlq")["messages"] if message["machine_id"] == "m-dlq"]
    assert (listed["lease_id"], listed["table_name"], listed["row_id"], listed["operation"]) == ("sessions:s-no-agent:m-dlq", "sessions", "s-no-agent", "upsert")
    retried = httpx.post(f"{running_worker.url}/dlq/retry", json={"lease_ids": [listed["lease_id"]]}, headers=AUTH).json()
    assert (retried["retried"], retried["failed"]) == (0, [{"lease_id": "sessions:s-no-agent:m-dlq"}])
    discarded = httpx.post(f"{running_worker.url}/dlq/discard", json={"lease_ids": [listed["lease_id"]]}, headers=AUTH).json()
    assert discarded == {"discarded": 1}
    assert [m for m in get(running_worker, "/dlq")["messages"] if m["machine_id"] == "m-dlq"] == []


def test_when_even_the_dead_letter_write_fails_the_answer_is_a_5xx_so_the_client_resends(start_worker, tmp_path):
    state = tmp_path / "broken"
    worker = start_worker(upto=schema_version(), state=state)
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute("CREATE TRIGGER refuse_all BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
        connection.execute("CREATE TRIGGER refuse_dlq BEFORE INSERT ON team_dlq BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
    response = httpx.post(f"{worker.url}/enqueue", json={"machine_id": "m-b", "sync_protocol_version": 3, "records": [session("s-b", "m-b")]}, headers=AUTH)
    assert response.status_code >= 500
    assert "accepted" not in response.json()
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(0,)]


def test_protocol_1_daemons_push_to_sync_and_read_their_answer_shape(running_worker, worker_state):
    body = {"machine_id": "m-v1", "sync_protocol_version": 1, "records": [session("s-v1", "m-v1"), {**session("bad", "m-v1"), "table": "nope"}]}
    response = httpx.post(f"{running_worker.url}/sync", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"synced": 1, "skipped": 0, "errors": [{"table": "nope", "id": "bad", "error": "Unknown table: nope"}]}
    assert read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = 'm-v1'") == [("s-v1",)]


def test_a_protocol_1_resend_of_unchanged_records_is_skipped_not_synced(running_worker):
    """Guards against /sync counting unchanged records as synced: `synced` is what was accepted
    less what was unchanged, `skipped` the unchanged ones."""
    records = [session("s-v1-same", "m-v1-same", content_hash="h-same"), session("s-v1-new", "m-v1-same", content_hash="h-new")]
    body = {"machine_id": "m-v1-same", "sync_protocol_version": 1, "records": records[:1]}
    assert httpx.post(f"{running_worker.url}/sync", json=body, headers=AUTH).json() == {"synced": 1, "skipped": 0, "errors": []}
    response = httpx.post(f"{running_worker.url}/sync", json={**body, "records": records}, headers=AUTH)
    assert response.json() == {"synced": 1, "skipped": 1, "errors": []}


@pytest.mark.parametrize("records, status, message", [
    ("x", 400, "records must be an array, not a string"),
    ([session(f"s-over-{index}", "m-over") for index in range(1001)], 413, "at most 1000 records per request"),
])
def test_a_malformed_or_oversized_batch_is_refused_whole(running_worker, worker_state, records, status, message):
    response = httpx.post(f"{running_worker.url}/enqueue", json={"machine_id": "m-over", "records": records}, headers=AUTH, timeout=60)
    assert response.status_code == status
    assert response.json()["error"].startswith(message)
    assert read_rows(worker_state, "SELECT count(*) FROM sessions WHERE machine_id = 'm-over'") == [(0,)]


def test_a_body_that_is_not_json_is_400(running_worker):
    assert httpx.post(f"{running_worker.url}/enqueue", content=b"{nope", headers=AUTH).status_code == 400


def test_other_projects_rows_are_kept_apart(running_worker, worker_state):
    enqueue(running_worker, [session("s-p1", "m-proj"), session("s-p2", "m-proj", project_id=OTHER_PROJECT)], "m-proj")
    assert read_rows(worker_state, "SELECT id, project_id FROM sessions WHERE machine_id = 'm-proj' ORDER BY id") == [("s-p1", PROJECT), ("s-p2", OTHER_PROJECT)]


def test_every_answer_reports_what_its_invocation_spent_on_d1(running_worker):
    # whole rows, as the client sends them: the embedding is made from the row just written
    records = [session(f"s-usage-{index}", "m-usage", content_hash=f"h{index}", summary=f"summary {index}", status="active",
                       project_root="/repo") for index in range(30)]
    response = push(running_worker, records, "m-usage", timeout=60)
    calls, statements = usage(response)
    # four round trips: the gate; the stored hashes; the rows with their embedding jobs; a last batch
    # with the dead-letter clean-up, the jobs' end, the embedding counters, the push's counters and
    # the node's last_seen. Each list is one statement (one JSON parameter) whatever its length.
    assert (calls, statements) == (4, 1 + 1 + 2 + 5)
    partial = httpx.post(f"{running_worker.url}/enqueue", json={"machine_id": "m-usage", "records": [session("s-usage-x", "m-usage", content_hash="hx")]},
                         headers=AUTH, timeout=60)
    assert partial.headers["x-hyphae-d1-calls"] == "5"  # a row without its embedded fields is read back from D1
    health = httpx.get(f"{running_worker.url}/health")
    assert usage(health) == (2, 2)
    refused = httpx.post(f"{running_worker.url}/enqueue", json={}, headers={"authorization": "Bearer wrong"})
    assert refused.headers["x-hyphae-d1-calls"] == "0"


NO_EMBEDDINGS = {"written": 0, "removed": 0, "failed": 0, "skipped": 0}


@pytest.mark.parametrize("body", [
    {"machine_id": "m-empty", "sync_protocol_version": 3},
    {"machine_id": "m-empty", "sync_protocol_version": 3, "records": [{**session("s-nope", "m-empty"), "table": "nope"}]},
])
def test_a_push_with_no_record_to_store_answers_every_field_with_zero(running_worker, body):
    """Guards against a push without `records` read as holding a record, and against the answer
    of a push that stores nothing missing its embedding counts."""
    answer = httpx.post(f"{running_worker.url}/enqueue", json=body, headers=AUTH, timeout=60).json()
    rejected = [{"table": "nope", "id": "s-nope", "error": "Unknown table: nope"}] if "records" in body else []
    assert answer == {"accepted": 0, "rejected": rejected, "unchanged": 0, "dead_lettered": [], "dropped_fields": {},
                      "embeddings": NO_EMBEDDINGS}


@pytest.mark.parametrize("fields", [{}, {"machine_id": None}], ids=["left-out", "null"])
def test_a_push_whose_machine_id_is_left_out_or_null_stores_records_naming_their_own(running_worker, worker_state, fields):
    """Guards against the push's machine_id refused when it is left out or null: each record names
    its own machine (reference §3.3), so the push-level one is optional."""
    machine = f"m-own-{len(fields)}"
    body = {**fields, "sync_protocol_version": 3, "records": [session("s-own", machine)]}
    response = httpx.post(f"{running_worker.url}/enqueue", json=body, headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    assert (response.json()["accepted"], response.json()["rejected"]) == (1, [])
    assert read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = ?", machine) == [("s-own",)]


@pytest.mark.parametrize("machine_id, kind", [(42, "an integer"), (["m"], "an array"), ({"id": "m"}, "an object")])
def test_a_push_whose_machine_id_is_not_a_string_is_a_400_naming_its_type(running_worker, worker_state, machine_id, kind):
    """Guards against a push-level machine_id of the wrong type accepted (or answered with an empty
    error): the whole push is refused with a message naming the type, and nothing is stored."""
    body = {"machine_id": machine_id, "sync_protocol_version": 3, "records": [session("s-typed", "m-typed")]}
    response = httpx.post(f"{running_worker.url}/enqueue", json=body, headers=AUTH, timeout=60)
    assert (response.status_code, response.json()) == (400, {"error": f"machine_id must be a string, not {kind}"})
    assert read_rows(worker_state, "SELECT count(*) FROM sessions WHERE machine_id = 'm-typed'") == [(0,)]


def test_a_batch_of_exactly_the_record_limit_is_accepted(running_worker, worker_state):
    """Guards against the per-request limit off by one: 1000 records (MAX_RECORDS) are one push."""
    records = [record("team_members", f"m-limit-{index:04d}", "m-limit", project_id=None, user=f"u{index}", role="member")
               for index in range(1000)]
    answer = enqueue(running_worker, records, "m-limit")
    assert (answer["accepted"], answer["rejected"], answer["dead_lettered"]) == (1000, [], [])
    assert read_rows(worker_state, "SELECT count(*) FROM team_members WHERE machine_id = 'm-limit'") == [(1000,)]


def test_dropped_field_names_are_cut_at_100_characters_and_at_100_distinct_names(running_worker):
    """Guards against the cap on the dropped-field counts going wrong: a name of 100 characters is
    kept whole and a longer one cut to 100 and "…"; past 100 distinct names a new name is counted
    as "spores.…", while a name already counted keeps its own count."""
    first = {"a" * 100: 1, "b" * 101: 1, **{f"f{index:03d}": 1 for index in range(98)}}
    second = {"f000": 1, "g1": 1, "g2": 1}
    answer = enqueue(running_worker, [spore("sp-many", "m-many-fields", **first), spore("sp-many2", "m-many-fields", **second)], "m-many-fields")
    assert answer["accepted"] == 2
    expected = {"spores." + "a" * 100: 1, "spores." + "b" * 100 + "…": 1, **{f"spores.f{index:03d}": 1 for index in range(1, 98)},
                "spores.f000": 2, "spores.…": 2}
    assert answer["dropped_fields"] == expected


def test_a_delete_carrying_the_stored_content_hash_is_applied_without_a_hash_lookup(running_worker, worker_state):
    """Guards against a delete read as unchanged when it carries the row's stored content hash (the
    row would outlive its delete), and against the stored hashes looked up for deletes (a D1 query
    spent for records that are written whatever the stored hash says)."""
    enqueue(running_worker, [session("s-hashed-delete", "m-hashed-delete", content_hash="h-same")], "m-hashed-delete")
    delete = {**record("sessions", "s-hashed-delete", "m-hashed-delete", "delete"), "content_hash": "h-same"}
    body = {"machine_id": "m-hashed-delete", "sync_protocol_version": 3, "records": [delete]}
    response = httpx.post(f"{running_worker.url}/enqueue", json=body, headers=AUTH, timeout=60)
    assert (response.json()["accepted"], response.json()["unchanged"]) == (1, 0)
    assert read_rows(worker_state, "SELECT count(*) FROM sessions WHERE machine_id = 'm-hashed-delete'") == [(0,)]
    # the gate, the delete with its embedding job, the embedded row's read, the last batch: no hash lookup
    assert response.headers["x-hyphae-d1-calls"] == "4"


@pytest.mark.parametrize("budget, status, stored, parked", [(7, 503, 0, 0), (8, 200, 0, 1), (10, 200, 1, 0)])
def test_a_push_at_the_edges_of_the_query_budget(start_worker, tmp_path, budget, status, stored, parked):
    """Guards against a wrong sum of what a push must fit before it writes (the hash lookups,
    parking every record, the dead-letter clean-up, the counters): one session without its embedded
    fields needs 1 query for the gate and 7 more to start; with 8 it is parked for the cron
    (accepted, durable); with 10 it is written and its embedding, which needs its row read back, waits.
    Short of that it is refused whole, naming both numbers, before anything is written."""
    state = tmp_path / f"budget-{budget}"
    worker = start_worker(upto=schema_version(), state=state, extra=budget_vars(budget))
    body = {"machine_id": "m-edge", "sync_protocol_version": 3, "records": [session("s-edge", "m-edge")]}
    response = httpx.post(f"{worker.url}/enqueue", json=body, headers=AUTH, timeout=60)
    assert response.status_code == status, response.text
    if status == 503:
        assert response.json() == {"error": "this request needs more D1 queries than one invocation may make (7 > 6, hyphae:worker.plan); "
                                            "it was not completed, send it again or in smaller batches", "budget": "queries"}
    else:
        dead_lettered = [{"table": "sessions", "id": "s-edge", "error": DEFERRED}] if parked else []
        skipped = 1 if stored else 0
        assert response.json() == {"accepted": 1, "rejected": [], "unchanged": 0, "dead_lettered": dead_lettered, "dropped_fields": {},
                                   "embeddings": {**NO_EMBEDDINGS, "skipped": skipped}}
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(stored,)]
    assert read_rows(state, "SELECT count(*) FROM team_dlq") == [(parked,)]
    assert read_rows(state, "SELECT count(*) FROM team_embed_backlog") == [(stored,)]


def test_a_push_embeds_at_most_eight_calls_of_texts_inline(running_worker):
    """Guards against the push's inline embedding spending Workers AI without its allowance of 8
    calls (16 texts each): the rest of the push's embeddings wait in the backlog for the cron."""
    records = [session(f"s-inline-{index}", "m-inline", summary=f"summary {index}", status="active", project_root="/repo")
               for index in range(150)]
    answer = enqueue(running_worker, records, "m-inline")
    assert (answer["accepted"], answer["embeddings"]) == (150, {"written": 128, "removed": 0, "failed": 0, "skipped": 22})


def test_a_dead_letter_counts_as_neither_written_nor_unchanged_and_its_error_is_kept_in_the_stats(start_worker, tmp_path):
    """Guards against dead letters counted as unchanged records, and against the stats' last_error
    holding more than its first 500 characters of a long D1 error."""
    state = tmp_path / "long-error"
    worker = start_worker(upto=schema_version(), state=state)
    reason = "refused " + "x" * 600
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute(f"CREATE TRIGGER refuse_long BEFORE INSERT ON sessions BEGIN SELECT RAISE(ABORT, '{reason}'); END")
    answer = enqueue(worker, [session("s-long-error", "m-long")], "m-long")
    [parked] = answer["dead_lettered"]
    assert reason in parked["error"] and len(parked["error"]) > 600
    assert (answer["accepted"], answer["unchanged"]) == (1, 0)
    stats = get(worker, "/queue-stats")
    assert (stats["accepted"], stats["unchanged"], stats["dead_lettered"]) == (1, 0, 1)
    assert (stats["processed"], stats["failed"]) == (0, 1)  # a dead letter is failed, not processed
    assert stats["last_error"] == parked["error"][:500]


def test_a_push_registers_its_machine_and_a_push_without_one_registers_none(start_worker, tmp_path):
    """Guards against a push not registering (or not touching) the machine that sent it when it never
    called /connect, and against a push without a machine_id (null or "") registering a node."""
    state = tmp_path / "touch-node"
    worker = start_worker(upto=schema_version(), state=state)
    enqueue(worker, [], None)
    enqueue(worker, [], "")
    assert read_rows(state, "SELECT count(*) FROM nodes") == [(0,)]
    enqueue(worker, [session("s-touch", "m-touch")], "m-touch")
    assert read_rows(state, "SELECT machine_id, last_seen = registered_at, last_seen > 0 FROM nodes") == [("m-touch", 1, 1)]


# --- How the rows are written (worker/src/writes.js): one statement per table and column set, the
# stored hashes read per table, deletes per table, dead letters keyed by the row's whole key.

def test_upserts_of_one_table_with_different_fields_are_each_written_with_their_own(running_worker, worker_state):
    """Guards against a table's upserts grouped by table alone: the whole group written with the
    first record's columns, so a later record's other fields are lost or set to NULL."""
    enqueue(running_worker, [session("s-cols-b", "m-cols", summary="kept")], "m-cols")
    answer = enqueue(running_worker, [session("s-cols-a", "m-cols"), session("s-cols-b", "m-cols", title="renamed"),
                                      session("s-cols-c", "m-cols", summary="written", branch="main")], "m-cols")
    assert (answer["accepted"], answer["rejected"], answer["dead_lettered"]) == (3, [], [])
    rows = read_rows(worker_state, "SELECT id, title, summary, branch FROM sessions WHERE machine_id = 'm-cols' ORDER BY id")
    assert rows == [("s-cols-a", "t-s-cols-a", None, None), ("s-cols-b", "renamed", "kept", None), ("s-cols-c", "t-s-cols-c", "written", "main")]


def test_deletes_of_several_tables_in_one_push_each_remove_their_own_table_rows(running_worker, worker_state):
    """Guards against deletes grouped across tables: every key deleted from the first table's rows,
    the other tables' rows left in place."""
    machine = "m-del-tables"
    enqueue(running_worker, [session("d-s", machine), spore("d-sp", machine), prompt_batch("d-pb", machine)], machine)
    answer = enqueue(running_worker, [record("sessions", "d-s", machine, "delete"), record("spores", "d-sp", machine, "delete"),
                                      record("prompt_batches", "d-pb", machine, "delete")], machine)
    assert (answer["accepted"], answer["rejected"], answer["dead_lettered"]) == (3, [], [])
    for table in ("sessions", "spores", "prompt_batches"):
        assert read_rows(worker_state, f"SELECT count(*) FROM {table} WHERE machine_id = ?", machine) == [(0,)], table


def test_stored_hashes_are_read_per_table_and_only_for_records_that_carry_one(running_worker):
    """Guards against the stored hashes of several tables all looked up in the first table (a
    spore resent unchanged rewritten), and against a lookup for records without a content hash
    (a query spent for nothing)."""
    machine = "m-hash-tables"
    records = [session("h-s", machine, content_hash="hs"), spore("h-sp", machine, content_hash="hsp")]
    enqueue(running_worker, records, machine)
    again = enqueue(running_worker, records, machine)
    assert (again["accepted"], again["unchanged"]) == (2, 2)
    # the gate, the rows (one statement), the last batch (the dead-letter clean-up, the push's
    # counters, the node's last_seen): no lookup
    unhashed = push(running_worker, [prompt_batch("h-pb-1", machine), prompt_batch("h-pb-2", machine)], machine, timeout=60)
    assert unhashed.status_code == 200, unhashed.text
    assert usage(unhashed) == (3, 1 + 1 + 3)


def test_a_failed_batch_is_narrowed_into_its_write_groups_before_any_bisection(running_worker, worker_state):
    """Guards against narrowing that halves a failed batch instead of trying each write group on its
    own, that merges the deletes of several tables (or a table's deletes with its upserts) into one
    group, and against upserts of one column set split in two by the order of their fields: each
    costs this push more D1 round trips (a refused record among many more)."""
    machine = "m-narrow"
    bad = record("team_members", "tm-bad", machine, project_id=None)  # team_members.user is NOT NULL in D1
    reordered = [record("prompt_batches", f"n-pb-r{index}", machine, created_at=1, origin="cli", kind="user", session_id="s1")
                 for index in range(10)]
    records = [bad, *[prompt_batch(f"n-pb-{index}", machine) for index in range(10)], *reordered,
               record("prompt_batches", "n-pb-gone", machine, "delete"), record("graph_edges", "n-ge-gone", machine, "delete"),
               record("team_members", "tm-gone", machine, "delete", project_id=None)]
    response = push(running_worker, records, machine, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (24, [])
    assert [(entry["table"], entry["id"]) for entry in answer["dead_lettered"]] == [("team_members", "tm-bad")]
    assert read_rows(worker_state, "SELECT count(*) FROM prompt_batches WHERE machine_id = ?", machine) == [(20,)]
    # the gate; the whole batch (five write groups) fails; each group on its own: the refused one,
    # its dead letter, the four others; the last batch
    assert usage(response) == (1 + 1 + 1 + 1 + 4 + 1, 1 + 5 + 1 + 1 + 4 + 3)


def test_a_dead_letter_without_an_id_is_keyed_by_its_whole_key_and_keeps_a_cut_reason(start_worker, tmp_path):
    """Guards against the key fields of a row without an id (entity_mentions) joined without their
    commas in the dead letter's lease_id and row_id (two different rows would share one), and
    against a long D1 error stored whole as the dead letter's reason (cut to 1,000 characters)."""
    state = tmp_path / "dlq-key"
    worker = start_worker(upto=schema_version(), state=state)
    cause = "refused " + "x" * 1200
    with sqlite3.connect(local_database(state)) as connection:
        connection.execute(f"CREATE TRIGGER refuse_mention BEFORE INSERT ON entity_mentions BEGIN SELECT RAISE(ABORT, '{cause}'); END")
    mention = {"entity_id": "e1", "note_id": "n1", "note_type": "spore", "agent_id": "a1", "project_id": PROJECT}
    answer = enqueue(worker, [{"table": "entity_mentions", "operation": "upsert", "machine_id": "m-key", "data": mention}], "m-key")
    [parked] = answer["dead_lettered"]
    assert cause in parked["error"] and len(parked["error"]) > 1000
    [listed] = get(worker, "/dlq")["messages"]
    assert (listed["lease_id"], listed["row_id"]) == ("entity_mentions:e1,n1,spore,a1,m-key:m-key", "e1,n1,spore,a1,m-key")
    assert listed["reason"] == parked["error"][:1000]
