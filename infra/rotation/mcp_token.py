"""`invoke rotate --credential mcp-token`: a new MCP token, through the Worker itself.

The token is runtime state in KV that only the Worker writes (the Pulumi program has no part in
it, so a later `up` never reverts it). The rotation is the Worker's own `POST /mcp/rotate`, the
call the daemon's UI makes too; the Worker records it (`team_credential_events`, with the
`x-hyphae-actor` this sends), wherever it was run from. Then `/health` must show the new token's
hash: that is how every client notices and fetches it through `/connect`. The token itself is
never printed, logged or kept: only its fingerprint, the client's 8-hex hash that /health shows.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from infra.errors import HyphaeError
from infra.local.smoke import client_token_hash

TIMEOUT_SECONDS = 30.0
# Workers KV is eventually consistent: another location may read the old token for up to 60 s.
PROPAGATION_SECONDS = 60.0


class McpRotationFailed(HyphaeError):
    """The Worker did not rotate the token, or /health does not show the new one."""


@dataclass(frozen=True)
class McpRotation:
    before: str | None  # the fingerprint /health showed before (None: no token yet)
    after: str
    rotated_at: int | None  # epoch seconds, as the Worker recorded it


def actor() -> str:
    """Who rotates, for the Worker's record: the CI run, or user@host."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        return f"invoke rotate (github {os.environ.get('GITHUB_ACTOR', '?')}, run {os.environ.get('GITHUB_RUN_ID', '?')})"
    return f"invoke rotate ({getpass.getuser()}@{socket.gethostname()})"


def rotate_mcp_token(url: str, team_key: str, *, wait_seconds: float = 0.0, sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> McpRotation:
    """Rotate through `url`'s /mcp/rotate and wait (up to `wait_seconds`) until /health shows the
    new fingerprint. Raises McpRotationFailed naming the step."""
    url = url.rstrip("/")
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        before = _health_fingerprint(client, url)
        answer = _rotate(client, url, team_key)
        token = answer.get("token")
        if not isinstance(token, str) or not token:
            raise McpRotationFailed(f"{url}/mcp/rotate answered 200 without a token")
        after = client_token_hash(token)
        del token, answer["token"]  # nothing below may show it
        if answer.get("mcp_token_hash") not in (None, after):
            raise McpRotationFailed(f"{url}/mcp/rotate: the Worker's hash {answer['mcp_token_hash']!r} is not the client's "
                                    f"{after!r}: every client would reconnect after each /health")
        _wait_for_fingerprint(client, url, after, wait_seconds, sleep, clock)
    return McpRotation(before, after, answer.get("rotated_at"))


def _health_fingerprint(client: httpx.Client, url: str) -> str | None:
    try:
        response = client.get(f"{url}/health")
        return response.json().get("mcp_token_hash")
    except (httpx.HTTPError, ValueError) as error:
        raise McpRotationFailed(f"{url}/health: no usable answer ({type(error).__name__}); is the Worker running?") from None


def _rotate(client: httpx.Client, url: str, team_key: str) -> dict:
    try:
        response = client.post(f"{url}/mcp/rotate", headers={"authorization": f"Bearer {team_key}", "x-hyphae-actor": actor()})
    except httpx.HTTPError as error:
        raise McpRotationFailed(f"{url}/mcp/rotate: no answer ({type(error).__name__}); the token may or may not have "
                                "changed: run `invoke credentials` or rotate again") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        # Only the error field: a refusal carries no token, but the body is not shown whole anyway.
        raise McpRotationFailed(f"{url}/mcp/rotate answered {response.status_code}: {str(body.get('error', ''))[:200]}")
    return body


def _wait_for_fingerprint(client, url, wanted: str, within: float, sleep, clock) -> None:
    deadline = clock() + within
    while True:
        shown = _health_fingerprint(client, url)
        if shown == wanted:
            return
        if clock() >= deadline:
            raise McpRotationFailed(f"{url}/health still shows mcp_token_hash {shown!r}, not the new {wanted!r}"
                                    f"{f' after {within:.0f} s' if within else ''}: clients would not notice the rotation")
        sleep(1.0)
