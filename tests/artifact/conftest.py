"""A throwaway git checkout of the Worker's build inputs, so tests can commit and dirty it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from infra.paths import REPO_ROOT


def git(repository: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repository), *args], check=True, capture_output=True)


def make_source_checkout(source: Path) -> Path:
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
def source_checkout(tmp_path: Path) -> Path:
    """A clean commit holding worker/src, migrations/, contract/ and package.json from this repository."""
    return make_source_checkout(tmp_path / "source")


CI_RUN = {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1"}


@pytest.fixture(scope="session")
def ci_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean CI build per session (tests that only read or tamper with an artifact copy it)."""
    from infra.artifact import build_artifact

    root = tmp_path_factory.mktemp("ci-build")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CI_RUN.items():
            patch.setenv(name, value)
        build_artifact(root / "dist", source=make_source_checkout(root / "source"))
    return root / "dist"


@pytest.fixture
def ci_artifact(ci_build: Path, tmp_path: Path) -> Path:
    """A fresh copy of the session's clean CI build, for this test to verify or tamper with."""
    return Path(shutil.copytree(ci_build, tmp_path / "dist"))


@pytest.fixture
def in_ci(monkeypatch: pytest.MonkeyPatch):
    for name, value in CI_RUN.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def on_a_laptop(monkeypatch: pytest.MonkeyPatch):
    for name in ("GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"):
        monkeypatch.delenv(name, raising=False)
