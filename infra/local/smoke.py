"""The smoke test: a few real requests that say a running Worker is usable, local or deployed.

Checks, in order: `/health` answers 200 with status ok and the schema version the repository
expects (applied at least that); `/sync` without the key is refused (401); a /sync round trip with
the key (upsert a marker session, re-send it and see it skipped because it is stored, delete it).
The marker lives under machine_id `hyphae-smoke` and is deleted, so nothing is left behind.
Raises SmokeTestFailed naming the check; never prints the key.

Right after a deploy, a new workers.dev route takes a while to reach every edge location: the
first requests may answer 404 ("There is nothing here yet"), 5xx, or the previous version. So a
deployed Worker's health check is retried with backoff for up to `PROPAGATION_SECONDS`, and then
fails with what it saw last. A local Worker is ready when it listens: no waiting there.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Callable

import httpx

from infra.errors import HyphaeError

SMOKE_MACHINE = "hyphae-smoke"
TIMEOUT_SECONDS = 20.0
PROPAGATION_SECONDS = 60.0
FIRST_RETRY_SECONDS, LONGEST_RETRY_SECONDS = 1.0, 15.0


class SmokeTestFailed(HyphaeError):
    """A running Worker failed a smoke check; the message names the check and the URL."""


@dataclass(frozen=True)
class SmokeResult:
    url: str
    health: dict
    checks: tuple[str, ...]


def _request(client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
    try:
        return client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise SmokeTestFailed(f"{url}: no answer ({type(error).__name__}: {error})") from None


def check_health(client: httpx.Client, url: str, expected_schema: int, protocol: int) -> dict:
    response = _request(client, "GET", f"{url}/health")
    try:
        body = response.json()
    except ValueError:
        shown = " ".join(response.text.split())[:120]
        raise SmokeTestFailed(f"{url}/health: answered {response.status_code} without JSON: {shown!r}") from None
    if body.get("schema_version") != expected_schema:
        raise SmokeTestFailed(
            f"{url}/health: the Worker was built for schema {body.get('schema_version')}, the repository is at {expected_schema}; deploy a fresh build"
        )
    if response.status_code != 200 or body.get("status") != "ok":
        raise SmokeTestFailed(
            f"{url}/health: status {body.get('status')!r} (schema applied {body.get('schema_version_applied')}, "
            f"Worker needs {body.get('schema_version')}); run the migrations for this environment"
        )
    if body.get("sync_protocol_version") != protocol:
        raise SmokeTestFailed(f"{url}/health: sync protocol {body.get('sync_protocol_version')}, expected {protocol}")
    return body


def wait_until_serving(client: httpx.Client, url: str, expected_schema: int, protocol: int, *, within: float,
                       sleep: Callable[[float], None] = time.sleep,
                       clock: Callable[[], float] = time.monotonic) -> dict:
    """The health check, retried with backoff until it passes or `within` seconds have gone; the
    last failure, with how long and how often it was tried, is raised."""
    deadline = clock() + within
    delay, attempts = FIRST_RETRY_SECONDS, 0
    while True:
        attempts += 1
        try:
            return check_health(client, url, expected_schema, protocol)
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


def check_key_required(client: httpx.Client, url: str, protocol: int) -> None:
    response = _request(client, "POST", f"{url}/sync", json={"sync_protocol_version": protocol, "machine_id": SMOKE_MACHINE, "records": []})
    if response.status_code != 401:
        raise SmokeTestFailed(f"{url}/sync: a request without the team API key got {response.status_code}, expected 401")


def _sync(client: httpx.Client, url: str, api_key: str, protocol: int, records: list[dict]) -> dict:
    body = {"sync_protocol_version": protocol, "machine_id": SMOKE_MACHINE, "records": records}
    response = _request(client, "POST", f"{url}/sync", json=body, headers={"authorization": f"Bearer {api_key}"})
    if response.status_code != 200:
        raise SmokeTestFailed(f"{url}/sync: the team API key got {response.status_code}: {response.text[:200]}")
    result = response.json()
    if result.get("errors"):
        raise SmokeTestFailed(f"{url}/sync: record errors {result['errors']}")
    return result


def check_sync_round_trip(client: httpx.Client, url: str, api_key: str, protocol: int) -> None:
    marker = f"smoke-{secrets.token_hex(6)}"
    data = {"agent": "hyphae-smoke", "started_at": 0, "created_at": 0, "title": "hyphae smoke test"}
    upsert = {"table": "sessions", "operation": "upsert", "id": marker, "content_hash": marker, "data": data}
    written = _sync(client, url, api_key, protocol, [upsert])
    again = _sync(client, url, api_key, protocol, [upsert])
    deleted = _sync(client, url, api_key, protocol, [{"table": "sessions", "operation": "delete", "id": marker}])
    if (written.get("synced"), again.get("skipped"), deleted.get("synced")) != (1, 1, 1):
        raise SmokeTestFailed(f"{url}/sync: round trip wrote {written.get('synced')}, re-read {again.get('skipped')}, deleted {deleted.get('synced')} (expected 1, 1, 1)")


def run_smoke(url: str, api_key: str, *, expected_schema: int, protocol: int, wait_seconds: float = 0.0,
              sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> SmokeResult:
    """Run every check against `url` (waiting up to `wait_seconds` for it to serve at all); returns
    the health body. Raises SmokeTestFailed."""
    url = url.rstrip("/")
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        health = wait_until_serving(client, url, expected_schema, protocol, within=wait_seconds, sleep=sleep, clock=clock)
        check_key_required(client, url, protocol)
        check_sync_round_trip(client, url, api_key, protocol)
    return SmokeResult(url=url, health=health, checks=("health and schema", "request without key refused", "sync round trip"))
