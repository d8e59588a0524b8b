"""Adopting a database `wrangler d1 migrations apply` migrated, and wrangler seeing hyphae's migrations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from loopback import point_dev_at_new_database

from infra.bench.migrate import WRANGLER, apply_with_wrangler, write_wrangler_config
from infra.errors import LedgerMismatch
from infra.ledger.schema import WRANGLER_TABLE_SQL
from infra.paths import REPO_ROOT, local_d1_file, state_dir, wrangler_persist_dir
from infra.runner.apply import MigrateOptions, run_migrate

HISTORY = {
    "0001_accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    "0002_projects.sql": "CREATE TABLE projects (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id));\n"
                         "CREATE INDEX projects_account ON projects (account_id);\n",
}


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _ledger(path: Path) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT d.name, h.sha256 IS NOT NULL, h.adopted FROM d1_migrations AS d "
                                  "LEFT JOIN hyphae_migrations AS h ON h.name = d.name ORDER BY d.id").fetchall()
    finally:
        connection.close()


@pytest.mark.workerd
@pytest.mark.skipif(not (REPO_ROOT / "node_modules" / "miniflare").is_dir() or not WRANGLER.exists(),
                    reason="needs node_modules (./run)")
def test_a_database_wrangler_migrated_is_adopted_and_wrangler_sees_hyphaes_migrations(tmp_path):
    folder = _folder(tmp_path, HISTORY)
    config = write_wrangler_config(tmp_path / "wrangler", folder)
    apply_with_wrangler(config, wrangler_persist_dir())
    database = local_d1_file("myco-team-local")

    with pytest.raises(LedgerMismatch, match="applied by wrangler without checksums .* --adopt"):
        run_migrate("local", folder)
    (folder / "0003_notes.sql").write_text("CREATE TABLE notes (id INTEGER PRIMARY KEY);\n")
    report = run_migrate("local", folder, MigrateOptions(adopt=True))
    assert report.adopted == list(HISTORY) and report.applied == ["0003_notes.sql"]
    assert _ledger(database) == [("0001_accounts.sql", 1, 1), ("0002_projects.sql", 1, 1), ("0003_notes.sql", 1, 0)]

    listing = subprocess.run([str(WRANGLER), "d1", "migrations", "list", "DB", "--local", "--config", str(config),
                              "--persist-to", str(wrangler_persist_dir())], cwd=config.parent, capture_output=True,
                             text=True, env={**os.environ, "CI": "1", "WRANGLER_SEND_METRICS": "false"}, check=True)
    assert "No migrations to apply" in listing.stdout


def _wrangler_migrated(database: Path, files: dict[str, str], applied: list[str]) -> None:
    """What wrangler leaves behind, statement for statement (its DDL, then each file and its ledger insert)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database)
    connection.executescript(WRANGLER_TABLE_SQL + ";")
    for name in applied:
        connection.executescript(files[name] + f"\nINSERT INTO d1_migrations (name) values ('{name}');")
    connection.close()


def test_a_remote_database_wrangler_migrated_is_adopted(remote_database_for_adoption, tmp_path):
    folder = _folder(tmp_path, HISTORY)
    _wrangler_migrated(remote_database_for_adoption, HISTORY, list(HISTORY))
    report = run_migrate("dev", folder, MigrateOptions(adopt=True))
    assert report.adopted == list(HISTORY) and report.applied == []
    assert _ledger(remote_database_for_adoption) == [("0001_accounts.sql", 1, 1), ("0002_projects.sql", 1, 1)]


def _wrangler_migrated_database(env_name: str, cloudflare_env, monkeypatch) -> Path:
    if env_name == "local":
        return local_d1_file("myco-team-local")
    return point_dev_at_new_database(cloudflare_env, monkeypatch)


@pytest.mark.parametrize("env_name", ["local", "dev"])
def test_a_run_without_adopt_on_a_wrangler_database_leaves_it_byte_for_byte_as_it_was(env_name, tmp_path, request,
                                                                                         monkeypatch):
    cloudflare_env = request.getfixturevalue("cloudflare_env") if env_name == "dev" else None
    folder = _folder(tmp_path, HISTORY)
    database = _wrangler_migrated_database(env_name, cloudflare_env, monkeypatch)
    _wrangler_migrated(database, HISTORY, list(HISTORY))
    (folder / "0003_notes.sql").write_text("CREATE TABLE notes (id INTEGER PRIMARY KEY);\n")
    before = database.read_bytes()
    plan = run_migrate(env_name, folder, MigrateOptions(plan_only=True))
    assert [migration.name for migration in plan.pending] == ["0003_notes.sql"]
    assert any(note.startswith("2 migration(s) applied by wrangler are not adopted yet: `invoke migrate --env "
                               f"{env_name} --adopt`") for note in plan.notes)
    with pytest.raises(LedgerMismatch, match=r"2 migration\(s\) in " + env_name + r" were applied by wrangler without "
                       r"checksums \(first: 0001_accounts.sql\); nothing was written; run `invoke migrate --env "
                       + env_name + " --adopt`"):
        run_migrate(env_name, folder)
    assert database.read_bytes() == before  # no empty hyphae_* tables, no lease, no restore point
    report = run_migrate(env_name, folder, MigrateOptions(adopt=True))
    assert report.adopted == list(HISTORY) and report.applied == ["0003_notes.sql"]
    assert _ledger(database) == [("0001_accounts.sql", 1, 1), ("0002_projects.sql", 1, 1), ("0003_notes.sql", 1, 0)]


