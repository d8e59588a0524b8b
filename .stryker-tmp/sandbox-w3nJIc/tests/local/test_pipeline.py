"""`invoke local` end to end: build, lint, migrate, workerd, smoke, drift; and stopping cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from infra.environments import load_environment, schema_version
from infra.errors import LintFailed
from infra.local.api_key import read_or_create_local_api_key
from infra.local.pipeline import run_local
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, local_d1_file
from tests.local.test_runtime import alive, descendants

pytestmark = pytest.mark.workerd


def test_the_whole_local_pipeline_runs_and_stops_the_worker(tmp_path):
    lines: list[str] = []
    run = run_local(lines.append, artifact=tmp_path / "dist")
    steps = [line.split()[0] for line in lines[:6]]
    assert steps == ["build", "lint", "migrate", "workerd", "smoke", "drift"], lines
    assert run.schema_version == schema_version() and run.embeddings == "stand-in"
    assert run.database == local_d1_file(load_environment("local").local_database_id) and run.database.exists()
    assert any(line.startswith("local Worker  http://127.0.0.1:") for line in lines)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{run.url}/health")
    assert read_or_create_local_api_key() not in "\n".join(lines)


def test_a_second_run_finds_the_database_up_to_date(tmp_path):
    run_local(lambda line: None, artifact=tmp_path / "dist")
    lines: list[str] = []
    run_local(lines.append, artifact=tmp_path / "dist")
    assert any(line.startswith("migrate") and "up to date" in line for line in lines)


def test_a_lint_error_stops_before_the_database_or_workerd(tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, migrations)
    (migrations / "0006_broken.sql").write_text("ALTER TABLE no_such_table ADD COLUMN x TEXT;\n")
    lines: list[str] = []
    with pytest.raises(LintFailed, match=r"0006_broken\.sql:1"):
        run_local(lines.append, artifact=tmp_path / "dist", migrations=migrations)
    assert [line.split()[0] for line in lines] == ["build"]
    assert not local_d1_file(load_environment("local").local_database_id).exists()


def test_keep_running_serves_until_ctrl_c_then_stops_workerd():
    command = [sys.executable, "-m", "invoke", "local", "--keep-running"]
    # Its own process group, like a shell job: Ctrl-C in a terminal signals the whole group.
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=os.environ.copy(), start_new_session=True)
    output = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        output.append(line)
        if "press Ctrl-C" in line or not line:
            break
    urls = [line.split()[-1] for line in output if line.startswith("local Worker")]
    assert urls, "".join(output)
    url = urls[0]
    assert httpx.get(f"{url}/health").json()["status"] == "ok"
    runtime = descendants(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, "".join(output) + rest  # Ctrl-C is how --keep-running ends: a clean stop
    assert "stopping workerd" in rest
    assert not [pid for pid in runtime if alive(pid)], "workerd outlived Ctrl-C"
    assert "Traceback" not in rest


def test_a_failure_after_workerd_started_still_stops_it(tmp_path):
    def report(line: str) -> None:
        if line.startswith("workerd"):
            raise BrokenPipeError("stdout closed (e.g. `invoke local | head -3`)")

    with pytest.raises(BrokenPipeError):
        run_local(report, artifact=tmp_path / "dist")
    leftovers = [pid for pid in descendants(os.getpid()) if alive(pid) and b"serve.mjs" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert leftovers == [], "workerd was left running"
