"""What the real workerd D1 (miniflare from node_modules) does with the export format and the import file.

- miniflare implements D1's export (`PRAGMA miniflare_d1_export`, what `wrangler d1 export
  --local` runs); hyphae's writer in D1 mode produces it statement for statement;
- D1's export of a row over 100,000 bytes does not import back into workerd (SQLITE_TOOBIG),
  while hyphae's import file of the same backup does, and holds the same data afterwards.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from infra.backup.dump import dump_export
from infra.backup.importfile import import_statements
from infra.backup.manifest import read_manifest
from infra.backup.scratch import iter_statements, load_backup, read_sql_lines
from infra.backup.take import take_backup
from infra.paths import REPO_ROOT, local_d1_file
from tests.backup.helpers import add_awkward_rows, migrate_local, snapshot
from tests.conftest import node_toolchain_available

pytestmark = [pytest.mark.workerd,
              pytest.mark.skipif(not node_toolchain_available(), reason="needs node_modules (./run installs it)")]
HELPER = Path(__file__).with_name("workerd_d1.mjs")


def workerd(persist: Path, database_id: str, steps: list[dict]) -> list[dict]:
    request = json.dumps({"persist": str(persist), "databaseId": database_id, "steps": steps})
    result = subprocess.run(["node", str(HELPER)], input=request, capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)["steps"]


def test_hyphae_writes_d1s_export_exactly_as_miniflare_does(tmp_path: Path):
    setup = [
        "CREATE TABLE sessions (id TEXT NOT NULL, machine_id TEXT NOT NULL, summary TEXT, n INTEGER, score REAL, "
        "raw BLOB, loose, PRIMARY KEY (id, machine_id))",
        "CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT)",
        'CREATE TABLE "odd ""name""" (k TEXT PRIMARY KEY, v) WITHOUT ROWID',
        "INSERT INTO sessions VALUES ('a', 'm', 'it''s\nline \\n two', 9007199254740993, 3.0, X'00ff', 2.5), "
        "('b', 'm', 'cr\r\nlf', -1, 1e-7, NULL, 3.0), ('c', 'm', NULL, NULL, 1e21, x'', 'text')",
        "INSERT INTO counters (label) VALUES ('one'), ('two')",
        "INSERT INTO \"odd \"\"name\"\"\" VALUES ('k', 1)",
        "CREATE INDEX sessions_summary ON sessions (summary)",
        "CREATE VIEW summaries AS SELECT summary FROM sessions",
        "CREATE TRIGGER counters_label AFTER INSERT ON counters BEGIN UPDATE counters SET label = upper(label) "
        "WHERE id = new.id; END",
    ]
    persist = tmp_path / "wrangler"
    ran, exported = workerd(persist, "compare", [{"run": setup}, {"export": True}])
    assert ran["ok"], ran["error"]
    connection = sqlite3.connect(local_d1_file("compare", tmp_path))
    try:
        assert list(dump_export(connection, exact=False)) == exported["statements"]
        exact = list(dump_export(connection))
    finally:
        connection.close()
    # hyphae's own (exact) writing differs only in the values D1's loses or rewrites.
    differing = [statement for statement in exact if statement not in exported["statements"]]
    assert len(differing) == 2 and all(statement.startswith('INSERT INTO "sessions"') for statement in differing)


def test_the_import_file_loads_into_workerds_d1_where_d1s_export_of_a_large_row_does_not(tmp_path: Path):
    add_awkward_rows(migrate_local())
    result = take_backup("local")
    manifest = read_manifest(result.path)
    exported = list(iter_statements(read_sql_lines(result.path), "backup"))
    loaded = load_backup(result.path, tmp_path / "scratch.sqlite", manifest.virtual_tables)
    connection = sqlite3.connect(loaded.path)
    try:
        importing = list(import_statements(connection, manifest.virtual_tables))
    finally:
        connection.close()
    assert max(len(statement.encode()) for statement in exported) > 100_000
    assert max(len(statement.encode()) for statement in importing) < 100_000

    persist = tmp_path / "workerd" / "wrangler"
    raw, imported = workerd(persist, "raw", [{"run": exported}])[0], workerd(persist, "imported", [{"run": importing}])[0]
    assert not raw["ok"] and "SQLITE_TOOBIG" in raw["error"]
    assert imported["ok"], imported["error"]
    assert snapshot(local_d1_file("imported", tmp_path / "workerd")) == snapshot(loaded.path)  # the file workerd wrote


def test_an_import_file_with_fts5_tables_loads_into_workerds_d1(tmp_path: Path):
    # Creating FTS5 tables, filling one with rowids and rebuilding another: all allowed by D1's authorizer.
    import shutil

    from infra.history.files import create_migration, read_migrations
    from infra.history.sumfile import write_sum
    from infra.paths import DEFAULT_MIGRATIONS_DIR
    from infra.runner.apply import run_migrate
    from tests.backup.test_virtual_tables import SEARCH_MIGRATION, fill, searches

    folder = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, folder)
    create_migration(folder, "search").write_text(SEARCH_MIGRATION)
    write_sum(folder, read_migrations(folder))
    run_migrate("local", folder)
    fill(local_d1_file("myco-team-local"))
    result = take_backup("local", folder)
    manifest = read_manifest(result.path)
    loaded = load_backup(result.path, tmp_path / "scratch.sqlite", manifest.virtual_tables)
    connection = sqlite3.connect(loaded.path)
    try:
        importing = list(import_statements(connection, manifest.virtual_tables))
    finally:
        connection.close()
    (imported,) = workerd(tmp_path / "workerd" / "wrangler", "search", [{"run": importing}])
    assert imported["ok"], imported["error"]
    assert searches(local_d1_file("search", tmp_path / "workerd")) == searches(local_d1_file("myco-team-local"))