def test_a_run_without_adopt_after_wrangler_applied_more_is_refused_and_changes_nothing(tmp_path):
    # hyphae manages the database, then someone ran `wrangler d1 migrations apply` once more.
    folder = _folder(tmp_path, HISTORY)
    database = local_d1_file("myco-team-local")
    run_migrate("local", folder, MigrateOptions(to_version=1))
    connection = sqlite3.connect(database)
    connection.executescript(HISTORY["0002_projects.sql"] + "\nINSERT INTO d1_migrations (name) VALUES ('0002_projects.sql');")
    connection.close()
    before = database.read_bytes()
    with pytest.raises(LedgerMismatch, match=r"1 migration\(s\) in local were applied by wrangler .*first: 0002_projects"):
        run_migrate("local", folder)
    assert database.read_bytes() == before
    assert run_migrate("local", folder, MigrateOptions(adopt=True)).adopted == ["0002_projects.sql"]


def test_adoption_is_refused_when_the_live_schema_is_not_the_history(tmp_path):
    folder = _folder(tmp_path, HISTORY)
    database = local_d1_file("myco-team-local")
    _wrangler_migrated(database, HISTORY, list(HISTORY))
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE hand_made (id INTEGER)")  # someone ran SQL by hand
    connection.commit()
    connection.close()
    before = database.read_bytes()
    with pytest.raises(LedgerMismatch, match="table hand_made exists in the database but no applied migration creates it"):
        run_migrate("local", folder, MigrateOptions(adopt=True))
    assert database.read_bytes() == before  # the schema is compared before anything is written


def test_adoption_is_refused_when_an_applied_file_is_missing(tmp_path):
    folder = _folder(tmp_path, {"0001_accounts.sql": HISTORY["0001_accounts.sql"]})
    database = local_d1_file("myco-team-local")
    _wrangler_migrated(database, HISTORY, list(HISTORY))
    before = database.read_bytes()
    with pytest.raises(LedgerMismatch, match="HIS003 0002_projects.sql is recorded as applied in local"):
        run_migrate("local", folder, MigrateOptions(adopt=True))
    assert database.read_bytes() == before


def test_adoption_is_refused_when_a_file_hyphae_applied_is_missing(tmp_path):
    folder = _folder(tmp_path, HISTORY)
    database = local_d1_file("myco-team-local")
    run_migrate("local", folder)
    # A branch renamed 0002 and wrangler applied the renamed file: hyphae's 0002 file is gone.
    (folder / "0002_projects.sql").unlink()
    renamed = "CREATE TABLE renamed (id INTEGER PRIMARY KEY);\n"
    (folder / "0002_renamed.sql").write_text(renamed)
    connection = sqlite3.connect(database)
    connection.executescript(renamed + "INSERT INTO d1_migrations (name) VALUES ('0002_renamed.sql');")
    connection.close()
    before = database.read_bytes()
    with pytest.raises(LedgerMismatch, match="HIS003 0002_projects.sql is recorded as applied in local .* restore it"):
        run_migrate("local", folder, MigrateOptions(adopt=True))
    assert database.read_bytes() == before


def test_adopting_twice_says_there_is_nothing_to_adopt(tmp_path):
    folder = _folder(tmp_path, HISTORY)
    _wrangler_migrated(local_d1_file("myco-team-local"), HISTORY, ["0001_accounts.sql"])
    lines: list[str] = []
    first = run_migrate("local", folder, MigrateOptions(adopt=True, progress=lines.append))
    assert first.adopted == ["0001_accounts.sql"] and first.applied == ["0002_projects.sql"]
    assert "adopted 1 migration(s) applied by wrangler (schema verified)" in lines
    second = run_migrate("local", folder, MigrateOptions(adopt=True))
    assert second.adopted == [] and second.notes == ["nothing to adopt: every applied migration already has a checksum"]
    assert state_dir().exists()


@pytest.fixture
def remote_database_for_adoption(cloudflare_env, monkeypatch) -> Path:
    return point_dev_at_new_database(cloudflare_env, monkeypatch)


def test_adoption_moves_the_numbering_baseline_to_the_last_adopted_in_wranglers_order(tmp_path):
    """Guards against the baseline being the last adopted name as text: after 10000_b.sql, 9999_a.sql
    sorts last as text, and numbering rules would judge 10000_b.sql (applied by wrangler) again."""
    from infra.history.sumfile import read_baseline

    files = {"9999_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
             "10000_b.sql": "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"}
    folder = _folder(tmp_path, files)
    _wrangler_migrated(local_d1_file("myco-team-local"), files, list(files))
    report = run_migrate("local", folder, MigrateOptions(adopt=True))
    assert report.adopted == ["9999_a.sql", "10000_b.sql"]
    assert read_baseline(folder) == "10000_b.sql"
