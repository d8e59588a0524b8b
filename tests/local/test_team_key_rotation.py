"""Evidence, on `invoke local --keep-running` (workerd): the team key rotated while a client pushes
without pause (docs/credentials.md).

One local Worker, the commands an operator types, clients sending `/enqueue` back to back:
1. a scheduled rotation (`invoke rotate --env local --credential team-key`): the running Worker
   is redeployed with both keys; not one request with the previous key fails, before, during or
   after the redeploy; the new key works at once; `invoke credentials` lists the machine still on
   the previous key, and `invoke rotate --finish` refuses to cut it off;
2. the window's end (`--finish --force`): from the redeploy on, the previous key gets 401;
3. a compromised key's rotation (`--compromised`): the key in use gets 401 from the redeploy on,
   with no window; the newest key works at once.
That the Worker also ends a window by its own clock, with the previous key still bound, is shown
in tests/worker/test_team_key_generations.py (an expiry a second in the past).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from infra.local.api_key import api_key_path, previous_key_path, read_local_key_state
from infra.paths import REPO_ROOT
from tests.local.test_runtime import alive, descendants

pytestmark = pytest.mark.workerd

WAIT_SECONDS = 180  # an upper bound for slow machines, never a measurement
PROJECT = "proj_" + "ab" * 16


@dataclass
class Answer:
    started: float
    ended: float
    status: int | str  # an HTTP status, or the name of the error when there was no answer


@dataclass
class ClientLoop:
    """A teammate's daemon pushing back to back with one key, every answer kept with its times."""

    url: str
    key: str
    machine_id: str
    answers: list[Answer] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "ClientLoop":
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        with httpx.Client(timeout=60, headers={"authorization": f"Bearer {self.key}"}) as client:
            number = 0
            while not self.stopping.is_set():
                number += 1
                record = {"table": "spores", "id": f"spore_{self.machine_id}_{number}", "machine_id": self.machine_id,
                          "operation": "upsert", "data": {"id": f"spore_{self.machine_id}_{number}", "project_id": PROJECT,
                                                          "content": f"push {number}", "status": "active", "created_at": 0}}
                body = {"machine_id": self.machine_id, "sync_protocol_version": 3, "records": [record]}
                started = time.monotonic()
                try:
                    status = client.post(f"{self.url}/enqueue", json=body).status_code
                except httpx.HTTPError as error:
                    status = type(error).__name__
                self.answers.append(Answer(started, time.monotonic(), status))

    def wait_for_more(self, count: int) -> None:
        """Until `count` more answers than now arrived (progress, not time)."""
        target = len(self.answers) + count
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.answers) < target:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the client loop stopped answering"
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(WAIT_SECONDS)


class LocalRun:
    """`invoke local --keep-running` as a user starts it, its output read line by line with the time."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", "invoke", "local", "--keep-running"]
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=os.environ.copy(), start_new_session=True)
        self.lines: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.wait_for("local Worker").split()[-1]
        self.wait_for("press Ctrl-C")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line))

    def wait_for(self, text: str, after: int = 0) -> str:
        """The first line from index `after` holding `text`."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for _, line in self.lines[after:]:
                if text in line:
                    return line
            assert self.process.poll() is None, "".join(line for _, line in self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r}: {''.join(line for _, line in self.lines)}")

    def redeployed_at(self, text: str, after: int) -> float:
        self.wait_for(text, after)
        return next(moment for moment, line in self.lines[after:] if text in line)

    def stop(self) -> None:
        runtime = descendants(self.process.pid)
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(60)
        assert not [pid for pid in runtime if alive(pid)], "workerd outlived Ctrl-C"


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          env=os.environ.copy(), timeout=WAIT_SECONDS)


def push_once(url: str, key: str, machine_id: str) -> int:
    body = {"machine_id": machine_id, "sync_protocol_version": 3, "records": []}
    return httpx.post(f"{url}/enqueue", json=body, headers={"authorization": f"Bearer {key}"}, timeout=60).status_code


