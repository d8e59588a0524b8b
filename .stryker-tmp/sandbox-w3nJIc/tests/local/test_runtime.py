"""Starting and stopping workerd: a free loopback port, a clean stop, a failed start explained."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from infra.errors import ArtifactRejected
from infra.local.runtime import RuntimeFailed, start_local_worker

pytestmark = pytest.mark.workerd


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (workerd is node's child)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), set()).add(int(entry))
    found, queue = set(), [pid]
    while queue:
        for child in children.get(queue.pop(), ()):
            found.add(child)
            queue.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_worker_listens_on_loopback_and_stops_with_workerd(worker_artifact):
    worker = start_local_worker(worker_artifact, "runtime-key")
    assert worker.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{worker.url}/health").status_code == 503  # empty database: schema behind
    workerd = descendants(worker.process.pid)
    assert workerd, "workerd should run as a child of the node process"
    worker.stop()
    assert worker.process.returncode is not None
    assert not [pid for pid in workerd if alive(pid)], "workerd outlived the stop"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{worker.url}/health")


def test_an_interrupt_to_the_node_process_also_stops_workerd(worker_artifact):
    worker = start_local_worker(worker_artifact, "runtime-key")
    workerd = descendants(worker.process.pid)
    worker.process.send_signal(signal.SIGINT)
    worker.process.wait(10)
    assert not [pid for pid in workerd if alive(pid)]
    worker.stop()


def test_a_tampered_artifact_is_not_started(worker_artifact, tmp_path):
    import shutil

    copy = tmp_path / "dist"
    shutil.copytree(worker_artifact, copy)
    (copy / "worker.js").write_text("export default {}")
    with pytest.raises(ArtifactRejected, match="modified after the build"):
        start_local_worker(copy, "runtime-key")


def test_a_worker_that_cannot_start_is_reported_with_its_log(worker_artifact, tmp_path):
    with pytest.raises(RuntimeFailed, match=r"workerd exited with .* before listening; log .*workerd\.log"):
        start_local_worker(worker_artifact, "runtime-key", extra_options={"compatibilityDate": "not-a-date"})


def test_the_team_key_is_never_on_a_command_line(worker_artifact):
    key = "argv-secret-4d1f9c"
    with start_local_worker(worker_artifact, key) as worker:
        processes = {worker.process.pid} | descendants(worker.process.pid)
        command_lines = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in processes if alive(pid)]
        assert len(command_lines) >= 2  # node and workerd
        assert not [line for line in command_lines if key.encode() in line]
        assert httpx.post(f"{worker.url}/enqueue", json={}, headers={"authorization": f"Bearer {key}"}).status_code != 401
