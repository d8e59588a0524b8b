"""The review's main scenario: a pull request that adds a table, rebuilds one (its DROP allowed with
SAFE001), drops a column and renames another, against a local database holding rows, with a
saved dev preview, a built artifact and the variables GitHub Actions sets."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from infra.artifact.manifest import MANIFEST_NAME, plan_manifest, render_manifest
from infra.environments import load_environment
from infra.paths import local_d1_file
from infra.review.collect import ReviewRequest, read_review
from infra.runner.apply import run_migrate
from tests.review.scenario import FIXTURES, commit_pull_request, fixture_files, git, start_repository

ROWS = {
    "machines": [("m1", "laptop", 1), ("m2", "desktop", 2)],
    "sessions": [("s1", "m1", "claude", "calm", 10), ("s2", "m1", "claude", None, 11), ("s3", "m2", "codex", None, 12)],
    "spores": [("p1", "s1", "active", "7", "a"), ("p2", "s1", None, None, "b"), ("p3", "s2", "done", "2", "c"),
               ("p4", None, "active", "x", "d")],
}


@pytest.fixture
def github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The variables a pull request's workflow run has (no GITHUB_BASE_REF: the repository has no origin)."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42, "head": {"sha": "9f3c2a1b" * 5}}}))
    for name, value in {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "myco/team-sync",
                        "GITHUB_RUN_ID": "123456789", "GITHUB_RUN_ATTEMPT": "1",
                        "GITHUB_EVENT_PATH": str(event)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    return event


@pytest.fixture
def outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_EVENT_PATH",
                 "GITHUB_BASE_REF"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pull_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The main scenario's repository, checked out on the pull request (the working directory)."""
    root = tmp_path / "repo"
    directory = start_repository(root, fixture_files("base"))
    run_migrate("local", directory)
    fill_local_database(ROWS)
    commit_pull_request(root, fixture_files("pull_request"))
    build_artifact(root / "dist", git(root, "rev-parse", "HEAD"))
    monkeypatch.chdir(root)
    return root


def fill_local_database(rows: dict[str, list[tuple]]) -> None:
    connection = sqlite3.connect(local_d1_file(load_environment("local").local_database_id), isolation_level=None)
    for table, values in rows.items():
        for row in values:
            connection.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    connection.close()


def build_artifact(folder: Path, commit: str) -> None:
    """A small artifact with a real manifest (the review verifies it, as `invoke verify` would)."""
    folder.mkdir()
    (folder / "worker.js").write_text("export default { fetch() { return new Response('ok'); } };\n")
    manifest = plan_manifest(folder, main_module="worker.js", schema_version=4,
                             git={"commit": commit, "dirty": False}, toolchain={"esbuild": "0.27.3"},
                             builder={"kind": "ci", "run_id": "123456789"})
    (folder / MANIFEST_NAME).write_text(render_manifest(manifest))


@pytest.fixture
def scenario_review(pull_request: Path, github_actions: Path):
    return read_review(ReviewRequest(Path("migrations"), ["local"], None, (FIXTURES / "preview-dev.json",),
                                     pull_request / "dist"))
