"""The smoke test: a few real requests, in the Myco client's protocol, that say a running Worker
is usable, local or deployed.

Checks, in order:
1. `/health` answers 200, status ok, the schema version the repository expects, and the protocol
   window of the environment model;
2. `/enqueue` without the team key is refused (401);
3. `/connect` as a client would: connected, an MCP token, and `/health` then shows the client's
   own hash of that token (else every client would reconnect forever);
4. a push round trip: a marker spore is accepted, the same push again is unchanged, the row is in
   D1 (`/records`, `/manifest`) and its vector was written: in the local stand-in index itself
   (`stand_ins=True`, `invoke local`), else as reported by the answer (Vectorize is eventually
   consistent for reads); then it is deleted and gone.
The marker lives under machine_id `hyphae-smoke` and is deleted (the node row `hyphae-smoke`
stays in `nodes`). Raises SmokeTestFailed naming the check; never prints the key.

Right after a deploy, a new workers.dev route takes a while to reach every edge location: the
first requests may answer 404 ("There is nothing here yet"), 5xx, or the previous version. So a
deployed Worker's health check is retried with backoff for up to `PROPAGATION_SECONDS`, and then
fails with what it saw last. A local Worker is ready when it listens: no waiting there.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Callable

import httpx

from infra.errors import HyphaeError

SMOKE_MACHINE = "hyphae-smoke"
SMOKE_PROJECT = "proj_" + "5a0e" * 8
TIMEOUT_SECONDS = 30.0
PROPAGATION_SECONDS = 60.0
FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS = 1.0, 15.0
CHECKS = ("health and protocol window", "request without key refused", "connect and MCP token hash", "push round trip")


class SmokeTestFailed(HyphaeError):
    """A running Worker failed a smoke check; the message names the check and the URL."""


@dataclass(frozen=True)
class SmokeResult:
    url: str
    health: dict
    checks: tuple[str, ...]


def client_token_hash(token: str) -> str:
    """The Myco client's hash of the MCP token (reference §3.6): Java's String.hashCode over the
    UTF-16 code units, its absolute value, 8 lowercase hex digits."""
    units = token.encode("utf-16-le")
    value = 0
    for index in range(0, len(units), 2):
        value = (value * 31 + int.from_bytes(units[index:index + 2], "little")) & 0xFFFFFFFF
    signed = value - (1 << 32) if value >= 1 << 31 else value
    return f"{abs(signed):08x}"[:8]


def vector_id(table: str, record_id: str, machine_id: str) -> str:
    """The Worker's Vectorize id of a row (reference §6)."""
    digest = hashlib.sha256(f"{table}:{record_id}:{machine_id}".encode()).digest()[:16]
    return "v1:" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


