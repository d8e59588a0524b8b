"""GET /search (reference §3.7) against the Worker on workerd: the filters, the Vectorize-side
filter past 20 candidates, hydration from D1, the release states, the limits and the errors.

The stand-in index (worker/dev/stand_ins.mjs) is seeded through its inspection route where a test
needs metadata or scores the Worker would not write itself; the rows are always written by /enqueue."""

from __future__ import annotations

import sqlite3

import pytest

from infra.environments import BINDING_AI, BINDING_VECTORIZE, schema_version
from tests.worker.conftest import (
    OTHER_PROJECT,
    PROJECT,
    enqueue,
    get,
    local_database,
    plan_vars,
    prompt_batch,
    session,
    spore,
    stand_in,
    stand_ins,
    vector_id,
)

pytestmark = pytest.mark.workerd


def put_vectors(worker, vectors: list[dict]) -> None:
    """Store vectors in the stand-in index as they are (no values: the stand-in embeds the id)."""
    stand_in(worker, "PUT", "/vectors", json={"vectors": vectors})


def embedding(worker, text: str) -> list[float]:
    """The stand-in model's vector of `text`: a vector stored with it scores 1.0 for that query."""
    return stand_in(worker, "POST", "/embed", json={"text": text})["values"]


def found(worker, **params) -> list[str]:
    return [result["id"] for result in get(worker, "/search", **params)["results"]]


def test_each_filter_keeps_only_the_matches_whose_metadata_says_so(start_worker, tmp_path):
    """Guards against a /search filter ignored (its name dropped from the list the Worker reads, or
    its comparison inverted), the time window's bounds made exclusive, a match without a numeric
    created_at kept by a time filter (or dropped without one), an unparsable since/until read as
    a bound, `types` no longer read for `tables`, and the table names not trimmed."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "search-filters")
    machine = "m-filter"
    names = ["sp-a", "sp-b", "sp-c", "sp-none", "sp-other"]
    enqueue(worker, [spore(name, machine) for name in names] + [session("s-x", machine, summary="a session")], machine)
    metadata = {
        "sp-a": {"status": "active", "observation_type": "decision", "session_id": "sess-a", "source_path": "a.md", "name": "alpha",
                 "created_at": 100},
        "sp-b": {"status": "superseded", "observation_type": "gotcha", "session_id": "sess-b", "source_path": "b.md", "name": "beta",
                 "created_at": 200},
        "sp-c": {"created_at": 300},
        "sp-none": {},
        "sp-other": {"created_at": 400},
    }
    put_vectors(worker, [
        {"id": vector_id("spores", name, machine), "metadata": {
            "table": "spores", "id": name, "machine_id": machine, "project_id": OTHER_PROJECT if name == "sp-other" else PROJECT, **fields}}
        for name, fields in metadata.items()
    ])
    every = {*names, "s-x"}
    spores = set(names)

    assert set(found(worker, q="batch")) == every
    for name, value in [("status", "superseded"), ("observation_type", "gotcha"), ("session_id", "sess-b"), ("source_path", "b.md"),
                        ("name", "beta")]:
        assert found(worker, q="batch", **{name: value}) == ["sp-b"], name
    assert found(worker, q="batch", project_id=OTHER_PROJECT) == ["sp-other"]
    assert set(found(worker, q="batch", project_id=PROJECT)) == every - {"sp-other"}

    window = {"sp-a": 100, "sp-b": 200, "sp-c": 300, "sp-other": 400, "s-x": 1_700_000_000}
    assert set(found(worker, q="batch", since="200")) == {name for name, at in window.items() if at >= 200}
    assert set(found(worker, q="batch", until="200")) == {"sp-a", "sp-b"}
    assert found(worker, q="batch", since="200", until="200") == ["sp-b"]
    assert set(found(worker, q="batch", since="0")) == set(window), "a match without created_at is outside any window"
    assert set(found(worker, q="batch", until="1e12")) == set(window)
    assert set(found(worker, q="batch", since="soon", until="later")) == every, "an unparsable bound is no bound"

    assert set(found(worker, q="batch", tables="spores")) == spores
    assert found(worker, q="batch", types="sessions") == ["s-x"]
    assert found(worker, q="batch", tables=" sessions , plans ") == ["s-x"]
    assert set(found(worker, q="batch", tables="spores,sessions")) == every


def test_a_result_carries_the_match_and_its_row_as_d1_holds_it(start_worker, tmp_path):
    """Guards against a /search result whose project_id is not the row's (null where the row has
    one), or whose fields leave out the score, the metadata or the hydrated row."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "search-result")
    content = "hydrate the answer from D1"
    enqueue(worker, [spore("sp-row", "m-row", content=content), spore("sp-next", "m-row")], "m-row")
    results = get(worker, "/search", q=content)["results"]
    best = results[0]
    assert set(best) == {"id", "table", "type", "score", "machine_id", "project_id", "data", "metadata"}
    assert (best["id"], best["table"], best["type"], best["machine_id"], best["project_id"]) == ("sp-row", "spores", "spores", "m-row", PROJECT)
    assert best["score"] == pytest.approx(1.0, abs=1e-9)
    assert (best["data"]["id"], best["data"]["content"], best["data"]["project_id"]) == ("sp-row", content, PROJECT)
    assert best["metadata"]["table"] == "spores" and best["metadata"]["id"] == "sp-row"
    assert [result["id"] for result in results] == ["sp-row", "sp-next"]


