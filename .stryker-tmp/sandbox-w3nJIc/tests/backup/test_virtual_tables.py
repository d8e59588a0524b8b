"""FTS5 tables through a backup: D1's export refuses them, so hyphae leaves them out and puts them back.

A migration adds the three kinds: one keeping its own text, one indexing another table's text
(kept in step by triggers), one keeping no text; and an fts5vocab table over the first.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from loopback import point_dev_at_new_database

from infra.backup.manifest import read_manifest
from infra.backup.restore import RestoreOptions, restore_backup
from infra.backup.take import take_backup
from infra.history.files import create_migration, read_migrations
from infra.history.sumfile import write_sum
from infra.paths import DEFAULT_MIGRATIONS_DIR, local_d1_file
from infra.runner.apply import run_migrate
from infra.targets.d1_transfer_api import TransferTimings
from tests.backup.helpers import local_database, snapshot

SEARCH_MIGRATION = """-- search over spores and notes
CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(title, body, tokenize = 'porter');
CREATE VIRTUAL TABLE IF NOT EXISTS spores_fts USING fts5(content, content = 'spores', content_rowid = 'rowid');
CREATE VIRTUAL TABLE IF NOT EXISTS pings_fts USING fts5(body, content = '');
CREATE VIRTUAL TABLE IF NOT EXISTS notes_terms USING fts5vocab(notes_fts, 'row');
"""
FAST = TransferTimings(poll_interval=0.01, deadline=2.0)


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, folder)
    create_migration(folder, "search").write_text(SEARCH_MIGRATION)
    write_sum(folder, read_migrations(folder))
    return folder


def fill(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO notes_fts (title, body) VALUES ('first', 'a needle in\nthe haystack'), "
                       "('second', 'nothing here')")
    for number in range(3):
        connection.execute("INSERT INTO spores (id, machine_id, agent_id, observation_type, content, created_at) "
                           "VALUES (?, 'm', 'a', 'note', ?, 1)", (f"s{number}", f"spore {number} mentions a needle"))
    connection.execute("INSERT INTO spores_fts (spores_fts) VALUES ('rebuild')")
    connection.execute("INSERT INTO pings_fts (rowid, body) VALUES (1, 'gone after a restore')")
    connection.commit()
    connection.close()


def searches(path: Path) -> dict:
    connection = sqlite3.connect(path)
    try:
        return {table: connection.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH 'needle' ORDER BY rowid")
                .fetchall() for table in ("notes_fts", "spores_fts")} | {
            "terms": connection.execute("SELECT term FROM notes_terms ORDER BY term").fetchall()}
    finally:
        connection.close()


def without_contentless(state: dict) -> dict:
    return {"objects": state["objects"], "rows": {k: v for k, v in state["rows"].items() if k != "pings_fts"}}


def test_fts5_tables_are_left_out_of_the_export_recorded_and_restored_searchable(migrations: Path):
    run_migrate("local", migrations)
    fill(local_database())
    result = take_backup("local", migrations)
    manifest = read_manifest(result.path)
    assert [(table.name, table.content) for table in manifest.virtual_tables] == [
        ("notes_fts", "own"), ("spores_fts", "external"), ("pings_fts", "none"), ("notes_terms", "none")]
    assert manifest.row_counts["notes_fts_content"] == 2 and "notes_fts" not in manifest.row_counts
    assert any("pings_fts keeps no text" in warning for warning in manifest.warnings)

    restored = local_d1_file(restore_backup("local", result.path, migrations).database_id)
    assert without_contentless(snapshot(restored)) == without_contentless(snapshot(local_database()))
    assert searches(restored) == searches(local_database())
    assert searches(restored)["notes_fts"] == [(1,)] and len(searches(restored)["spores_fts"]) == 3
    assert sqlite3.connect(restored).execute("SELECT count(*) FROM pings_fts").fetchone() == (0,)


def test_fts5_tables_round_trip_through_d1s_export_and_import(cloudflare_env, monkeypatch, migrations: Path):
    path = point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", migrations)
    fill(path)
    result = take_backup("dev", migrations, timings=FAST)
    exported = [request for request in cloudflare_env.log if request.route == "d1.export"]
    assert b'"tables"' in exported[0].body and b"notes_fts_content" in exported[0].body
    assert b'"notes_fts"' not in exported[0].body  # never ask D1 to export a virtual table (workers-sdk #9519)

    restored = restore_backup("dev", result.path, migrations, RestoreOptions(timings=FAST))
    copy = cloudflare_env.d1.path(restored.database_id)
    assert without_contentless(snapshot(copy)) == without_contentless(snapshot(path))
    assert searches(copy) == searches(path)


def test_d1s_export_of_a_virtual_table_is_an_error_hyphae_never_asks_for(cloudflare_env, monkeypatch, migrations):
    from cloudflare import Cloudflare

    path = point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", migrations)
    client = Cloudflare(api_token=cloudflare_env.token, base_url=cloudflare_env.base_url, max_retries=0)
    first = client.d1.database.export(path.stem, account_id=cloudflare_env.account_id, output_format="polling")
    answer = client.d1.database.export(path.stem, account_id=cloudflare_env.account_id, output_format="polling",
                                       current_bookmark=first.at_bookmark)
    assert answer.status == "error" and "cannot export databases with Virtual Tables" in answer.error
