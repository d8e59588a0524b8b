"""`./run` leaves the Worker toolchain alone when HYPHAE_SKIP_NODE=1 (deploy jobs), and installs
it otherwise. Runs the real script in a scratch copy of the repository whose .venv is a ready
stand-in, with an `npm` on PATH that only records that it was called."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra.paths import REPO_ROOT


def scratch_repository(tmp_path: Path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("run", "pyproject.toml", "package.json", "package-lock.json"):
        shutil.copy2(REPO_ROOT / name, repo / name)
    # A .venv that ./run accepts as current: an invoke and the stamp of this pyproject.toml.
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "invoke").symlink_to(Path(sys.executable).parent / "invoke")
    stamp = hashlib.sha256((repo / "pyproject.toml").read_bytes()).hexdigest()[:16]
    (repo / ".venv" / ".hyphae-stamp").write_text(stamp + "\n")
    tools = tmp_path / "tools"
    tools.mkdir()
    record = tmp_path / "npm-called"
    npm = tools / "npm"
    npm.write_text(f'#!/bin/sh\necho "$@" >> {record}\nmkdir -p node_modules\n')
    npm.chmod(0o755)
    return repo, record


def run_script(repo: Path, tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{tmp_path / 'tools'}:{os.environ['PATH']}", "HOME": str(tmp_path), **extra_env}
    return subprocess.run(["./run", "--version"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)


def test_skip_node_runs_the_task_without_installing_node_modules(tmp_path: Path):
    repo, npm_record = scratch_repository(tmp_path)
    result = run_script(repo, tmp_path, HYPHAE_SKIP_NODE="1")
    assert result.returncode == 0, result.stderr
    assert "Invoke" in result.stdout
    assert not npm_record.exists() and not (repo / "node_modules").exists()


def test_without_skip_node_the_worker_toolchain_is_installed(tmp_path: Path):
    repo, npm_record = scratch_repository(tmp_path)
    result = run_script(repo, tmp_path)
    assert result.returncode == 0, result.stderr
    assert npm_record.read_text().startswith("ci ")
    assert (repo / "node_modules" / ".hyphae-stamp").exists()