def test_only_vectors_naming_a_row_of_an_embedded_table_are_answered(start_worker, tmp_path):
    """Guards against /search answering (or failing on) a vector this Worker did not write: one
    whose row is gone from D1, whose metadata has no table or id or gives them as other JSON types,
    or names a table that is not embedded (prompt_batches), not in the schema, or is named like a
    property every JavaScript object has (`constructor`)."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "search-foreign")
    machine = "m-foreign"
    enqueue(worker, [spore("sp-good", machine), spore("7", machine), prompt_batch("pb-1", machine)], machine)
    put_vectors(worker, [
        {"id": vector_id("spores", "7", machine), "metadata": {"table": "spores", "id": 7, "machine_id": machine, "project_id": PROJECT}},
        {"id": "v-list", "metadata": {"table": ["spores"], "id": "sp-good", "machine_id": machine, "project_id": PROJECT}},
        {"id": "v-gone", "metadata": {"table": "spores", "id": "sp-gone", "machine_id": machine, "project_id": PROJECT}},
        {"id": "v-batch", "metadata": {"table": "prompt_batches", "id": "pb-1", "machine_id": machine, "project_id": PROJECT}},
        {"id": "v-nodes", "metadata": {"table": "nodes", "id": "n-1", "machine_id": machine, "project_id": PROJECT}},
        {"id": "v-constructor", "metadata": {"table": "constructor", "id": "c-1", "machine_id": machine, "project_id": PROJECT}},
        {"id": "v-bare", "metadata": {}},
    ])
    results = get(worker, "/search", q="use D1 batch writes")["results"]
    assert [(result["table"], result["id"]) for result in results] == [("spores", "sp-good")]


def test_the_index_filters_on_project_and_tables_before_its_20_nearest(start_worker, tmp_path):
    """Guards against the project_id or tables filter applied only to the 20 matches Vectorize
    returns (not in the query): when 20 closer vectors of another project or table exist, the
    search finds nothing instead of the records asked for."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "search-index-filter")
    machine = "m-near"
    query = "which migration broke the deploy"
    enqueue(worker, [spore("sp-near", machine, content="the migration of the deploy"),
                     session("s-near", machine, summary="we broke the deploy with a migration")], machine)
    closest = embedding(worker, query)
    other_project = [{"id": f"v-other-{index}", "values": closest,
                      "metadata": {"table": "spores", "id": f"sp-far-{index}", "machine_id": machine, "project_id": OTHER_PROJECT}}
                     for index in range(20)]
    other_table = [{"id": f"v-plan-{index}", "values": closest,
                    "metadata": {"table": "plans", "id": f"plan-far-{index}", "machine_id": machine, "project_id": PROJECT}}
                   for index in range(20)]
    put_vectors(worker, other_project + other_table)

    assert found(worker, q=query, project_id=PROJECT, tables="spores") == ["sp-near"]
    assert found(worker, q=query, tables="sessions") == ["s-near"]
    assert set(found(worker, q=query, project_id=PROJECT, tables="spores,sessions")) == {"sp-near", "s-near"}
    assert found(worker, q=query) == [], "without a filter the 20 nearest are the vectors without rows"


