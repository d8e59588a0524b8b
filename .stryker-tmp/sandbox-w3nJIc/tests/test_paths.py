"""infra.paths.local_d1_file predicts the SQLite file the real runtime uses for local D1.

Starts the pinned workerd (miniflare from node_modules) with `$HYPHAE_STATE_DIR/wrangler` as its
persist root and makes the Worker touch its database: the only database file miniflare writes
must be the predicted one. A toolchain upgrade that changes the layout or the id scheme fails
here, before the migrate task writes a file the Worker never reads.
"""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from infra.artifact import build_artifact
from infra.environments import load_environment
from infra.local.runtime import start_local_worker
from infra.paths import (
    local_d1_file,
    miniflare_object_id,
    state_dir,
    wrangler_persist_dir,
)

pytestmark = pytest.mark.workerd


def test_the_object_id_is_a_64_hex_durable_object_id():
    object_id = miniflare_object_id("miniflare-D1DatabaseObject", "myco-team-local")
    assert len(object_id) == 64 and int(object_id, 16) >= 0
    assert object_id != miniflare_object_id("miniflare-D1DatabaseObject", "other")


def test_workerd_uses_the_predicted_d1_file(tmp_path):
    env = load_environment("local")
    build_artifact(tmp_path / "dist")
    with start_local_worker(tmp_path / "dist", "paths-test-key") as worker:
        assert httpx.get(f"{worker.url}/health").json()["schema_version_applied"] == 0
    database_folder = wrangler_persist_dir() / "v3" / "d1" / "miniflare-D1DatabaseObject"
    written = sorted(path.name for path in database_folder.glob("*.sqlite") if path.name != "metadata.sqlite")
    predicted = local_d1_file(env.local_database_id)
    assert written == [predicted.name], f"miniflare wrote {written}, infra.paths predicts {predicted.name}"
    assert predicted.parent == database_folder and str(predicted).startswith(str(state_dir()))


def test_a_table_written_into_the_predicted_file_is_what_the_worker_reads(tmp_path):
    env = load_environment("local")
    predicted = local_d1_file(env.local_database_id)
    predicted.parent.mkdir(parents=True)
    with sqlite3.connect(predicted) as connection:
        connection.execute("CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)")
        connection.execute("INSERT INTO d1_migrations (name) VALUES ('0042_answer.sql')")
    build_artifact(tmp_path / "dist")
    with start_local_worker(tmp_path / "dist", "paths-test-key") as worker:
        assert httpx.get(f"{worker.url}/health").json()["schema_version_applied"] == 42
