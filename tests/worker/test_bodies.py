"""Request bodies have a budget (hyphae:worker.maxBodyBytes): 413 from Content-Length before a byte
is read, a streamed cap while reading, and refusals that cancel a large body instead of reading it
(the platform gives a Worker 128 MB; a body read whole takes several times its size). Over HTTP on
workerd, with the client counting what it managed to send; http.js's helpers also by node, with a
body stream that counts what they read.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from infra.bench.worker_load import CountingBody, workerd_peak_kib
from infra.environments import load_environment, schema_version
from tests.worker.conftest import AUTH, http_in_node, plan_vars, read_rows, session

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


# worker-http's survivors (lines 1-99)

# A request as http.js reads it (body, bodyUsed, headers), its body a stream of the given chunks
# that counts the bytes read from it and whether it was cancelled; nothing is pulled before a read.
FAKE_REQUEST = """
function fakeRequest(chunks, headers = {}) {
  const seen = { read: 0, cancelled: false };
  let next = 0;
  const body = new ReadableStream({
    pull(controller) {
      if (next === chunks.length) { controller.close(); return; }
      const chunk = chunks[next++];
      seen.read += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel() { seen.cancelled = true; },
  }, { highWaterMark: 0 });
  return { request: { body, bodyUsed: false, headers: new Headers(headers) }, seen };
}
const sized = (...sizes) => sizes.map((size) => new Uint8Array(size).fill(32));
"""
MIB = 1024 * 1024


def test_max_body_bytes_falls_back_to_16_mib_for_a_missing_or_unusable_setting():
    """Guards against a default limit that is not 16 MiB (16 * 1024 / 1024 is 16 bytes), and a
    MAX_BODY_BYTES of 0, a negative number or no number at all taken as the limit instead of the
    default (every body refused, or a limit of NaN that refuses none)."""
    answer = http_in_node("""answer = [{}, { MAX_BODY_BYTES: "" }, { MAX_BODY_BYTES: "none" }, { MAX_BODY_BYTES: "0" },
        { MAX_BODY_BYTES: "-5" }, { MAX_BODY_BYTES: "65536" }, { MAX_BODY_BYTES: 1 }].map(http.maxBodyBytes);""")
    assert answer == [16 * MIB] * 5 + [65536, 1]


def test_a_body_is_decoded_across_chunks_that_split_a_character():
    """Guards against each chunk decoded on its own (`stream` not set): a character whose UTF-8 bytes
    arrive in two chunks would refuse a valid body as "not UTF-8 text"; and against a request without
    a body (null) failing or read as other text than the empty one."""
    answer = http_in_node(FAKE_REQUEST + """
        const bytes = new TextEncoder().encode('{"name": "\u00e9t\u00e9 \u20ac"}');
        const cut = bytes.indexOf(0xc3) + 1;
        const { request } = fakeRequest([bytes.slice(0, cut), bytes.slice(cut, cut + 1), bytes.slice(cut + 1)]);
        const { request: empty } = fakeRequest([]);
        answer = [await http.readBodyText(request, {}), await http.readBodyText({ body: null, headers: new Headers() }, {}),
                  await http.readBodyText(empty, {})];""")
    assert answer == ['{"name": "\u00e9t\u00e9 \u20ac"}', "", ""]


@pytest.mark.parametrize(("chunks", "headers", "read", "cancelled"), [
    pytest.param("sized(100)", {"content-length": "100"}, 100, False, id="small-declared-drained"),
    pytest.param("sized(100, 100, 100)", {"content-length": "300"}, 300, False, id="small-in-pieces-drained"),
    pytest.param("sized(512 * 1024, 512 * 1024)", {"content-length": str(MIB)}, MIB, False, id="1-MiB-declared-drained"),
    pytest.param("sized(512 * 1024, 512 * 1024)", {}, MIB, False, id="1-MiB-chunked-drained"),
    pytest.param("sized(512 * 1024, 512 * 1024)", {"content-length": str(MIB + 1)}, 0, True, id="over-1-MiB-declared-cancelled-unread"),
    pytest.param("sized(512 * 1024, 512 * 1024, 1, 512 * 1024)", {}, MIB + 1, True, id="over-1-MiB-chunked-cancelled"),
    # 64 KiB pieces, no length: 16 make the MiB drained, the 17th passes it and the rest is cancelled
    pytest.param("sized(...Array(64).fill(64 * 1024))", {}, 17 * 64 * 1024, True, id="64-KiB-pieces-cancelled-after-the-17th"),
])
def test_a_refused_body_is_drained_up_to_1_mib_and_cancelled_past_it(chunks, headers, read, cancelled):
    """Guards against settleUnreadBody reading a body declared over 1 MiB before cancelling it
    (the declared length ignored or compared with >=), cancelling a small rest or one of exactly
    1 MiB, declared or streamed, instead of reading it to its end (workerd resets a kept-alive
    connection closed with unread data), and reading past 1 MiB of an undeclared one (its byte
    count going down)."""
    answer = http_in_node(FAKE_REQUEST + f"""
        const {{ request, seen }} = fakeRequest({chunks}, {json.dumps(headers)});
        await http.settleUnreadBody(request);
        answer = seen;""")
    assert answer == {"read": read, "cancelled": cancelled}


def test_a_refusal_has_the_json_content_type_and_is_never_cached(running_worker):
    """Guards against a JSON answer sent without its content type (or an empty one) or without
    `cache-control: no-store`, and a body that is not JSON passing the parse (its error swallowed)
    or refused with another message."""
    response = httpx.post(f"{running_worker.url}/enqueue", content=b'{"records": [', headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"error": "the request body is not valid JSON"}
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("body", [b"null", b"[]", b'[{"machine_id": "m1"}]', b"3", b'"text"', b"true"])
def test_a_json_body_that_is_not_an_object_is_400(running_worker, body):
    """Guards against null, an array, a number, a string or a boolean taken as the request's object
    (a 500 from reading a field of null, or a message about a field instead of the body)."""
    response = httpx.post(f"{running_worker.url}/enqueue", content=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"error": "the request body must be a JSON object"}


@pytest.mark.parametrize(("path", "body", "status", "answer"), [
    pytest.param("/enqueue", None, 400, {"error": "the request body is not valid JSON"}, id="required-absent"),
    pytest.param("/enqueue", b"", 400, {"error": "the request body is not valid JSON"}, id="required-empty"),
    pytest.param("/enqueue", b" \n\t", 400, {"error": "the request body is not valid JSON"}, id="required-blank"),
    pytest.param("/rebuild", None, 400, {"error": "machine_id is required (a non-empty string)"}, id="optional-absent"),
    pytest.param("/rebuild", b"", 400, {"error": "machine_id is required (a non-empty string)"}, id="optional-empty"),
    pytest.param("/rebuild", b" \n\t", 400, {"error": "machine_id is required (a non-empty string)"}, id="optional-blank"),
    pytest.param("/rebuild", b"{]", 400, {"error": "the request body is not valid JSON"}, id="optional-not-json"),
    pytest.param("/rebuild", b'{"machine_id": "m-nobody"}', 200, {"ok": True, "machine_id": "m-nobody"}, id="optional-given"),
])
def test_an_empty_body_is_no_json_unless_the_route_takes_it_as_optional(running_worker, path, body, status, answer):
    """Guards against an empty or blank body read as {} by a route that requires a body (a message
    about a field instead of "not valid JSON"), refused as JSON by a route where it is optional
    (/rebuild's and /vectors/reindex's), only the empty one and not a blank one taken as absent, a
    body never read (a 500), and a body given to an optional route ignored."""
    response = httpx.post(f"{running_worker.url}{path}", content=body, headers=AUTH)
    got = response.json()
    if status == 200:  # and what it deleted: nothing, that machine never sent a record
        got = {key: got[key] for key in answer}
    assert (response.status_code, got) == (status, answer)


def padded_payload(size: int) -> bytes:
    """A valid /enqueue body of exactly `size` bytes (one record, padded with trailing blanks)."""
    payload = json.dumps({"machine_id": "m-exact", "sync_protocol_version": 3, "records": [session("s-exact", "m-exact")]}).encode()
    assert len(payload) < size
    return payload + b" " * (size - len(payload))


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413(small_limit_worker, declared):
    """Guards against a body of exactly hyphae:worker.maxBodyBytes refused with 413 (its declared
    length or its streamed count compared with >=): the limit is the largest body accepted."""
    def send(payload: bytes):
        if declared:
            return httpx.post(f"{small_limit_worker.url}/enqueue", content=payload, headers=AUTH, timeout=60)
        return httpx.post(f"{small_limit_worker.url}/enqueue", content=iter([payload]), headers=AUTH, timeout=60)

    response = send(padded_payload(SMALL_LIMIT))
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1
    response = send(padded_payload(SMALL_LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {"error": f"the request body is over {SMALL_LIMIT} bytes (hyphae:worker.maxBodyBytes); "
                                        "send fewer or smaller records"}