def test_the_limit_defaults_to_10_and_is_at_most_20(start_worker, tmp_path):
    """Guards against /search answering more results than `limit` (or than 10 without one, or than
    20 whatever is asked), and against the `limit` parameter not being read."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "search-limit")
    enqueue(worker, [spore(f"sp-{index}", "m-limit", content=f"limits of the search {index}") for index in range(24)], "m-limit")
    for limit, expected in [(None, 10), ("3", 3), ("50", 20), ("0", 10), ("many", 10)]:
        params = {"q": "limits of the search"} | ({"limit": limit} if limit is not None else {})
        assert len(found(worker, **params)) == expected, limit


def add_release_state(worker_state, record_id: str, machine_id: str, state: str, confidence: str, namespace: str = "spores") -> None:
    with sqlite3.connect(local_database(worker_state)) as connection:
        connection.execute(
            "INSERT INTO knowledge_release_state (id, machine_id, project_id, identity_key, namespace, record_id, state, confidence,"
            " checked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1)",
            (f"krs-{namespace}-{record_id}-{machine_id}", machine_id, PROJECT, f"{namespace}:{record_id}", namespace, record_id, state,
             confidence))


def test_the_release_filters_keep_the_records_in_that_state_and_confidence(start_worker, tmp_path):
    """Guards against release_state or release_confidence ignored (alone or together, or one
    read as the other), a record without a release state kept by them (or a search without them
    dropping it), another machine's or table's state counted for a record, and a release filter
    over no match failing."""
    state = tmp_path / "search-release"
    worker = start_worker(upto=schema_version(), state=state)
    machine = "m-rel"
    enqueue(worker, [spore(name, machine, content=f"release notes {name}") for name in ("sp-r1", "sp-r2", "sp-r3", "sp-r4")], machine)
    add_release_state(state, "sp-r1", machine, "released", "high")
    add_release_state(state, "sp-r2", machine, "released", "low")
    add_release_state(state, "sp-r3", machine, "pending", "high")
    add_release_state(state, "sp-r4", "m-someone-else", "released", "high")
    add_release_state(state, "sp-r4", machine, "released", "high", namespace="sessions")

    assert set(found(worker, q="release notes")) == {"sp-r1", "sp-r2", "sp-r3", "sp-r4"}
    assert set(found(worker, q="release notes", release_state="released")) == {"sp-r1", "sp-r2"}
    assert set(found(worker, q="release notes", release_confidence="high")) == {"sp-r1", "sp-r3"}
    assert found(worker, q="release notes", release_state="released", release_confidence="high") == ["sp-r1"]
    assert found(worker, q="release notes", release_state="pending", release_confidence="low") == []
    assert found(worker, q="release notes", tables="artifacts", release_state="released") == []


@pytest.mark.parametrize("bound", [BINDING_AI, BINDING_VECTORIZE])
def test_a_search_without_either_binding_is_503_naming_both(start_worker, tmp_path, bound):
    """Guards against /search going on (and failing with a 500) when only one of the AI and
    Vectorize bindings is there, and against its 503 not saying which bindings it needs."""
    options = stand_ins()
    options["serviceBindings"] = {bound: options["serviceBindings"][bound]}
    worker = start_worker(upto=schema_version(), state=tmp_path / f"search-only-{bound}", extra=options)
    assert get(worker, "/search", q="anything", expect=503) == {"error": "search needs the AI and MYCO_TEAM_VECTORS bindings"}


def test_without_embedding_model_set_the_query_is_embedded_by_bge_m3(start_worker, tmp_path):
    """Guards against /search calling Workers AI without a model (or an empty one) when the
    Worker's EMBEDDING_MODEL is unset: the default is the one records are embedded with."""
    variables = {name: value for name, value in plan_vars("paid").items() if name != "EMBEDDING_MODEL"}
    worker = start_worker(upto=schema_version(), state=tmp_path / "search-default-model", extra={**stand_ins(), "vars": variables})
    enqueue(worker, [spore("sp-model", "m-model", content="the default model")], "m-model")
    assert found(worker, q="the default model") == ["sp-model"]
