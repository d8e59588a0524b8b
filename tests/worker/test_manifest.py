"""GET /manifest: the client deletes its own rows that a manifest lists and it lacks (reference
§3.7, §7.8), so a manifest lists only the asked machine's (and project's) rows, each id exactly as
the string the client sent."""

from __future__ import annotations

import pytest

from tests.worker.conftest import OTHER_PROJECT, PROJECT, enqueue, get, record, session

pytestmark = pytest.mark.workerd


@pytest.fixture(scope="module")
def pushed(running_worker):
    batches = [record("prompt_batches", batch_id, "m-man", session_id="s", created_at=1, content_hash=f"h{batch_id}")
               for batch_id in ("123", "0042", "9", "pbat_0123456789abcdef0123456789abcdef")]
    enqueue(running_worker, batches + [session("s-a", "m-man"), session("s-b", "m-man", project_id=OTHER_PROJECT)], "m-man")
    enqueue(running_worker, [record("prompt_batches", "77", "m-man-other", session_id="s", created_at=1), session("s-a", "m-man-other")], "m-man-other")
    return running_worker


def test_a_manifest_lists_only_the_asked_machines_rows_with_ids_as_sent(pushed):
    body = get(pushed, "/manifest", machine_id="m-man", table="prompt_batches")
    ids = [item["id"] for item in body["items"]]
    assert ids == ["0042", "123", "9", "pbat_0123456789abcdef0123456789abcdef"]
    assert all(isinstance(item_id, str) for item_id in ids)
    assert body["count"] == 4 and "next_cursor" not in body
    assert body["items"][1]["content_hash"] == "h123"


def test_a_project_filter_narrows_the_partition(pushed):
    body = get(pushed, "/manifest", machine_id="m-man", table="sessions", project_id=OTHER_PROJECT)
    assert [item["id"] for item in body["items"]] == ["s-b"]
    assert (body["count"], body["project_id"]) == (1, OTHER_PROJECT)


def test_pages_follow_the_cursor_and_summary_counts_only(pushed):
    first = get(pushed, "/manifest", machine_id="m-man", table="prompt_batches", limit=3)
    assert ([item["id"] for item in first["items"]], first["next_cursor"]) == (["0042", "123", "9"], "9")
    second = get(pushed, "/manifest", machine_id="m-man", table="prompt_batches", limit=3, cursor=first["next_cursor"])
    assert [item["id"] for item in second["items"]] == ["pbat_0123456789abcdef0123456789abcdef"]
    assert "next_cursor" not in second
    assert get(pushed, "/manifest", machine_id="m-man", table="prompt_batches", summary="1") == {
        "table": "prompt_batches", "machine_id": "m-man", "count": 4}


def test_a_page_that_ends_exactly_at_the_limit_has_no_next_cursor(pushed):
    """Guards against `more` counting a page as full when it merely reached the limit (`>=`): the
    client would ask for one more page, and a cursor past the last row is no end marker."""
    body = get(pushed, "/manifest", machine_id="m-man", table="prompt_batches", limit=4)
    assert len(body["items"]) == 4 and "next_cursor" not in body


def test_a_project_id_is_read_without_surrounding_blanks_and_a_blank_one_is_no_filter(pushed):
    """Guards against the project filter taken as sent (untrimmed): a padded project id would
    match none of the partition's rows, and a blank one would hide every row."""
    padded = get(pushed, "/manifest", machine_id="m-man", table="sessions", project_id=f"  {OTHER_PROJECT} ")
    assert ([item["id"] for item in padded["items"]], padded["project_id"]) == (["s-b"], OTHER_PROJECT)
    blank = get(pushed, "/manifest", machine_id="m-man", table="sessions", project_id="  ")
    assert [item["id"] for item in blank["items"]] == ["s-a", "s-b"] and "project_id" not in blank


def test_tables_without_content_hash_list_ids_and_projects_only(pushed):
    enqueue(pushed, [record("entities", "ent-1", "m-man", agent_id="a", type="t", name="n", first_seen=1, last_seen=1)], "m-man")
    [item] = get(pushed, "/manifest", machine_id="m-man", table="entities")["items"]
    assert item == {"id": "ent-1", "project_id": PROJECT}


def test_a_table_without_projects_lists_a_null_project_and_no_row_in_any_project(pushed):
    """Guards against team_members (no project_id column) answering `"project_id": "project_id"`
    under a key with quotes in it: SQLite reads a double-quoted name of no column as a string, so
    the filter `"project_id" = ?` would even match a project id spelled `project_id`."""
    enqueue(pushed, [record("team_members", "tm-1", "m-man", project_id=None, user="u")], "m-man")
    assert get(pushed, "/manifest", machine_id="m-man", table="team_members")["items"] == [{"id": "tm-1", "project_id": None}]
    in_project = get(pushed, "/manifest", machine_id="m-man", table="team_members", project_id=OTHER_PROJECT)
    assert (in_project["count"], in_project["items"]) == (0, [])
    assert get(pushed, "/manifest", machine_id="m-man", table="team_members", project_id="project_id")["count"] == 0


@pytest.mark.parametrize("params, message", [
    ({"table": "sessions"}, "machine_id is required"),
    ({"machine_id": "m-man"}, "table is required"),
    ({"machine_id": "m-man", "table": "entity_mentions"}, "Unknown or ineligible table: entity_mentions"),
    ({"machine_id": "m-man", "table": "nodes"}, "Unknown or ineligible table: nodes"),
])
def test_a_manifest_needs_a_machine_and_an_eligible_table(pushed, params, message):
    assert get(pushed, "/manifest", expect=400, **params)["error"].startswith(message)
