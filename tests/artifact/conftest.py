"""A throwaway git checkout of the Worker's build inputs, so tests can commit and dirty it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infra.paths import REPO_ROOT


def git(repository: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True)


@pytest.fixture
def source_checkout(tmp_path: Path) -> Path:
    """A clean commit holding worker/src, migrations/, contract/ and package.json from this repository."""
    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT / "worker" / "src", source / "worker" / "src")
    shutil.copytree(REPO_ROOT / "migrations", source / "migrations")
    shutil.copytree(REPO_ROOT / "contract", source / "contract")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPO_ROOT / name, source / name)
    git(source, "init", "-q")
    git(source, "add", ".")
    git(source, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "source")
    return source


@pytest.fixture
def in_ci(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "1")


@pytest.fixture
def on_a_laptop(monkeypatch: pytest.MonkeyPatch):
    for name in ("GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"):
        monkeypatch.delenv(name, raising=False)