def statuses(answers: list[Answer]) -> set:
    return {answer.status for answer in answers}


def test_the_team_key_rotates_on_the_running_local_worker_without_a_failed_request():
    local = LocalRun()
    try:
        first_key = api_key_path().read_text().strip()
        laptop = ClientLoop(local.url, first_key, "m-laptop").start()
        laptop.wait_for_more(10)

        # 1. A scheduled rotation, redeployed to the running Worker while the laptop pushes.
        seen = len(local.lines)
        rotated = invoke("rotate", "--env", "local", "--credential", "team-key")
        assert rotated.returncode == 0, rotated.stderr
        assert "team key of local: generation 1 -> 2 (scheduled)" in rotated.stdout
        local.wait_for("redeployed with team key generation 2 (generation 1 accepted until", seen)
        second_key = api_key_path().read_text().strip()
        assert second_key != first_key and previous_key_path().read_text().strip() == first_key
        assert push_once(local.url, second_key, "m-desktop") == 200, "the new key works at once"
        laptop.wait_for_more(30)
        assert statuses(laptop.answers) == {200}, "no request with the previous key failed during the window"

        listed = invoke("credentials", "--env", "local")
        assert listed.returncode == 0, listed.stderr
        assert "overlap: generation 1 accepted until" in listed.stdout
        assert "machine m-laptop last used generation 1" in listed.stdout
        assert "m-desktop" not in listed.stdout, "m-desktop used generation 2"

        refused = invoke("rotate", "--env", "local", "--finish")
        assert refused.returncode == 1
        assert "1 machine(s) used generation 1 in the last day: m-laptop" in refused.stderr
        assert previous_key_path().read_text().strip() == first_key, "a refusal changes nothing"
        laptop.wait_for_more(5)

        # 2. The window ends (early, by the operator): from the redeploy on, the previous key gets 401.
        seen, asked = len(local.lines), time.monotonic()
        finished = invoke("rotate", "--env", "local", "--finish", "--force")
        assert finished.returncode == 0, finished.stderr
        ended = local.redeployed_at("redeployed with team key generation 2, no previous key", seen)
        laptop.wait_for_more(10)
        laptop.stop()
        before = [answer for answer in laptop.answers if answer.ended < asked]
        after = [answer for answer in laptop.answers if answer.started > ended]
        assert statuses(before) == {200} and len(before) >= 45
        assert statuses(after) == {401} and len(after) >= 9, "one request may have been in flight at the redeploy"
        assert statuses(laptop.answers) <= {200, 401}, "never a connection error: requests are held during a redeploy"

        # 3. A compromised key: no window at all.
        desktop = ClientLoop(local.url, second_key, "m-desktop").start()
        desktop.wait_for_more(10)
        seen, asked = len(local.lines), time.monotonic()
        compromised = invoke("rotate", "--env", "local", "--credential", "team-key", "--compromised")
        assert compromised.returncode == 0, compromised.stderr
        assert "generation 2 -> 3 (compromised: no overlap)" in compromised.stdout
        cut = local.redeployed_at("redeployed with team key generation 3, no previous key", seen)
        third_key = api_key_path().read_text().strip()
        assert push_once(local.url, third_key, "m-desktop") == 200, "the new key works at once"
        desktop.wait_for_more(10)
        desktop.stop()
        assert statuses([answer for answer in desktop.answers if answer.ended < asked]) == {200}
        assert statuses([answer for answer in desktop.answers if answer.started > cut]) == {401}
        assert statuses(desktop.answers) <= {200, 401}
        assert not previous_key_path().exists() and read_local_key_state().generation == 3

        shown = "".join(line for _, line in local.lines) + rotated.stdout + listed.stdout + refused.stderr + compromised.stdout
        assert not [key for key in (first_key, second_key, third_key) if key in shown], "a key was printed"
    finally:
        local.stop()
