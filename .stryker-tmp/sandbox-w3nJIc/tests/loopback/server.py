"""The loopback Cloudflare API's HTTP core: routes, the v4 envelope, request counts and faults.

A `ThreadingHTTPServer` on 127.0.0.1 (port chosen by the OS) serving `/client/v4/...`. Areas of
the API (D1 in `d1.py`; Vectorize, Workers, ... in their own modules) register routes with
`api.route(method, pattern, name)`; a handler gets a `LoopbackRequest` and returns the `result`
of Cloudflare's envelope `{success, errors, messages, result}`, or raises `ApiFailure`.

Fault injection, per route name, consumed first in first out:
`api.inject(route, Fault.status_code(429, retry_after="1"))`, `Fault.status_code(500)`,
`Fault.delay(seconds)`, `Fault.none()` (let one request through), `Fault.drop_then_commit(seconds)`
(the client loses the connection while the request still runs), `Fault.commit_then_drop()` (the handler runs and commits, then the
connection closes without a response: the "lost response" case). `delay` and `drop_then_commit`
take `until=` a threading.Event instead: the request runs when the test sets it, so a test can
say "after the client's run finished" without guessing a duration; `api.wait_until_idle()` then
waits for every request still running. `api.latency` delays every request. `api.requests[route]` counts every request a route received, faulted ones included;
`api.log` keeps each one (with `received_at`, a monotonic time: how long a client waited between tries).
"""

from __future__ import annotations

import collections
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/client/v4"


class ApiFailure(Exception):
    """A handler's refusal: HTTP status and Cloudflare error code/message, as the real API sends them."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class LoopbackRequest:
    method: str
    route: str
    path_params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as error:
            raise ApiFailure(400, 10001, f"Malformed JSON in request body: {error.msg}") from None


@dataclass
class RawResponse:
    """A handler's escape hatch for a non-envelope response (downloads, multipart results).

    `send_only` sends that many bytes of `body` (announcing all of it) and closes the
    connection: a download cut short."""

    status: int
    body: bytes
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    send_only: int | None = None


@dataclass
class Fault:
    kind: str  # "status", "delay", "commit_then_drop", "drop_then_commit" or "none"
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0
    until: threading.Event | None = None  # wait for this (at most 60 s) instead of `seconds`

    @classmethod
    def status_code(cls, status: int, retry_after: str | None = None) -> "Fault":
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def delay(cls, seconds: float = 0.0, until: threading.Event | None = None) -> "Fault":
        """Hold the request, then run it and answer (a client that timed out meanwhile gets nothing)."""
        return cls("delay", seconds=seconds, until=until)

    @classmethod
    def commit_then_drop(cls) -> "Fault":
        return cls("commit_then_drop")

    @classmethod
    def drop_then_commit(cls, seconds: float = 0.0, until: threading.Event | None = None) -> "Fault":
        """Close the connection at once, then run the request `seconds` later (or once `until` is
        set): a request still in flight when its client gave up on it."""
        return cls("drop_then_commit", seconds=seconds, until=until)

    def wait(self) -> None:
        if self.until is not None:
            self.until.wait(timeout=60)
        else:
            time.sleep(self.seconds)

    @classmethod
    def none(cls) -> "Fault":
        """No fault: lets a request through, to aim the faults queued after it at later requests."""
        return cls("none")


@dataclass
class _Route:
    method: str
    pattern: re.Pattern
    name: str
    handler: Callable[[LoopbackRequest], Any]
    public: bool = False  # a signed storage URL: no API token (and none must be sent)


@dataclass
class RecordedRequest:
    method: str
    path: str
    route: str
    headers: dict[str, str]
    body: bytes = field(repr=False)
    received_at: float = field(default_factory=time.monotonic)


class LoopbackApi:
    """One loopback Cloudflare API server. Use as a context manager or call start()/close()."""

    def __init__(self, token: str, account_id: str):
        self.token = token
        self.account_id = account_id
        self.latency = 0.0
        self.requests: collections.Counter[str] = collections.Counter()
        self.log: list[RecordedRequest] = []
        self._routes: list[_Route] = []
        self._faults: dict[str, collections.deque[Fault]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- registry -------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, name: str, *, public: bool = False):
        """Decorator: serve `method` on `pattern` (e.g. "/accounts/{account_id}/d1/database/{database_id}/query").

        `public=True`: a URL that needs no API token, as a presigned storage URL (downloads, uploads)."""
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(handler):
            self._routes.append(_Route(method.upper(), regex, name, handler, public))
            return handler

        return register

    def inject(self, route: str, *faults: Fault) -> None:
        with self._lock:
            self._faults[route].extend(faults)

    def pending_faults(self, route: str) -> int:
        with self._lock:
            return len(self._faults[route])

    def wait_until_idle(self, timeout: float = 60.0) -> None:
        """Wait until no request is being served (held and dropped ones included)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout):
                raise AssertionError(f"the loopback API still serves {self._in_flight} request(s)")

    def _serving(self, change: int) -> None:
        with self._idle:
            self._in_flight += change
            self._idle.notify_all()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the loopback API first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def start(self) -> "LoopbackApi":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="loopback-api", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "LoopbackApi":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- dispatch -------------------------------------------------------------------------------
    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        for route in self._routes:
            if route.method == method:
                match = route.pattern.match(path)
                if match:
                    return route, match.groupdict()
        return None

    def _next_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(route)
            return queue.popleft() if queue else None

    def _record(self, method: str, path: str, route: str, headers: dict[str, str], body: bytes) -> None:
        with self._lock:
            self.requests[route] += 1
            self.log.append(RecordedRequest(method, path, route, headers, body))


