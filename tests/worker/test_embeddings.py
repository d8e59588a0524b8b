"""Server-side embeddings (reference §6) through the production bundle, against the local stand-ins
of Workers AI and Vectorize (worker/dev/stand_ins.mjs), whose index the tests read directly."""

from __future__ import annotations

import httpx
import pytest

from infra.contract import read_contract
from infra.environments import load_environment, schema_version
from tests.worker.conftest import (
    AUTH,
    FAIL_ONCE,
    PROJECT,
    enqueue,
    get,
    read_rows,
    record,
    run_cron,
    session,
    spore,
    stand_in,
    stand_ins,
    stored_vectors,
    vector_id,
)

pytestmark = pytest.mark.workerd


def test_the_vector_id_follows_the_references_example():
    assert vector_id("spores", "spore_0123456789abcdef0123456789abcdef", "machine-a") == "v1:PgKCRBbcWl3_Cp9Rwe1vjg"


def test_an_accepted_spore_gets_its_vector_with_the_references_id_and_metadata(running_worker):
    spore_id = "spore_0123456789abcdef0123456789abcdef"
    answer = enqueue(running_worker, [spore(spore_id, "machine-a", session_id="sess_1")], "machine-a")
    assert answer["embeddings"] == {"written": 1, "removed": 0, "failed": 0, "skipped": 0}
    metadata = stored_vectors(running_worker)["v1:PgKCRBbcWl3_Cp9Rwe1vjg"]
    assert metadata == {"table": "spores", "id": spore_id, "machine_id": "machine-a", "project_id": PROJECT, "status": "active",
                        "observation_type": "decision", "session_id": "sess_1", "created_at": 1_767_225_600}


def test_each_table_embeds_its_own_field_and_the_others_none(running_worker):
    records = [
        session("sess-emb", "m-fields", summary="the session summary"),
        session("sess-nosummary", "m-fields"),
        record("plans", "plan-emb", "m-fields", content="plan text", status="active", created_at=1, logical_key="k"),
        record("artifacts", "art-emb", "m-fields", content="artifact text", source_path="a.md", title="A", created_at=1),
        record("skill_records", "skill-emb", "m-fields", description="a skill", agent_id="a", name="n", display_name="N", path="p",
               created_at=1, updated_at=1),
        record("prompt_batches", "pbat-emb", "m-fields", user_prompt="not embedded", session_id="s", created_at=1),
    ]
    enqueue(running_worker, records, "m-fields")
    vectors = stored_vectors(running_worker)
    for table, record_id in [("sessions", "sess-emb"), ("plans", "plan-emb"), ("artifacts", "art-emb"), ("skill_records", "skill-emb")]:
        assert vector_id(table, record_id, "m-fields") in vectors, table
    assert vector_id("sessions", "sess-nosummary", "m-fields") not in vectors
    assert vector_id("prompt_batches", "pbat-emb", "m-fields") not in vectors


def test_a_spore_that_is_no_longer_active_and_a_deleted_row_lose_their_vectors(running_worker):
    enqueue(running_worker, [spore("sp-retire", "m-lose"), spore("sp-delete", "m-lose")], "m-lose")
    assert {vector_id("spores", "sp-retire", "m-lose"), vector_id("spores", "sp-delete", "m-lose")} <= set(stored_vectors(running_worker))
    answer = enqueue(running_worker, [spore("sp-retire", "m-lose", status="superseded"), record("spores", "sp-delete", "m-lose", "delete")], "m-lose")
    assert answer["embeddings"]["removed"] == 2
    vectors = stored_vectors(running_worker)
    assert vector_id("spores", "sp-retire", "m-lose") not in vectors and vector_id("spores", "sp-delete", "m-lose") not in vectors


def test_long_text_is_cut_to_8000_characters_and_marked(running_worker):
    text = "alpha beta gamma " * 470 + "omega " * 200  # 7,990 characters before the omegas
    enqueue(running_worker, [spore("sp-long", "m-long", content=text)], "m-long")
    truncated = text[:8000] + "\n\n[truncated for embedding]"
    # The stand-in model is deterministic: the query embeds to the very same vector only if the
    # Worker embedded exactly the truncated text.
    results = get(running_worker, "/search", q=truncated, tables="spores")["results"]
    best = next(result for result in results if result["id"] == "sp-long")
    assert best["score"] == pytest.approx(1.0, abs=1e-9)
    whole = get(running_worker, "/search", q="omega " * 200, tables="spores")["results"]
    assert next(result for result in whole if result["id"] == "sp-long")["score"] < 0.5, "the omegas past 8,000 characters were embedded"


def test_an_embedding_failure_keeps_the_record_and_the_cron_drain_writes_the_vector(start_worker, tmp_path):
    state = tmp_path / "embed-failure"
    worker = start_worker(upto=schema_version(), state=state, extra=stand_ins(FAIL_MARKER=FAIL_ONCE))
    answer = enqueue(worker, [spore("sp-flaky", "m-flaky", content=f"flaky {FAIL_ONCE}"), spore("sp-ok", "m-flaky")], "m-flaky")
    assert (answer["accepted"], answer["rejected"]) == (2, [])
    assert answer["embeddings"]["written"] == 1 and answer["embeddings"]["failed"] == 1
    assert read_rows(state, "SELECT count(*) FROM spores WHERE machine_id = 'm-flaky'") == [(2,)]
    assert vector_id("spores", "sp-flaky", "m-flaky") not in stored_vectors(worker)
    stats = get(worker, "/queue-stats")
    assert (stats["backlog"], stats["embed_ok"], stats["embed_failed"]) == (1, 1, 1)
    assert "3030" in stats["last_embed_error"]
    assert read_rows(state, "SELECT row_id, attempts FROM team_embed_backlog") == [("sp-flaky", 1)]
    run_cron(worker)
    assert vector_id("spores", "sp-flaky", "m-flaky") in stored_vectors(worker)
    assert get(worker, "/queue-stats")["backlog"] == 0
    assert get(worker, "/config")["config"]["vector_reindex_last_reindexed"] == "1"


