"""A remote `migrate` takes a verified backup before it applies an allowed destructive change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from loopback import point_dev_at_new_database

from infra.backup.manifest import read_manifest
from infra.environments import schema_version
from infra.errors import RemoteApiError
from infra.history.files import create_migration, read_migrations
from infra.history.sumfile import write_sum
from infra.paths import DEFAULT_MIGRATIONS_DIR, backups_dir
from infra.runner.apply import MigrateOptions, run_migrate
from tests.backup.helpers import migrate_local


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, folder)
    return folder


def add_migration(folder: Path, slug: str, sql: str) -> None:
    create_migration(folder, slug).write_text(sql)
    write_sum(folder, read_migrations(folder))


def drop_scratch_table(folder: Path) -> None:
    add_migration(folder, "scratch_table", "CREATE TABLE IF NOT EXISTS scratch_notes (id TEXT PRIMARY KEY, note TEXT);\n")
    add_migration(folder, "drop_scratch_table",
                  "-- hyphae: allow SAFE001 the scratch notes were never used\nDROP TABLE scratch_notes;\n")


def test_a_remote_migrate_with_an_allowed_drop_backs_up_first_and_says_where(cloudflare_env, monkeypatch, migrations):
    point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    drop_scratch_table(migrations)
    lines: list[str] = []
    report = run_migrate("dev", migrations, MigrateOptions(progress=lines.append))
    (backup,) = (backups_dir() / "dev").glob("*.sql.gz")
    assert read_manifest(backup).verified and read_manifest(backup).schema_version == schema_version()
    assert any(line.startswith("backup first: ") and "allows SAFE001 (the scratch notes were never used)" in line
               for line in lines)
    assert any(str(backup) in note and "invoke restore --env dev --from-backup" in note for note in report.notes)
    export_at = next(i for i, request in enumerate(cloudflare_env.log) if request.route == "d1.export")
    bookmark_at = max(i for i, request in enumerate(cloudflare_env.log) if request.route == "d1.bookmark")
    assert export_at < bookmark_at  # the backup comes first, then the Time Travel bookmark
    assert len(report.applied) == 2


def test_a_remote_migrate_without_a_destructive_change_takes_no_backup(cloudflare_env, monkeypatch, migrations):
    point_dev_at_new_database(cloudflare_env, monkeypatch)
    add_migration(migrations, "notes", "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY);\n")
    run_migrate("dev", migrations)
    assert cloudflare_env.requests["d1.export"] == 0 and not (backups_dir() / "dev").exists()


def test_a_failed_backup_stops_the_migration_before_it_writes(cloudflare_env, monkeypatch, migrations):
    path = point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    drop_scratch_table(migrations)
    cloudflare_env.d1_transfer.truncate_downloads = 10
    with pytest.raises(RemoteApiError, match="could not be downloaded"):
        run_migrate("dev", migrations)
    import sqlite3

    names = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM d1_migrations")}
    assert not any("scratch" in name for name in names)


def test_a_local_migrate_keeps_its_restore_point_only(migrations):
    migrate_local()
    drop_scratch_table(migrations)
    report = run_migrate("local", migrations)
    assert len(report.applied) == 2 and not (backups_dir() / "local").exists()
