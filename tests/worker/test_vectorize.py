"""Embeddings: a Vectorize failure is reported per record and never undoes the D1 write.

Vectorize cannot be emulated by workerd, so the module's Worker binds MYCO_TEAM_VECTORS to a
small RPC stand-in (fake_vectorize.mjs) that, like the real index, refuses a vector of the wrong
dimensions. The Worker code is the production bundle, unchanged.
"""

from __future__ import annotations

import httpx
import pytest

from infra.environments import load_environment, schema_version
from tests.worker.conftest import TEAM_KEY, read_rows, vectorize_stand_in

pytestmark = pytest.mark.workerd

AUTH = {"authorization": f"Bearer {TEAM_KEY}"}
DIMENSIONS = load_environment("local").vectorize.dimensions


def spore(record_id: str, embedding: list[float]) -> dict:
    data = {"agent_id": "a", "observation_type": "note", "content": f"c-{record_id}", "created_at": 1, "project_id": "p"}
    return {"table": "spores", "operation": "upsert", "id": record_id, "content_hash": "h", "data": data, "embedding": embedding}


def sync(url: str, records: list[dict]) -> dict:
    body = {"sync_protocol_version": 2, "machine_id": "m-vec", "records": records}
    response = httpx.post(f"{url}/sync", json=body, headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_vectorize_failure_is_reported_per_record_and_the_d1_write_is_kept(running_worker, worker_state):
    result = sync(running_worker.url, [spore("v-ok", [0.1] * DIMENSIONS), spore("v-bad", [0.1, 0.2, 0.3])])
    assert (result["synced"], result["errors"], result["embedded"]) == (2, [], 1)
    assert result["vectorize"] == "bound"
    [failure] = result["embed_failed"]
    assert (failure["id"], failure["table"]) == ("v-bad", "spores")
    assert failure["error"].startswith("embed_failed:") and "dimensions" in failure["error"]
    stored = read_rows(worker_state, "SELECT id FROM spores WHERE machine_id = 'm-vec' ORDER BY id")
    assert stored == [("v-bad",), ("v-ok",)]
    [(embed_ok, embed_failed, last_error)] = read_rows(worker_state, "SELECT embed_ok, embed_failed, last_embed_error FROM team_sync_stats")
    assert (embed_ok, embed_failed) == (1, 1) and "dimensions" in last_error


def test_without_a_vectorize_binding_sync_still_works_and_says_unbound(start_worker):
    worker = start_worker(upto=schema_version())
    result = sync(worker.url, [spore("v-local", [0.5] * DIMENSIONS)])
    assert (result["synced"], result["embedded"], result["embed_failed"]) == (1, 0, [])
    assert result["vectorize"] == "unbound"


def test_an_embedding_that_is_not_numbers_is_a_record_error(running_worker):
    result = sync(running_worker.url, [spore("v-text", ["a", "b"])])
    assert result["synced"] == 0
    assert result["errors"][0]["error"] == "embedding must be an array of numbers"


def test_re_sending_a_record_after_embed_failed_embeds_it_without_rewriting_the_row(start_worker, tmp_path):
    state = tmp_path / "retry-state"
    worker = start_worker(upto=schema_version(), state=state, extra=vectorize_stand_in())
    failed = sync(worker.url, [spore("v-retry", [0.1, 0.2])])
    assert (failed["synced"], len(failed["embed_failed"])) == (1, 1)
    resent = spore("v-retry", [0.3] * DIMENSIONS)
    resent["data"]["content"] = "not written: same content_hash"
    retried = sync(worker.url, [resent])
    assert (retried["synced"], retried["skipped"], retried["embedded"], retried["embed_failed"]) == (0, 1, 1, [])
    assert read_rows(state, "SELECT content FROM spores WHERE id = 'v-retry'") == [("c-v-retry",)]
    assert read_rows(state, "SELECT embed_ok, embed_failed FROM team_sync_stats") == [(1, 1)]
