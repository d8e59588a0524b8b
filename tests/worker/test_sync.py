"""POST /sync over HTTP against workerd: upserts, skips, the column allowlist, D1's limits, deletes."""

from __future__ import annotations

import httpx
import pytest

from tests.worker.conftest import TEAM_KEY, read_rows

pytestmark = pytest.mark.workerd

AUTH = {"authorization": f"Bearer {TEAM_KEY}"}


def session(record_id: str, content_hash: str | None = "h1", **data) -> dict:
    record = {
        "table": "sessions",
        "operation": "upsert",
        "id": record_id,
        "data": {"agent": "claude", "started_at": 1_700_000_000, "created_at": 1_700_000_000, "title": f"t-{record_id}", **data},
    }
    if content_hash:
        record["content_hash"] = content_hash
    return record


def sync(worker, machine_id: str, records: list[dict]) -> dict:
    response = httpx.post(
        f"{worker.url}/sync", json={"sync_protocol_version": 2, "machine_id": machine_id, "records": records}, headers=AUTH, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_upserted_records_reach_d1_with_the_server_synced_at(running_worker, worker_state):
    result = sync(running_worker, "m-upsert", [session("s1", project_id="proj_" + "a" * 32)])
    assert (result["synced"], result["skipped"], result["errors"]) == (1, 0, [])
    rows = read_rows(worker_state, "SELECT id, machine_id, title, project_id, synced_at FROM sessions WHERE machine_id = ?", "m-upsert")
    assert rows[0][:4] == ("s1", "m-upsert", "t-s1", "proj_" + "a" * 32)
    assert rows[0][4] is not None


def test_an_unchanged_content_hash_is_skipped_and_a_changed_one_is_written(running_worker, worker_state):
    sync(running_worker, "m-hash", [session("s1", title="first")])
    again = sync(running_worker, "m-hash", [session("s1", title="ignored")])
    assert (again["synced"], again["skipped"]) == (0, 1)
    changed = sync(running_worker, "m-hash", [session("s1", content_hash="h2", title="second")])
    assert (changed["synced"], changed["skipped"]) == (1, 0)
    assert read_rows(worker_state, "SELECT title FROM sessions WHERE machine_id = 'm-hash'") == [("second",)]


def test_an_unknown_column_fails_only_its_own_record(running_worker, worker_state):
    result = sync(running_worker, "m-allow", [session("good"), session("bad", color="red"), session("good2")])
    assert result["synced"] == 2
    assert result["errors"] == [{"id": "bad", "table": "sessions", "error": 'unknown column "color" in table sessions'}]
    ids = read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = 'm-allow' ORDER BY id")
    assert ids == [("good",), ("good2",)]


def test_an_unknown_table_and_a_bad_operation_are_per_record_errors(running_worker):
    records = [{"table": "d1_migrations", "operation": "upsert", "id": "x", "data": {}}, {**session("op"), "operation": "merge"}, session("ok")]
    result = sync(running_worker, "m-table", records)
    assert result["synced"] == 1
    assert [error["id"] for error in result["errors"]] == ["x", "op"]
    assert "not synced" in result["errors"][0]["error"]


def test_an_id_that_is_neither_text_nor_integer_is_a_record_error(running_worker):
    result = sync(running_worker, "m-id", [{**session("x"), "id": {"nested": 1}}, session("fine")])
    assert result["synced"] == 1
    assert result["errors"] == [{"id": {"nested": 1}, "table": "sessions", "error": "id must be a string or an integer"}]


def test_a_record_the_database_refuses_is_reported_and_the_rest_are_written(running_worker, worker_state):
    missing_agent = session("no-agent")
    del missing_agent["data"]["agent"]
    result = sync(running_worker, "m-notnull", [session("a"), missing_agent, session("b")])
    assert result["synced"] == 2
    assert result["errors"][0]["id"] == "no-agent"
    assert "NOT NULL" in result["errors"][0]["error"]
    assert read_rows(worker_state, "SELECT count(*) FROM sessions WHERE machine_id = 'm-notnull'") == [(2,)]


def test_a_batch_far_above_100_bound_parameters_is_written_whole(running_worker, worker_state):
    # 250 sessions of 10 columns each: 2,500 parameters to write, 250 ids to look up by hash. The
    # local D1 refuses a 101st parameter like D1 does (test_d1_limits.py), so unbatched writes fail.
    records = [session(f"bulk-{index:03d}", content_hash=f"h-{index}") for index in range(250)]
    result = sync(running_worker, "m-bulk", records)
    assert (result["synced"], result["errors"]) == (250, [])
    assert read_rows(worker_state, "SELECT count(*) FROM sessions WHERE machine_id = 'm-bulk'") == [(250,)]
    again = sync(running_worker, "m-bulk", records)
    assert (again["synced"], again["skipped"]) == (0, 250)


def test_deletes_remove_only_the_named_rows(running_worker, worker_state):
    sync(running_worker, "m-delete", [session("keep"), session("drop1"), session("drop2")])
    deletes = [delete(record_id) for record_id in ("drop1", "drop2")]
    result = sync(running_worker, "m-delete", deletes)
    assert (result["synced"], result["errors"]) == (2, [])
    assert read_rows(worker_state, "SELECT id FROM sessions WHERE machine_id = 'm-delete'") == [("keep",)]


def delete(record_id: str) -> dict:
    return {"table": "sessions", "operation": "delete", "id": record_id}


def test_records_for_one_row_count_in_request_order(running_worker, worker_state):
    # Upserts are written before deletes; a row deleted then re-created on the node must stay.
    sync(running_worker, "m-order", [session("recreated"), session("removed")])
    result = sync(running_worker, "m-order", [delete("recreated"), session("recreated", content_hash="h2", title="again"),
                                              session("removed", content_hash="h3"), delete("removed")])
    assert (result["synced"], result["skipped"], result["errors"]) == (2, 2, [])
    assert read_rows(worker_state, "SELECT id, title FROM sessions WHERE machine_id = 'm-order'") == [("recreated", "again")]


def test_a_table_without_a_primary_key_upserts_and_deletes_by_its_unique_key(running_worker, worker_state):
    mention = {"entity_id": "e1", "note_id": "n1", "note_type": "spore", "agent_id": "a1"}
    upsert = {"table": "entity_mentions", "operation": "upsert", "data": {**mention, "project_id": "p1"}}
    twice = sync(running_worker, "m-mention", [upsert, upsert])
    assert (twice["synced"], twice["skipped"]) == (1, 1), "the second upsert of a row supersedes the first"
    assert read_rows(worker_state, "SELECT count(*) FROM entity_mentions WHERE machine_id = 'm-mention'") == [(1,)]
    delete = {"table": "entity_mentions", "operation": "delete", "data": mention}
    assert sync(running_worker, "m-mention", [delete])["synced"] == 1
    assert read_rows(worker_state, "SELECT count(*) FROM entity_mentions WHERE machine_id = 'm-mention'") == [(0,)]


def test_an_integer_keyed_table_and_json_values_are_stored(running_worker, worker_state):
    batch = {"table": "prompt_batches", "operation": "upsert", "id": 7, "data": {"session_id": "s1", "created_at": 1, "user_prompt": {"a": [1]}}}
    assert sync(running_worker, "m-int", [batch])["synced"] == 1
    assert read_rows(worker_state, "SELECT id, user_prompt, kind FROM prompt_batches WHERE machine_id = 'm-int'") == [(7, '{"a":[1]}', "initial")]


def test_a_body_that_is_not_json_is_400(running_worker):
    response = httpx.post(f"{running_worker.url}/sync", content=b"{nope", headers=AUTH)
    assert response.status_code == 400


def test_connect_registers_a_node_and_keeps_its_first_registration(running_worker, worker_state):
    body = {"sync_protocol_version": 2, "machine_id": "m-node", "package_version": "1.2.3", "schema_version": 5}
    first = httpx.post(f"{running_worker.url}/connect", json=body, headers=AUTH)
    assert first.status_code == 200, first.text
    registered = read_rows(worker_state, "SELECT registered_at FROM nodes WHERE machine_id = 'm-node'")
    second = httpx.post(f"{running_worker.url}/connect", json={**body, "package_version": "1.2.4"}, headers=AUTH)
    assert second.json()["ok"] is True
    rows = read_rows(worker_state, "SELECT package_version, registered_at FROM nodes WHERE machine_id = 'm-node'")
    assert rows == [("1.2.4", registered[0][0])]