class _Session:
    def __init__(self, client: httpx.Client, url: str, api_key: str):
        self.client, self.url, self.headers = client, url, {"authorization": f"Bearer {api_key}"}

    def request(self, method: str, path: str, *, auth: bool = True, headers: dict | None = None, **kwargs) -> httpx.Response:
        try:
            return self.client.request(method, f"{self.url}{path}", headers={**(self.headers if auth else {}), **(headers or {})}, **kwargs)
        except httpx.HTTPError as error:
            raise SmokeTestFailed(f"{self.url}{path}: no answer ({type(error).__name__}: {error})") from None

    def json(self, method: str, path: str, *, expect: int = 200, **kwargs) -> dict:
        response = self.request(method, path, **kwargs)
        if response.status_code != expect:
            raise SmokeTestFailed(f"{self.url}{path}: the team API key got {response.status_code}: {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise SmokeTestFailed(f"{self.url}{path}: answered {response.status_code} without JSON") from None


def check_health(session: _Session, expected_schema: int, protocol: int, min_protocol: int | None) -> dict:
    response = session.request("GET", "/health", auth=False)
    try:
        body = response.json()
    except ValueError:
        shown = " ".join(response.text.split())[:120]
        raise SmokeTestFailed(f"{session.url}/health: answered {response.status_code} without JSON: {shown!r}") from None
    if body.get("schema_version") != expected_schema:
        raise SmokeTestFailed(f"{session.url}/health: the Worker was built for schema {body.get('schema_version')}, "
                              f"the repository is at {expected_schema}; deploy a fresh build")
    if response.status_code != 200 or body.get("status") != "ok":
        raise SmokeTestFailed(f"{session.url}/health: status {body.get('status')!r} (schema applied {body.get('schema_version_applied')}, "
                              f"Worker needs {body.get('schema_version')}); run the migrations for this environment")
    advertised = (body.get("sync_protocol_version"), body.get("min_compat_client_version"))
    if advertised[0] != protocol or (min_protocol is not None and advertised[1] != min_protocol):
        raise SmokeTestFailed(f"{session.url}/health: advertises protocol {advertised[0]} (minimum {advertised[1]}), "
                              f"the environment model says {protocol} (minimum {min_protocol})")
    return body


def wait_until_serving(session: _Session, expected_schema: int, protocol: int, min_protocol: int | None, *,
                       within: float, sleep: Callable[[float], None] = time.sleep,
                       clock: Callable[[], float] = time.monotonic) -> dict:
    """The health check, retried with backoff until it passes or `within` seconds have gone; the
    last failure, with how long and how often it was tried, is raised."""
    deadline = clock() + within
    delay, attempts = FIRST_RETRY_SECONDS, 0
    while True:
        attempts += 1
        try:
            return check_health(session, expected_schema, protocol, min_protocol)
        except SmokeTestFailed as failure:
            last = failure
        if clock() + delay > deadline:
            break
        sleep(delay)
        delay = min(delay * 2, LONGEST_RETRY_SECONDS)
    if attempts == 1:
        raise last
    raise SmokeTestFailed(f"{last} (still so after {attempts} attempts over {within:.0f} s, the time a new "
                          "workers.dev route takes to propagate)")


def check_key_required(session: _Session, protocol: int) -> None:
    body = {"sync_protocol_version": protocol, "machine_id": SMOKE_MACHINE, "records": []}
    response = session.request("POST", "/enqueue", auth=False, json=body)
    if response.status_code != 401:
        raise SmokeTestFailed(f"{session.url}/enqueue: a request without the team API key got {response.status_code}, expected 401")


def check_connect(session: _Session, protocol: int) -> None:
    answer = session.json("POST", "/connect", json={"machine_id": SMOKE_MACHINE, "sync_protocol_version": protocol})
    token = answer.get("mcp_token")
    if answer.get("status") != "connected" or not isinstance(token, str) or not token:
        raise SmokeTestFailed(f"{session.url}/connect: no MCP token in the answer (status {answer.get('status')!r})")
    shown = session.json("GET", "/health", auth=False).get("mcp_token_hash")
    if shown != client_token_hash(token):
        raise SmokeTestFailed(f"{session.url}/health: mcp_token_hash {shown!r} is not the client's hash of the token /connect "
                              "returned; every client would reconnect after each /health")


def _push(session: _Session, protocol: int, records: list[dict]) -> dict:
    answer = session.json("POST", "/enqueue", json={"sync_protocol_version": protocol, "machine_id": SMOKE_MACHINE, "records": records})
    if answer.get("rejected") or answer.get("dead_lettered"):
        raise SmokeTestFailed(f"{session.url}/enqueue: the marker was refused: {answer.get('rejected') or answer.get('dead_lettered')}")
    return answer


def _stand_in_vectors(session: _Session) -> set[str]:
    from infra.local.runtime import STAND_INS_HOST

    response = session.request("GET", "/vectors", auth=False, headers={"host": STAND_INS_HOST})
    if response.status_code != 200:
        raise SmokeTestFailed(f"{session.url}: the local stand-in index did not answer ({response.status_code})")
    return {vector["id"] for vector in response.json()["vectors"]}


def check_push_round_trip(session: _Session, protocol: int, stand_ins: bool) -> None:
    marker = f"spore_smoke{secrets.token_hex(10)}"
    data = {"id": marker, "project_id": SMOKE_PROJECT, "agent_id": "hyphae-smoke", "observation_type": "smoke",
            "content": "hyphae smoke test marker", "status": "active", "embedded": 0, "content_hash": marker,
            "machine_id": SMOKE_MACHINE, "created_at": 0}
    upsert = {"table": "spores", "id": marker, "machine_id": SMOKE_MACHINE, "operation": "upsert", "content_hash": marker, "data": data}
    written = _push(session, protocol, [upsert])
    again = _push(session, protocol, [upsert])
    if (written.get("accepted"), again.get("unchanged")) != (1, 1):
        raise SmokeTestFailed(f"{session.url}/enqueue: accepted {written.get('accepted')}, then unchanged {again.get('unchanged')} (expected 1, 1)")
    stored = session.json("GET", f"/records/spores/{marker}", params={"machine_id": SMOKE_MACHINE}).get("record") or {}
    listed = session.json("GET", "/manifest", params={"machine_id": SMOKE_MACHINE, "table": "spores", "project_id": SMOKE_PROJECT})
    if stored.get("content") != data["content"] or marker not in [item["id"] for item in listed.get("items", [])]:
        raise SmokeTestFailed(f"{session.url}: the accepted marker is not in D1 (/records, /manifest)")
    vector = vector_id("spores", marker, SMOKE_MACHINE)
    if (written.get("embeddings") or {}).get("written") != 1 or (stand_ins and vector not in _stand_in_vectors(session)):
        raise SmokeTestFailed(f"{session.url}/enqueue: the marker's vector was not written ({written.get('embeddings')})")
    delete = {"table": "spores", "id": marker, "machine_id": SMOKE_MACHINE, "operation": "delete",
              "data": {"id": marker, "machine_id": SMOKE_MACHINE, "project_id": SMOKE_PROJECT}}
    _push(session, protocol, [delete])
    if session.request("GET", f"/records/spores/{marker}", params={"machine_id": SMOKE_MACHINE}).status_code != 404:
        raise SmokeTestFailed(f"{session.url}/enqueue: the marker was not deleted")
    if stand_ins and vector in _stand_in_vectors(session):
        raise SmokeTestFailed(f"{session.url}/enqueue: the deleted marker's vector is still in the index")


def run_smoke(url: str, api_key: str, *, expected_schema: int, protocol: int, min_protocol: int | None = None,
              stand_ins: bool = False, wait_seconds: float = 0.0, sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic) -> SmokeResult:
    """Run every check against `url` (waiting up to `wait_seconds` for it to serve at all); returns
    the health body. Raises SmokeTestFailed."""
    url = url.rstrip("/")
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        session = _Session(client, url, api_key)
        health = wait_until_serving(session, expected_schema, protocol, min_protocol, within=wait_seconds,
                                    sleep=sleep, clock=clock)
        check_key_required(session, protocol)
        check_connect(session, protocol)
        check_push_round_trip(session, protocol, stand_ins)
    return SmokeResult(url=url, health=health, checks=CHECKS)
