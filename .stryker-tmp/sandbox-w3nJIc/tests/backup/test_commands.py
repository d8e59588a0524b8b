"""`invoke backup`, `invoke restore --from-backup` and `invoke destroy` as a person runs them: what
they print, one-line errors with exit codes, and the API token never shown."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from loopback import point_dev_at_new_database

from infra.environments import schema_version
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, backups_dir
from infra.runner.apply import run_migrate
from tests.backup.helpers import add_awkward_rows, migrate_local

INVOKE = str(REPO_ROOT / ".venv" / "bin" / "invoke")


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hyphae: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert all(fragment in lines[0] for fragment in fragments), lines[0]


def invoke(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([INVOKE, *arguments], cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ),
                          stdin=subprocess.DEVNULL, timeout=180)


@pytest.fixture
def backup_file() -> Path:
    add_awkward_rows(migrate_local(), big=False)
    done = invoke("backup")
    assert done.returncode == 0, done.stderr
    (path,) = (backups_dir() / "local").glob("*.sql.gz")
    return path


def test_backup_says_where_the_verified_file_and_its_manifest_are(backup_file: Path):
    printed = invoke("backup").stdout.splitlines()
    assert printed[0] == "backup local"
    labels = [line.split()[0] for line in printed[1:]]
    assert labels[-4:] == ["file", "manifest", "verified", "took"]
    assert any(line.strip().startswith(f"verified  schema matches its history (version {schema_version()}") for line in printed)


def test_restore_from_a_backup_into_a_new_database_then_in_place(backup_file: Path):
    restored = invoke("restore", "--env", "local", "--from-backup", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    assert "into a new local database myco-team-local-restore-" in restored.stdout
    assert "in hyphae.local.yaml, then run `invoke render`" in restored.stdout
    refused = invoke("restore", "--env", "local", "--from-backup", str(backup_file), "--in-place")
    assert_one_line_error(refused, 2, "pass --yes to confirm without a terminal")
    in_place = invoke("restore", "--env", "local", "--from-backup", str(backup_file), "--in-place", "--yes")
    assert in_place.returncode == 0 and "undo with: invoke restore --env local --bookmark " in in_place.stdout


def test_a_corrupted_backup_is_one_line_exit_1(backup_file: Path):
    data = bytearray(backup_file.read_bytes())
    data[-20] ^= 0xFF
    backup_file.write_bytes(bytes(data))
    assert_one_line_error(invoke("restore", "--env", "local", "--from-backup", str(backup_file)), 1,
                          str(backup_file), "does not match its manifest", "nothing was restored")


def test_wrong_restore_flags_are_one_line_exit_2(backup_file: Path):
    assert_one_line_error(invoke("restore", "--from-backup", str(backup_file)), 2, "needs --env ENV")
    assert_one_line_error(invoke("restore", "--env", "local", "--from-backup", str(backup_file), "--bookmark", "x"), 2,
                          "--bookmark and --from-backup exclude each other")
    assert_one_line_error(invoke("restore", "--env", "local", "--bookmark", "x", "--in-place"), 2,
                          "--in-place goes with --from-backup")
    assert_one_line_error(invoke("backup", "--env", "stagin"), 2, "unknown environment 'stagin'", "did you mean 'staging'")


def test_destroy_refuses_a_protected_environment_and_asks_without_a_terminal(backup_file: Path):
    assert_one_line_error(invoke("destroy", "--env", "production", "--yes-destroy", "production"), 1,
                          "environment 'production' is protected", "nothing was destroyed")
    assert_one_line_error(invoke("destroy", "--env", "local"), 1, "pass --yes-destroy local", "the backup is at")
    assert_one_line_error(invoke("destroy"), 2, "--env is required")


def test_a_remote_backup_never_prints_the_api_token(cloudflare_env, monkeypatch):
    point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    done = invoke("backup", "--env", "dev")
    assert done.returncode == 0, done.stderr
    assert cloudflare_env.token not in done.stdout + done.stderr
    (path,) = (backups_dir() / "dev").glob("*.sql.gz")
    restored = invoke("restore", "--env", "dev", "--from-backup", str(path))
    assert restored.returncode == 0, restored.stderr
    assert cloudflare_env.token not in restored.stdout + restored.stderr
    assert "pulumi state delete" in restored.stdout
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    assert_one_line_error(invoke("backup", "--env", "dev"), 2, "CLOUDFLARE_API_TOKEN is not set")
    for written in backups_dir().rglob("*"):
        if written.is_file():
            assert cloudflare_env.token.encode() not in written.read_bytes()
