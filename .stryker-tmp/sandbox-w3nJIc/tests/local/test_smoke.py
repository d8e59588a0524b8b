"""The smoke checks against the real Worker on workerd: passing, and failing for the right reason."""

from __future__ import annotations

import contextlib
import http.server
import threading

import httpx
import pytest

from infra.environments import schema_version
from infra.local.smoke import CHECKS, SMOKE_MACHINE, SmokeTestFailed, run_smoke
from tests.worker.conftest import TEAM_KEY, read_rows

pytestmark = pytest.mark.workerd


def test_a_healthy_worker_passes_every_check_and_keeps_no_marker(running_worker, worker_state):
    result = run_smoke(running_worker.url, TEAM_KEY, expected_schema=schema_version(), protocol=3, min_protocol=1, stand_ins=True)
    assert result.checks == CHECKS == ("health and protocol window", "request without key refused", "connect and MCP token hash",
                                       "push round trip")
    assert read_rows(worker_state, "SELECT count(*) FROM spores WHERE machine_id = ?", SMOKE_MACHINE) == [(0,)]
    assert read_rows(worker_state, "SELECT count(*) FROM team_embed_backlog WHERE machine_id = ?", SMOKE_MACHINE) == [(0,)]


def test_a_worker_advertising_another_protocol_fails_the_health_check(running_worker):
    with pytest.raises(SmokeTestFailed, match=r"advertises protocol 3 \(minimum 1\), the environment model says 4"):
        run_smoke(running_worker.url, TEAM_KEY, expected_schema=schema_version(), protocol=4)


def test_a_database_behind_the_worker_fails_the_health_check(start_worker):
    worker = start_worker(upto=schema_version() - 1)
    with pytest.raises(SmokeTestFailed, match=r"/health: status 'schema_behind' .*run the migrations"):
        run_smoke(worker.url, TEAM_KEY, expected_schema=schema_version(), protocol=3)


def test_a_worker_built_for_another_schema_fails(running_worker):
    with pytest.raises(SmokeTestFailed, match="built for schema"):
        run_smoke(running_worker.url, TEAM_KEY, expected_schema=schema_version() + 1, protocol=3)


def test_a_wrong_key_fails_the_round_trip_without_showing_the_key(running_worker):
    with pytest.raises(SmokeTestFailed, match="got 401") as failure:
        run_smoke(running_worker.url, "not-the-key", expected_schema=schema_version(), protocol=3)
    assert "not-the-key" not in str(failure.value)


def test_nothing_listening_is_reported_with_the_url():
    with pytest.raises(SmokeTestFailed, match=r"http://127\.0\.0\.1:9/health: no answer"):
        run_smoke("http://127.0.0.1:9", TEAM_KEY, expected_schema=schema_version(), protocol=3)


def invoke_smoke(*flags: str, **environment: str):
    import os
    import subprocess
    import sys

    from infra.paths import REPO_ROOT

    variables = {key: value for key, value in os.environ.items() if key != "MYCO_TEAM_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "invoke", "smoke", *flags], cwd=REPO_ROOT, capture_output=True, text=True, env={**variables, **environment},
        check=False,
    )


def test_the_smoke_task_checks_a_deployed_url_with_the_key_from_the_environment(running_worker):
    result = invoke_smoke("--env", "staging", "--url", running_worker.url, MYCO_TEAM_API_KEY=TEAM_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"smoke staging {running_worker.url}: health and protocol window, " in result.stdout
    assert TEAM_KEY not in result.stdout + result.stderr


def test_the_smoke_task_without_the_key_for_a_remote_environment_says_which_variable():
    result = invoke_smoke("--env", "staging", "--url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "MYCO_TEAM_API_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


class FakeClock:
    """Time for the retry loop: `sleep` moves it on at once, so no test waits for real."""

    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@contextlib.contextmanager
def route_propagating(worker_url: str | None, not_yet: int):
    """An HTTP front that answers what Cloudflare's edge answers before a new workers.dev route
    reached it (404, "There is nothing here yet") for the first `not_yet` requests, then passes
    every request to the Worker at `worker_url` (None: the route never arrives)."""
    seen = []

    class Front(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            return

        def do_GET(self):
            self._answer()

        def do_POST(self):
            self._answer()

        def _answer(self):
            seen.append(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if worker_url is None or len(seen) <= not_yet:
                status, headers, content = 404, {"content-type": "text/html"}, b"<h1>There is nothing here yet</h1>"
            else:
                answer = httpx.request(self.command, worker_url + self.path, content=body,
                                       headers={key: value for key, value in self.headers.items() if key.lower() != "host"})
                status, headers, content = answer.status_code, {"content-type": answer.headers.get("content-type", "")}, answer.content
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_new_route_that_answers_404_at_first_passes_once_it_propagates(running_worker):
    clock = FakeClock()
    with route_propagating(running_worker.url, not_yet=3) as (url, seen):
        result = run_smoke(url, TEAM_KEY, expected_schema=schema_version(), protocol=3,
                           wait_seconds=60, sleep=clock.sleep, clock=lambda: clock.now)
    assert result.checks[0] == "health and protocol window"
    assert seen[:4] == ["/health"] * 4 and clock.slept == [1.0, 2.0, 4.0], "backs off between tries"


@pytest.mark.parametrize("wait", [0, 60])
def test_a_route_that_never_propagates_fails_with_what_it_saw(wait):
    clock = FakeClock()
    with route_propagating(None, not_yet=0) as (url, seen), pytest.raises(SmokeTestFailed) as failure:
        run_smoke(url, TEAM_KEY, expected_schema=schema_version(), protocol=3,
                  wait_seconds=wait, sleep=clock.sleep, clock=lambda: clock.now)
    message = str(failure.value)
    assert message.startswith(f"{url}/health: answered 404 without JSON: '<h1>There is nothing here yet</h1>'")
    if wait:
        assert f"still so after {len(seen)} attempts over 60 s" in message
        assert sum(clock.slept) <= 60 and len(seen) > 3
    else:
        assert len(seen) == 1 and clock.slept == []
