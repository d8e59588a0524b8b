"""`invoke lint` and `invoke new` as a user runs them: exit codes 0/1/2, output, no Pulumi import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.paths import REPO_ROOT
from tests.lint.conftest import write_history

INVOKE = str(REPO_ROOT / ".venv" / "bin" / "invoke")


def run_invoke(*arguments: str, state: Path) -> subprocess.CompletedProcess:
    environment = os.environ | {"HYPHAE_STATE_DIR": str(state)}
    return subprocess.run([INVOKE, *arguments], cwd=REPO_ROOT, capture_output=True, text=True, env=environment, timeout=120)


def test_clean_history_exits_0(isolated_state_dir):
    result = run_invoke("lint", state=isolated_state_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    files = len(list((REPO_ROOT / "migrations").glob("*.sql")))
    assert f"lint ok: {files} files" in result.stdout and ", 0 errors, 0 warnings" in result.stdout


def test_warnings_alone_exit_0(tmp_path, isolated_state_dir):
    write_history(tmp_path / "m", "CREATE TABLE t (id INTEGER PRIMARY KEY);")
    result = run_invoke("lint", "--path", str(tmp_path / "m"), state=isolated_state_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning  IDEM001" in result.stdout and "lint ok: 1 file, 1 statement, 0 errors, 1 warning" in result.stdout


def test_an_error_exits_1_and_json_is_parseable(tmp_path, isolated_state_dir):
    write_history(tmp_path / "m", "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);", "BEGIN;")
    result = run_invoke("lint", "--path", str(tmp_path / "m"), "--format", "json", state=isolated_state_dir)
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert list(payload) == ["findings", "summary"]
    assert [finding["code"] for finding in payload["findings"]] == ["D1001"]
    assert payload["summary"]["errors"] == 1
    assert "create it with `invoke lint --write-sum`" in payload["summary"]["notes"][0]  # the folder has no sum


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path, isolated_state_dir):
    write_history(tmp_path / "m", "BEGIN;")
    environment = os.environ | {"HYPHAE_STATE_DIR": str(isolated_state_dir)}
    process = subprocess.Popen([INVOKE, "lint", "--path", str(tmp_path / "m"), "--format", "json"], cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    process.stdout.close()  # like `| head` exiting before lint prints
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1  # the verdict still shows in the exit code
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_missing_path_and_unknown_format_exit_2_with_one_line(tmp_path, isolated_state_dir):
    missing = run_invoke("lint", "--path", str(tmp_path / "absent"), state=isolated_state_dir)
    assert missing.returncode == 2 and "no such migrations folder" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown = run_invoke("lint", "--format", "jsn", state=isolated_state_dir)
    assert unknown.returncode == 2 and "did you mean 'json'" in unknown.stderr


def test_github_format_prints_annotations(tmp_path, isolated_state_dir):
    write_history(tmp_path / "m", "PRAGMA journal_mode = WAL;")
    result = run_invoke("lint", "--path", str(tmp_path / "m"), "--format", "github", state=isolated_state_dir)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"::error file={tmp_path / 'm' / '0001_step_1.sql'},line=1,col=1,title=D1003::")
    assert lines[1].startswith("::notice::") and "invoke lint --write-sum" in lines[1]
    assert lines[-1] == "lint: 1 error, 0 warnings"


def test_new_creates_the_next_file_and_rewrites_the_sum(tmp_path, isolated_state_dir):
    folder = tmp_path / "m"
    write_history(folder, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);")
    result = run_invoke("new", "add_team_roles", "--path", str(folder), state=isolated_state_dir)
    assert result.returncode == 0, result.stderr
    assert (folder / "0002_add_team_roles.sql").exists()
    assert "0002_add_team_roles.sql sha256:" in (folder / "hyphae.sum").read_text()
    assert run_invoke("lint", "--path", str(folder), state=isolated_state_dir).returncode == 0


def test_new_with_a_bad_slug_exits_2_and_writes_nothing(tmp_path, isolated_state_dir):
    folder = tmp_path / "m"
    write_history(folder, "SELECT 1;")
    result = run_invoke("new", "Bad Slug", "--path", str(folder), state=isolated_state_dir)
    assert result.returncode == 2 and "slug" in result.stderr
    assert sorted(path.name for path in folder.iterdir()) == ["0001_step_1.sql"]


def test_write_sum_clears_a_stale_sum(tmp_path, isolated_state_dir):
    folder = tmp_path / "m"
    write_history(folder, "SELECT 1;")
    (folder / "hyphae.sum").write_text("0001_step_1.sql sha256:00\n")
    assert run_invoke("lint", "--path", str(folder), state=isolated_state_dir).returncode == 1
    assert run_invoke("lint", "--path", str(folder), "--write-sum", state=isolated_state_dir).returncode == 0


def test_lint_does_not_import_pulumi(isolated_state_dir):
    program = (
        "import sys\n"
        "from invoke import Program, Collection\n"
        "import tasks\n"
        "try:\n"
        "    Program(namespace=Collection.from_module(tasks)).run(['invoke', 'lint'], exit=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('PULUMI' if any(name.split('.')[0].startswith('pulumi') for name in sys.modules) else 'CLEAN')\n"
    )
    environment = os.environ | {"HYPHAE_STATE_DIR": str(isolated_state_dir)}
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, env=environment, timeout=120)
    assert "lint ok" in result.stdout, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "CLEAN", result.stdout + result.stderr


def test_env_adds_ledger_findings_for_an_edited_applied_migration(tmp_path, isolated_state_dir):
    folder = tmp_path / "m"
    write_history(folder, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);")
    applied = run_invoke("migrate", "--env", "local", "--path", str(folder), "--yes", state=isolated_state_dir)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    (folder / "0001_step_1.sql").write_text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT);")
    result = run_invoke("lint", "--env", "local", "--path", str(folder), "--format", "json", state=isolated_state_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "HIS002" in [finding["code"] for finding in json.loads(result.stdout)["findings"]]


def test_unknown_env_exits_2(isolated_state_dir):
    result = run_invoke("lint", "--env", "nope", state=isolated_state_dir)
    assert result.returncode == 2 and "unknown environment 'nope'" in result.stderr


def test_new_refuses_to_bless_a_stale_sum_and_writes_nothing(tmp_path, isolated_state_dir):
    folder = tmp_path / "m"
    write_history(folder, "SELECT 1;")
    assert run_invoke("lint", "--path", str(folder), "--write-sum", state=isolated_state_dir).returncode == 0
    (folder / "0001_step_1.sql").write_text("SELECT 2;")
    sum_before = (folder / "hyphae.sum").read_text()
    result = run_invoke("new", "next_step", "--path", str(folder), state=isolated_state_dir)
    assert result.returncode == 1 and "is stale from entry 1 (0001_step_1.sql)" in result.stderr
    assert (folder / "hyphae.sum").read_text() == sum_before
    assert not (folder / "0002_next_step.sql").exists()