def test_reindex_queues_every_row_of_the_embedded_tables_and_the_cron_writes_them(start_worker, tmp_path):
    worker = start_worker(upto=schema_version(), state=tmp_path / "reindex")
    enqueue(worker, [spore(f"sp-{index}", "m-re") for index in range(3)] + [session("s-re", "m-re", summary="s")], "m-re")
    assert len(stored_vectors(worker)) == 4
    answer = httpx.post(f"{worker.url}/vectors/reindex", json={}, headers=AUTH).json()
    assert (answer["enqueued"], answer["by_table"]["spores"], answer["by_table"]["sessions"]) == (4, 3, 1)
    assert get(worker, "/queue-stats")["backlog"] == 4
    assert get(worker, "/config")["config"]["vector_reindex_status"] == "queued"
    run_cron(worker)
    assert get(worker, "/queue-stats")["backlog"] == 0
    assert get(worker, "/config")["config"]["vector_reindex_status"] == "idle"
    assert httpx.post(f"{worker.url}/vectors/reindex", json={"table": "prompt_batches"}, headers=AUTH).status_code == 400


def test_reindex_queues_only_the_tables_the_contract_embeds(start_worker, tmp_path):
    """Guards against the Worker's list of embedded tables holding every contract table (its
    `embed` filter dropped): a reindex would queue jobs for rows that have nothing to embed."""
    worker = start_worker(upto=schema_version(), state=tmp_path / "reindex-tables")
    enqueue(worker, [spore("sp-only", "m-only"), record("prompt_batches", "pbat-only", "m-only", session_id="s", created_at=1)], "m-only")
    answer = httpx.post(f"{worker.url}/vectors/reindex", json={}, headers=AUTH).json()
    embedded = {name for name, table in read_contract().tables.items() if table.embed}
    assert set(answer["by_table"]) == embedded == {"artifacts", "plans", "sessions", "skill_records", "spores"}
    assert (answer["enqueued"], get(worker, "/queue-stats")["backlog"]) == (1, 1)


def test_without_ai_and_vectorize_bindings_records_are_accepted_and_jobs_wait(start_worker, tmp_path):
    state = tmp_path / "unbound"
    worker = start_worker(upto=schema_version(), state=state, extra={"serviceWorkers": [], "serviceBindings": {}})
    answer = enqueue(worker, [spore("sp-unbound", "m-unbound")], "m-unbound")
    assert (answer["accepted"], answer["embeddings"]["failed"]) == (1, 1)
    assert read_rows(state, "SELECT last_error FROM team_embed_backlog") == [("the Workers AI binding AI is missing",)]
    health = httpx.get(f"{worker.url}/health").json()
    assert (health["bindings"]["ai"], health["bindings"]["vectorize"]) == (False, False)


def test_vectors_are_read_back_with_ids_values_and_metadata_and_deletes_reach_the_index(start_worker, tmp_path):
    worker = start_worker(upto=schema_version(), state=tmp_path / "read-back")
    # vectors an older Worker wrote under the legacy ids: both go once their rows are written again
    stand_in(worker, "PUT", "/vectors", json={"vectors": [{"id": "spores:sp-read:m-read"}, {"id": "plans:plan-gone:m-read"}]})
    content = "read the vector back from the index"
    plan = record("plans", "plan-gone", "m-read", content="a plan to delete", status="active", created_at=7, logical_key="k")
    enqueue(worker, [spore("sp-read", "m-read", content=content, session_id="sess_9"), plan], "m-read")

    index = {vector["id"]: vector for vector in stand_in(worker, "GET", "/vectors", params={"values": "1"})["vectors"]}
    assert set(index) == {vector_id("spores", "sp-read", "m-read"), vector_id("plans", "plan-gone", "m-read")}
    written = index[vector_id("spores", "sp-read", "m-read")]
    assert written["values"] == stand_in(worker, "POST", "/embed", json={"text": content})["values"]
    assert len(written["values"]) == load_environment("local").vectorize.dimensions
    assert written["metadata"] == {"table": "spores", "id": "sp-read", "machine_id": "m-read", "project_id": PROJECT, "status": "active",
                                   "observation_type": "decision", "session_id": "sess_9", "created_at": 1_767_225_600}
    assert index[vector_id("plans", "plan-gone", "m-read")]["metadata"] == {
        "table": "plans", "id": "plan-gone", "machine_id": "m-read", "project_id": PROJECT, "status": "active", "created_at": 7}

    answer = enqueue(worker, [record("plans", "plan-gone", "m-read", "delete")], "m-read")
    assert answer["embeddings"]["removed"] == 1
    assert set(stored_vectors(worker)) == {vector_id("spores", "sp-read", "m-read")}
