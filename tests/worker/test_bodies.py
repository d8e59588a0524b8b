"""Request bodies have a budget (hyphae:worker.maxBodyBytes): 413 from Content-Length before a byte
is read, a streamed cap while reading, and refusals that cancel a large body instead of reading it
(the platform gives a Worker 128 MB; a body read whole takes several times its size). Over HTTP on
workerd, with the client counting what it managed to send.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from infra.bench.worker_load import CountingBody, workerd_peak_kib
from infra.environments import load_environment, schema_version
from tests.worker.conftest import AUTH, plan_vars, read_rows, session

pytestmark = pytest.mark.workerd

MEGABYTE = 1 << 20
SMALL_LIMIT = 65536


@pytest.fixture
def small_limit_worker(start_worker):
    return start_worker(upto=schema_version(), extra={"vars": {**plan_vars("paid"), "MAX_BODY_BYTES": str(SMALL_LIMIT)}})


def test_an_unauthenticated_100_mb_post_is_refused_without_being_read(start_worker):
    worker = start_worker(upto=schema_version())
    httpx.get(f"{worker.url}/health")
    before = workerd_peak_kib(worker.process.pid)
    body = CountingBody(100 * MEGABYTE)
    response = httpx.post(f"{worker.url}/enqueue", content=body, headers={"content-length": str(body.size)}, timeout=120)
    assert response.status_code == 401
    assert response.json()["error"].startswith("missing bearer token")
    assert response.headers["www-authenticate"].startswith("Bearer")
    # the refusal cancelled the body: what the client got onto the wire is socket buffers, not 100 MB
    assert body.sent < 16 * MEGABYTE, f"{body.sent} bytes were taken before the refusal"
    # and workerd's memory did not grow by the body (it grew by ~220 MB when the body was read first)
    assert workerd_peak_kib(worker.process.pid) - before < 32 * 1024


def test_a_declared_length_over_the_limit_is_413_before_reading(small_limit_worker):
    body = CountingBody(20 * MEGABYTE)
    response = httpx.post(f"{small_limit_worker.url}/enqueue", content=body, headers={**AUTH, "content-length": str(body.size)}, timeout=120)
    assert response.status_code == 413
    assert response.json()["error"] == (f"the request body is over {SMALL_LIMIT} bytes (hyphae:worker.maxBodyBytes); "
                                        "send fewer or smaller records")
    assert body.sent < 16 * MEGABYTE


def test_a_streamed_body_is_cut_off_at_the_limit(small_limit_worker, tmp_path):
    records = [session(f"s-stream-{index}", "m-stream", summary="z" * 2000) for index in range(60)]
    payload = json.dumps({"machine_id": "m-stream", "sync_protocol_version": 3, "records": records}).encode()
    assert len(payload) > SMALL_LIMIT * 1.5

    def chunks():  # no Content-Length: sent chunked, so only counting while reading can stop it
        for start in range(0, len(payload), 16384):
            yield payload[start:start + 16384]

    response = httpx.post(f"{small_limit_worker.url}/enqueue", content=chunks(), headers=AUTH, timeout=60)
    assert response.status_code == 413
    assert "hyphae:worker.maxBodyBytes" in response.json()["error"]
    state = Path(small_limit_worker.log_path).parent.parent
    assert read_rows(state, "SELECT count(*) FROM sessions") == [(0,)]


def test_a_body_within_the_limit_is_read_whole(small_limit_worker):
    records = [session(f"s-fits-{index}", "m-fits") for index in range(20)]
    body = json.dumps({"machine_id": "m-fits", "sync_protocol_version": 3, "records": records}).encode()
    assert len(body) < SMALL_LIMIT
    response = httpx.post(f"{small_limit_worker.url}/enqueue", content=body, headers=AUTH, timeout=60)
    assert response.status_code == 200 and response.json()["accepted"] == 20


def test_a_body_that_is_not_utf8_is_400(running_worker):
    response = httpx.post(f"{running_worker.url}/enqueue", content=b'{"records": "\xff\xfe"}', headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "the request body is not UTF-8 text"


def test_the_default_limit_is_the_environment_models(running_worker):
    limit = load_environment("local").worker.max_body_bytes
    body = CountingBody(limit + 1)
    response = httpx.post(f"{running_worker.url}/enqueue", content=body, headers={**AUTH, "content-length": str(body.size)}, timeout=120)
    assert response.status_code == 413 and str(limit) in response.json()["error"]
    assert body.sent < limit
