"""Fixtures: the built Worker running on workerd (started by pytest), over a migrated local D1.

The database is migrated before workerd starts by the real runner (`infra.runner`, what
`invoke migrate --env local` runs), into the very file `infra.paths.local_d1_file` names
(tests/test_paths.py proves workerd uses it). Each module gets its own state
folder and Worker; the artifact is built once per session.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from infra.artifact import build_artifact
from infra.environments import (
    BINDING_KV,
    BINDING_VECTORIZE,
    load_environment,
    schema_version,
)
from infra.local.runtime import start_local_worker
from infra.paths import DEFAULT_MIGRATIONS_DIR, STATE_DIR_VARIABLE, local_d1_file
from infra.runner.apply import MigrateOptions, run_migrate

TEAM_KEY = "test-team-key-8c1f0a7e5b2d4c69"
MCP_TOKEN = "mcp-token-not-to-be-shown"
FAKE_VECTORIZE = Path(__file__).with_name("fake_vectorize.mjs")


def apply_migrations(state: Path, upto: int) -> None:
    """Migrate the local D1 file of `state` up to version `upto` with the real runner (`invoke migrate`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_DIR_VARIABLE, str(state))
        run_migrate("local", DEFAULT_MIGRATIONS_DIR, MigrateOptions(to_version=upto))


def local_database(state: Path) -> Path:
    return local_d1_file(load_environment("local").local_database_id, state)


def read_rows(state: Path, sql: str, *params) -> list[tuple]:
    """Read the Worker's D1 file directly (read-only) to see what really reached the database."""
    connection = sqlite3.connect(f"file:{local_database(state)}?mode=ro", uri=True)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def vectorize_stand_in() -> dict:
    dimensions = load_environment("local").vectorize.dimensions
    return {
        "serviceWorkers": [
            {
                "name": "fake-vectorize",
                "binding": BINDING_VECTORIZE,
                "entrypoint": "FakeVectorize",
                "scriptPath": str(FAKE_VECTORIZE),
                "modulesRoot": str(FAKE_VECTORIZE.parent),
                "bindings": {"DIMENSIONS": dimensions},
            }
        ]
    }


@pytest.fixture(scope="session")
def worker_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("artifact") / "dist"
    build_artifact(output)
    return output


def _start(artifact: Path, state: Path, *, upto: int, extra: dict | None = None):
    if upto:
        apply_migrations(state, upto)
    return start_local_worker(artifact, TEAM_KEY, state=state, extra_options=extra)


@pytest.fixture(scope="module")
def worker_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-state")


@pytest.fixture(scope="module")
def running_worker(worker_artifact: Path, worker_state: Path):
    """The Worker on workerd: schema up to date, KV holding an MCP token, Vectorize stood in for."""
    extra = {**vectorize_stand_in(), "kvSeed": {BINDING_KV: {"mcp_access_token": MCP_TOKEN}}}
    worker = _start(worker_artifact, worker_state, upto=schema_version(), extra=extra)
    yield worker
    worker.stop()


@pytest.fixture
def start_worker(worker_artifact: Path, tmp_path: Path):
    """Start a Worker on a fresh state folder with migrations up to `upto`; stopped after the test."""
    started = []

    def start(upto: int, state: Path | None = None, extra: dict | None = None):
        worker = _start(worker_artifact, state or tmp_path / "worker-state", upto=upto, extra=extra)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
