"""The column allowlist comes from replaying the migrations in SQLite."""

from __future__ import annotations

import shutil

import pytest

from infra.artifact.allowlist import read_allowlist
from infra.errors import UsageError
from infra.history.files import read_migrations
from infra.paths import DEFAULT_MIGRATIONS_DIR


def test_synced_tables_have_their_final_columns_and_keys():
    allowlist = read_allowlist(DEFAULT_MIGRATIONS_DIR)
    sessions = allowlist["tables"]["sessions"]
    assert {"id", "machine_id", "project_id", "user", "content_hash", "synced_at"} <= set(sessions["columns"])
    assert sessions["key"] == ["id", "machine_id"] and sessions["content_hash"] is True
    assert allowlist["tables"]["entity_mentions"]["key"] == ["entity_id", "note_id", "note_type", "agent_id", "machine_id"]
    assert "origin" in allowlist["tables"]["prompt_batches"]["columns"]


def test_the_migrations_the_worker_is_built_with_are_listed_with_their_checksums():
    allowlist = read_allowlist(DEFAULT_MIGRATIONS_DIR)
    files = read_migrations(DEFAULT_MIGRATIONS_DIR)
    assert allowlist["migrations"] == [{"name": file.name, "sha256": file.sha256} for file in files]
    assert allowlist["migrations"][0]["name"] == "0001_initial.sql" and len(allowlist["migrations"][0]["sha256"]) == 64


def test_tables_that_are_not_synced_and_the_ledger_are_left_out():
    tables = read_allowlist(DEFAULT_MIGRATIONS_DIR)["tables"]
    for name in ("nodes", "team_config", "team_sync_stats", "team_dlq", "d1_migrations"):
        assert name not in tables


def test_a_new_migration_changes_the_allowlist(tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, migrations)
    number = len(list(migrations.glob("*.sql"))) + 1
    (migrations / f"{number:04d}_mood.sql").write_text("ALTER TABLE spores ADD COLUMN mood TEXT;\n")
    allowlist = read_allowlist(migrations)
    assert allowlist["schema_version"] == number
    assert "mood" in allowlist["tables"]["spores"]["columns"]


def test_a_migration_sqlite_refuses_names_the_file(tmp_path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_bad.sql").write_text("CREATE TABLE t (a);\nALTER TABLE nope ADD COLUMN b TEXT;\n")
    with pytest.raises(UsageError, match=r"0001_bad\.sql: does not apply on SQLite \(no such table: nope\)"):
        read_allowlist(migrations)
