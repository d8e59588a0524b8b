"""Backup and restore of the local environment: round trips, verification, and refusals that change nothing."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from infra.backup.manifest import manifest_path, read_manifest
from infra.backup.restore import RestoreOptions, restore_backup
from infra.backup.take import take_backup
from infra.environments import schema_version
from infra.errors import BackupCorrupted, BackupUnverified, UsageError
from infra.paths import backups_dir, local_d1_file
from tests.backup.helpers import add_awkward_rows, migrate_local, snapshot

YES = RestoreOptions(confirm=lambda question: True)


@pytest.fixture
def local_db() -> Path:
    path = migrate_local()
    add_awkward_rows(path)
    return path


def test_a_backup_restored_into_a_new_database_holds_the_same_schema_and_every_row(local_db: Path):
    result = take_backup("local")
    assert result.path.parent == backups_dir() / "local" and result.path.name.endswith(".sql.gz")
    manifest = read_manifest(result.path)
    assert manifest.verified and manifest.row_counts["sessions"] == 5 and manifest.row_counts["spores"] == 1
    assert [entry["name"] for entry in manifest.history][-1].startswith(f"{schema_version():04d}_") and manifest.schema_version == schema_version()
    assert manifest.warnings == []

    restored = restore_backup("local", result.path)
    assert restored.database_id.startswith("myco-team-local-restore-")
    assert snapshot(local_d1_file(restored.database_id)) == snapshot(local_db)
    assert "databaseId: " + restored.database_id in restored.next_steps[0]


def test_the_backup_is_streamed_d1_export_sql_in_gzip(local_db: Path):
    result = take_backup("local")
    with gzip.open(result.path, "rt") as stream:
        first = [next(stream) for _ in range(3)]
    assert first[0] == "PRAGMA defer_foreign_keys=TRUE;\n"
    assert first[1].startswith("CREATE TABLE d1_migrations(")  # the ledger is created first
    manifest = json.loads(manifest_path(result.path).read_text())
    assert manifest["sql_size"] > manifest["size"] > 0 and len(manifest["sha256"]) == 64


def test_restore_in_place_replaces_the_database_after_a_restore_point(local_db: Path):
    before = snapshot(local_db)
    result = take_backup("local")
    connection = sqlite3.connect(local_db)
    connection.execute("DELETE FROM sessions")
    connection.execute("CREATE TABLE out_of_band (x)")
    connection.commit()
    connection.close()

    restored = restore_backup("local", result.path, options=RestoreOptions(in_place=True, confirm=lambda q: True))
    assert snapshot(local_db) == before
    assert "undo with: invoke restore --env local --bookmark" in restored.summary


def test_restore_in_place_asks_first_and_declining_changes_nothing(local_db: Path):
    result = take_backup("local")
    sqlite3.connect(local_db).execute("DELETE FROM graph_edges").connection.commit()
    before = snapshot(local_db)
    asked = []
    with pytest.raises(UsageError, match="^restore not confirmed; nothing was changed$"):
        restore_backup("local", result.path, options=RestoreOptions(in_place=True, confirm=lambda q: asked.append(q)))
    assert "5 sessions" not in asked[0] and "rows taken" in asked[0]
    assert snapshot(local_db) == before


def _restored_databases() -> list[Path]:
    return sorted(local_d1_file("x").parent.glob("*.sqlite"))


def test_a_corrupted_backup_is_refused_in_one_line_and_nothing_is_restored(local_db: Path):
    result = take_backup("local")
    data = bytearray(result.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    result.path.write_bytes(bytes(data))
    before = _restored_databases()
    with pytest.raises(BackupCorrupted) as refused:
        restore_backup("local", result.path, options=YES)
    message = str(refused.value)
    assert "\n" not in message and str(result.path) in message
    assert "does not match its manifest" in message and message.endswith("nothing was restored")
    assert _restored_databases() == before


def test_a_truncated_backup_is_refused_and_nothing_is_restored(local_db: Path):
    result = take_backup("local")
    result.path.write_bytes(result.path.read_bytes()[:-100])
    before_files, before_rows = _restored_databases(), snapshot(local_db)
    with pytest.raises(BackupCorrupted, match=r"is [\d,]+ bytes but its manifest says [\d,]+: the file is truncated"):
        restore_backup("local", result.path, options=RestoreOptions(in_place=True, confirm=lambda q: True))
    assert _restored_databases() == before_files and snapshot(local_db) == before_rows


def test_a_backup_cut_short_with_a_matching_manifest_is_still_refused(local_db: Path, tmp_path: Path):
    # A manifest rewritten for a cut file (by hand, or a copy gone wrong) does not get past the load.
    result = take_backup("local")
    with gzip.open(result.path, "rb") as stream:
        sql = stream.read()
    cut = sql[: sql.index(b"INSERT INTO \"spores\"") + 40]
    short = tmp_path / "short.sql.gz"
    with gzip.open(short, "wb") as stream:
        stream.write(cut)
    manifest = json.loads(manifest_path(result.path).read_text())
    from infra.backup.manifest import file_digest

    manifest["sha256"], manifest["size"] = file_digest(short)
    manifest_path(short).write_text(json.dumps(manifest))
    with pytest.raises(BackupCorrupted, match=r"short\.sql\.gz ends inside a statement .* nothing was restored$"):
        restore_backup("local", short, options=YES)


def test_a_backup_without_its_manifest_is_refused(local_db: Path, tmp_path: Path):
    result = take_backup("local")
    alone = tmp_path / "alone.sql.gz"
    shutil.copy(result.path, alone)
    with pytest.raises(BackupCorrupted, match=r"alone\.sql\.gz has no manifest \(alone\.manifest\.json is missing\)"):
        restore_backup("local", alone, options=YES)
    with pytest.raises(UsageError, match=r"^--from-backup .*nowhere\.sql\.gz: no such file$"):
        restore_backup("local", tmp_path / "nowhere.sql.gz", options=YES)


def test_a_database_that_drifted_from_its_history_gives_an_unverified_backup_that_restore_refuses(local_db: Path):
    connection = sqlite3.connect(local_db)
    connection.execute("ALTER TABLE sessions ADD COLUMN mood TEXT")
    connection.commit()
    connection.close()
    with pytest.raises(BackupUnverified, match=r"its schema differs from what its migration history builds: .*mood.*"
                                               r"marked unverified: restore refuses it\)$"):
        take_backup("local")
    (kept,) = (backups_dir() / "local").glob("*.sql.gz")
    manifest = read_manifest(kept)
    assert manifest.verified is None and manifest.warnings[-1].startswith("not verified:")
    with pytest.raises(BackupUnverified, match=r"was not verified when it was taken \(not verified: .*nothing was restored$"):
        restore_backup("local", kept, options=YES)


def test_a_backup_whose_rows_differ_from_its_manifest_is_refused(local_db: Path):
    result = take_backup("local")
    manifest = json.loads(manifest_path(result.path).read_text())
    manifest["row_counts"]["sessions"] = 6
    manifest_path(result.path).write_text(json.dumps(manifest))
    with pytest.raises(BackupUnverified, match=r"the file holds other rows than its manifest says \(sessions: 5 in the "
                                               r"file, 6 in the manifest\); nothing was restored$"):
        restore_backup("local", result.path, options=YES)


def test_a_backup_of_an_environment_without_a_database_says_how_to_make_one():
    with pytest.raises(UsageError, match=r"environment 'local' has no database yet .*`invoke migrate` creates it$"):
        take_backup("local")
    assert not (backups_dir() / "local").exists() or not list((backups_dir() / "local").iterdir())


def test_a_migration_lease_caught_in_a_backup_is_not_restored(local_db: Path):
    connection = sqlite3.connect(local_db)
    connection.execute("INSERT INTO hyphae_lock VALUES (1, 'ci', 'run-1', 'host', 1, 0, 9999999999)")
    connection.commit()
    connection.close()
    result = take_backup("local")
    assert read_manifest(result.path).row_counts["hyphae_lock"] == 1
    restored = restore_backup("local", result.path)
    rows = sqlite3.connect(local_d1_file(restored.database_id)).execute("SELECT count(*) FROM hyphae_lock").fetchone()
    assert rows == (0,)


def test_an_instead_of_trigger_on_a_view_survives_d1s_export_order(tmp_path: Path):
    # D1's export writes triggers before views; an INSTEAD OF trigger needs its view, so the load
    # holds triggers back and the import file writes views first. (hyphae's linter refuses
    # INSTEAD OF triggers, so this database is made by hand, not by a migration.)
    from infra.backup.dump import dump_export
    from infra.backup.importfile import import_statements
    from infra.backup.scratch import load_backup

    source = sqlite3.connect(tmp_path / "source.sqlite")
    source.executescript(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, ended_at INTEGER);"
        "CREATE VIEW open_sessions AS SELECT id FROM sessions WHERE ended_at IS NULL;"
        "CREATE TRIGGER close_session INSTEAD OF DELETE ON open_sessions BEGIN "
        "UPDATE sessions SET ended_at = 0 WHERE id = old.id; END;"
        "INSERT INTO sessions VALUES ('a', NULL);")
    exported = list(dump_export(source))
    source.close()
    assert [statement.split()[1] for statement in exported if statement.startswith("CREATE")] == \
        ["TABLE", "TRIGGER", "VIEW"]
    backup = tmp_path / "backup.sql.gz"
    with gzip.open(backup, "wt") as stream:
        stream.write("\n".join(exported))
    loaded = load_backup(backup, tmp_path / "scratch.sqlite", [])
    scratch = sqlite3.connect(loaded.path)
    scratch.execute("DELETE FROM open_sessions")  # the trigger is there and works
    assert scratch.execute("SELECT ended_at FROM sessions").fetchall() == [(0,)]
    kinds = [statement.split()[1] for statement in import_statements(scratch, []) if statement.startswith("CREATE")]
    assert kinds == ["TABLE", "VIEW", "TRIGGER"]
