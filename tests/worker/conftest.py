"""Fixtures: the built Worker running on workerd (started by pytest), over a migrated local D1.

The database is prepared before workerd starts, in the very file `infra.paths.local_d1_file`
names (tests/test_paths.py proves workerd uses it): the migration files replayed in order with
wrangler's ledger `d1_migrations`, as the migrate task leaves it. Each module gets its own state
folder and Worker; the artifact is built once per session.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from infra.artifact import build_artifact
from infra.environments import BINDING_KV, BINDING_VECTORIZE, load_environment
from infra.history.files import read_migrations
from infra.local.runtime import start_local_worker
from infra.paths import DEFAULT_MIGRATIONS_DIR, local_d1_file

TEAM_KEY = "test-team-key-8c1f0a7e5b2d4c69"
MCP_TOKEN = "mcp-token-not-to-be-shown"
FAKE_VECTORIZE = Path(__file__).with_name("fake_vectorize.mjs")



def apply_migrations_to_file(database: Path, upto: int) -> None:
    """Replay migrations 1..upto into `database` and record them in wrangler's ledger."""
    database.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, "
        "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)"
    )
    applied = {name for (name,) in connection.execute("SELECT name FROM d1_migrations")}
    for migration in read_migrations(DEFAULT_MIGRATIONS_DIR):
        if migration.version <= upto and migration.name not in applied:
            connection.executescript(migration.text)
            connection.execute("INSERT INTO d1_migrations (name) VALUES (?)", (migration.name,))
    connection.commit()
    connection.close()


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
        apply_migrations_to_file(local_database(state), upto)
    return start_local_worker(artifact, TEAM_KEY, state=state, extra_options=extra)


@pytest.fixture(scope="module")
def worker_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-state")


@pytest.fixture(scope="module")
def running_worker(worker_artifact: Path, worker_state: Path):
    """The Worker on workerd: schema up to date, KV holding an MCP token, Vectorize stood in for."""
    extra = {**vectorize_stand_in(), "kvSeed": {BINDING_KV: {"mcp_access_token": MCP_TOKEN}}}
    worker = _start(worker_artifact, worker_state, upto=10_000, extra=extra)
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