def envelope(result: Any = None, *, errors: list[dict] | None = None) -> dict:
    """Cloudflare's v4 response envelope."""
    return {"success": not errors, "errors": errors or [], "messages": [], "result": result}


def _handler_class(api: LoopbackApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            api._serving(+1)
            try:
                self._serve_counted(method)
            finally:
                api._serving(-1)

        def _serve_counted(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            path = url.path[len(API_PREFIX):] if url.path.startswith(API_PREFIX) else None
            found = api._match(method, path) if path is not None else None
            route_name = found[0].name if found else "unknown"
            api._record(method, url.path, route_name, headers, body)
            if api.latency:
                time.sleep(api.latency)
            if found is None:
                return self._send_json(404, envelope(errors=[{"code": 7000, "message": "No route for that URI"}]))
            if not found[0].public and headers.get("authorization") != f"Bearer {api.token}":
                return self._send_json(403, envelope(errors=[{"code": 10000, "message": "Authentication error"}]))
            route, params = found
            if params.get("account_id", api.account_id) != api.account_id:
                return self._send_json(403, envelope(errors=[{
                    "code": 7403, "message": "The given account is not valid or is not authorized to access this service"}]))
            fault = api._next_fault(route.name)
            if fault is not None and fault.kind == "delay":
                fault.wait()
            if fault is not None and fault.kind == "status":
                return self._send_fault(fault)
            request = LoopbackRequest(method, route.name, params, parse_qs(url.query), headers, body)
            if fault is not None and fault.kind == "drop_then_commit":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                fault.wait()
                try:
                    route.handler(request)
                except ApiFailure:
                    pass
                return
            try:
                result = route.handler(request)
            except ApiFailure as failure:
                result = failure
            if fault is not None and fault.kind == "commit_then_drop":
                self.close_connection = True
                return  # the work is done; the client never hears about it
            if isinstance(result, ApiFailure):
                return self._send_json(result.status, envelope(errors=[{"code": result.code, "message": result.message}]))
            if isinstance(result, RawResponse):
                if result.send_only is not None:
                    self.close_connection = True
                return self._send_bytes(result.status, result.body, result.content_type, result.headers,
                                        send_only=result.send_only)
            return self._send_json(200, envelope(result))

        def _send_fault(self, fault: Fault) -> None:
            if fault.status == 429:
                payload = envelope(errors=[{"code": 971, "message": "Please wait and consider throttling your request speed"}])
            else:
                payload = envelope(errors=[{"code": 7500, "message": "Internal error"}])
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._send_json(fault.status, payload, extra)

        def _send_json(self, status: int, payload: dict, extra_headers: dict | None = None) -> None:
            self._send_bytes(status, json.dumps(payload).encode(), "application/json", extra_headers)

        def _send_bytes(self, status: int, body: bytes, content_type: str, extra_headers: dict | None = None,
                        send_only: int | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra_headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(body if send_only is None else body[:send_only])
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test); nothing to tell it

    return Handler
