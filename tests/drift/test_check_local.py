"""Drift of the `local` environment: a database migrated by `invoke migrate`'s runner, then
changed out of band with plain SQLite (as `wrangler d1 execute --local` would), is reported
exactly; a clean one reports nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from infra.drift.check import check_drift, history_findings, read_database_state
from infra.environments import load_environment
from infra.history.files import MigrationFile, latest_version, read_migrations
from infra.history.sumfile import write_sum
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, local_d1_file
from infra.runner.apply import MigrateOptions, run_migrate


def migrate_local(directory: Path = DEFAULT_MIGRATIONS_DIR, to_version: int | None = None) -> None:
    run_migrate("local", directory, MigrateOptions(to_version=to_version))


def out_of_band(*statements: str) -> None:
    """Change the local database behind hyphae's back."""
    connection = sqlite3.connect(local_d1_file(load_environment("local").local_database_id), isolation_level=None)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def drift_of_local(directory: Path = DEFAULT_MIGRATIONS_DIR) -> list[tuple[str, str, str]]:
    report = check_drift(["local"], directory)
    return [(finding.code, finding.object, finding.detail) for finding in report.findings]


@pytest.fixture
def migrated_local():
    migrate_local()


def test_a_clean_local_environment_reports_nothing(migrated_local):
    report = check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    assert report.findings == []
    assert report.clean
    assert report.environments[0].applied_version == latest_version(read_migrations(DEFAULT_MIGRATIONS_DIR))
    assert report.environments[0].objects_compared > 40


def test_an_extra_column_added_out_of_band(migrated_local):
    out_of_band("ALTER TABLE sessions ADD COLUMN mood TEXT")
    report = check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    assert [(f.code, f.change, f.object, f.detail, f.cause) for f in report.findings] == [
        ("SCH002", "extra", "column sessions.mood", "mood TEXT in the database only", "changed out of band"),
    ]
    assert (report.findings[0].area, report.findings[0].severity, report.findings[0].fix) == (
        "schema", "drift", "if the change is wanted, write it as a migration (`invoke new SLUG`); otherwise undo it in the database")
    assert not report.clean


def test_a_dropped_index(migrated_local):
    out_of_band("DROP INDEX idx_graph_edges_source")
    assert drift_of_local() == [
        ("SCH001", "index idx_graph_edges_source",
         "ON graph_edges(source_id, source_type) in the repository, not in the database"),
    ]


def test_a_changed_default(migrated_local):
    # SQLite can't ALTER a default; the dashboard's way is a rebuild, which keeps everything else.
    out_of_band(
        "CREATE TABLE team_config_new (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL DEFAULT '{}')",
        "INSERT INTO team_config_new SELECT key, value FROM team_config",
        "DROP TABLE team_config",
        "ALTER TABLE team_config_new RENAME TO team_config",
    )
    assert drift_of_local() == [
        ("SCH003", "column team_config.value", "default: repository none, live '{}'"),
    ]


def test_an_extra_table(migrated_local):
    clean = check_drift(["local"], DEFAULT_MIGRATIONS_DIR).environments[0].objects_compared
    out_of_band("CREATE TABLE debug_log (id INTEGER PRIMARY KEY, line TEXT)")
    assert drift_of_local() == [("SCH002", "table debug_log", "in the database only (columns: id, line)")]
    # the larger side is counted: the live database now has one object more than the replay
    assert check_drift(["local"], DEFAULT_MIGRATIONS_DIR).environments[0].objects_compared == clean + 1


def test_a_migration_edited_after_it_ran(tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, directory)
    migrate_local(directory)
    edited = directory / "0005_embed_stats_and_dlq_replays.sql"
    edited.write_text(edited.read_text().replace(
        "ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0", "ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 1"))
    report = check_drift(["local"], directory)
    codes = [(f.code, f.object, f.cause) for f in report.findings]
    assert codes == [
        ("SCH003", "column team_dlq.replay_count",
         "migration edited: 0005_embed_stats_and_dlq_replays.sql changed after it was applied"),
        ("HIS002", "migration 0005_embed_stats_and_dlq_replays.sql", ""),
    ]
    assert report.findings[0].detail == "default: repository 1, live 0"
    assert report.findings[0].fix == ("restore the applied file from git and put the change in a new migration "
                                      "(`invoke new SLUG`)")
    his002 = report.findings[1]
    assert (his002.area, his002.change, his002.severity) == ("history", "changed", "drift")
    assert his002.detail.startswith("0005_embed_stats_and_dlq_replays.sql was edited after it was applied to local (applied sha256 ")
    assert his002.fix == "revert the edit (`git checkout` the applied version) and put the change in a new migration"


def test_a_generated_column_expression_changed_out_of_band(tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, directory)
    (directory / f"{len(read_migrations(directory)) + 1:04d}_spore_title_key.sql").write_text(
        "CREATE TABLE spore_titles (id TEXT NOT NULL PRIMARY KEY, title TEXT NOT NULL,\n"
        "  title_key TEXT GENERATED ALWAYS AS (lower(trim(title))) STORED);\n")
    write_sum(directory, read_migrations(directory))
    migrate_local(directory)
    assert drift_of_local(directory) == []
    # SQLite can't ALTER a generated column: a rebuild with another expression is how it changes.
    out_of_band(
        "CREATE TABLE spore_titles_new (id TEXT NOT NULL PRIMARY KEY, title TEXT NOT NULL,"
        " title_key TEXT GENERATED ALWAYS AS (lower(title)) STORED)",
        "INSERT INTO spore_titles_new (id, title) SELECT id, title FROM spore_titles",
        "DROP TABLE spore_titles",
        "ALTER TABLE spore_titles_new RENAME TO spore_titles",
    )
    assert drift_of_local(directory) == [
        ("SCH003", "column spore_titles.title_key",
         "generated: repository AS (LOWER(TRIM(title))) STORED, live AS (LOWER(title)) STORED"),
    ]


def test_an_applied_migration_whose_file_is_gone_is_his003_and_explains_the_schema_it_made(tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, directory)
    migrate_local(directory)
    (directory / "0005_embed_stats_and_dlq_replays.sql").unlink()
    report = check_drift(["local"], directory)
    history = [(f.code, f.object) for f in report.findings if f.area == "history"]
    schema = [f for f in report.findings if f.area == "schema"]
    assert history == [("HIS003", "migration 0005_embed_stats_and_dlq_replays.sql")]
    assert [(f.code, f.object) for f in schema] == [
        ("SCH002", "column team_dlq.replay_count"), ("SCH002", "column team_sync_stats.embed_ok"),
        ("SCH002", "column team_sync_stats.embed_failed"), ("SCH002", "column team_sync_stats.last_embed_error"),
        ("SCH002", "column team_sync_stats.last_embed_at")]
    assert {f.cause for f in schema} == {
        "migration missing: 0005_embed_stats_and_dlq_replays.sql applied but its file is gone"}
    assert {f.fix for f in schema} == {"restore the applied file from git (HIS003), then run drift again"}
    (his003,) = [f for f in report.findings if f.area == "history"]
    assert (his003.change, his003.severity, his003.cause) == ("missing", "drift", "")
    assert not report.clean


def test_a_migration_added_before_the_applied_history_is_his004_not_pending():
    directory = DEFAULT_MIGRATIONS_DIR
    migrate_local(directory)
    files = read_migrations(directory)
    late = MigrationFile(directory / "0004_late.sql", "CREATE TABLE late_table (id INTEGER PRIMARY KEY);\n")
    env = load_environment("local")
    ledger = read_database_state(env).ledger
    findings = history_findings("local", sorted([*files, late], key=lambda file: file.name), ledger, directory)
    assert [(f.code, f.object, f.change) for f in findings] == [("HIS004", "migration 0004_late.sql", "pending")]
    assert findings[0].detail == ("0004_late.sql is not applied to local but sorts before "
                                  f"{files[-1].name}, which is: it would run out of order")
    assert "migrations/0004_late.sql" in findings[0].fix and str(REPO_ROOT) not in findings[0].fix


def test_history_paths_inside_the_repository_are_shown_relative_to_it(migrated_local):
    files = read_migrations(DEFAULT_MIGRATIONS_DIR)
    ledger = read_database_state(load_environment("local")).ledger
    (finding,) = history_findings("local", files[:-1], ledger, DEFAULT_MIGRATIONS_DIR)
    assert finding.code == "HIS003"
    assert finding.detail == (f"migration {files[-1].name} is recorded as applied in local but "
                              f"migrations/{files[-1].name} is missing")


def test_pending_migrations_are_notices_not_drift():
    migrate_local(to_version=4)
    report = check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    after_0004 = [file.name for file in read_migrations(DEFAULT_MIGRATIONS_DIR) if file.version > 4]
    assert [(f.code, f.object, f.severity) for f in report.findings] == [
        ("PEN001", f"migration {name}", "notice") for name in after_0004
    ]
    assert report.clean
    (local,) = report.environments
    assert (local.applied_version, local.latest_version) == (4, latest_version(read_migrations(DEFAULT_MIGRATIONS_DIR)))


def test_a_pending_migration_applied_by_hand_is_blamed_on_it():
    migrate_local(to_version=4)
    out_of_band("ALTER TABLE team_dlq ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0")
    report = check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    schema = [f for f in report.findings if f.area == "schema"]
    assert [(f.code, f.object) for f in schema] == [("SCH002", "column team_dlq.replay_count")]
    assert schema[0].cause == ("migration pending: 0005_embed_stats_and_dlq_replays.sql makes this change "
                               "but is not recorded as applied")
    assert schema[0].fix == ("it was applied outside hyphae; record it with `invoke migrate --env local --adopt`, "
                             "or undo it by hand and run `invoke migrate`")


def test_a_local_database_never_migrated_is_not_created_by_drift():
    path = local_d1_file(load_environment("local").local_database_id)
    report = check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    assert report.clean and {f.code for f in report.findings} == {"PEN001"}
    assert not path.exists()
    assert report.environments[0].applied_version == 0


def test_drift_writes_nothing_to_the_database(migrated_local):
    out_of_band("ALTER TABLE sessions ADD COLUMN mood TEXT")
    path = local_d1_file(load_environment("local").local_database_id)
    before = path.read_bytes()
    check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    assert path.read_bytes() == before


def test_a_contract_column_dropped_out_of_band_says_what_it_costs_the_client(migrated_local):
    out_of_band("ALTER TABLE prompt_batches DROP COLUMN thread_label")
    findings = drift_of_local()
    assert ("SCH001", "column prompt_batches.thread_label", "thread_label TEXT in the repository, not in the database") in findings
    assert ("CON003", "column prompt_batches.thread_label", "the client sends thread_label: every write to prompt_batches fails (dead-lettered, see /dlq) until the column is back") in findings
    con003 = [f for f in check_drift(["local"], DEFAULT_MIGRATIONS_DIR).findings if f.code == "CON003"]
    assert [(f.environment, f.area) for f in con003] == [("local", "contract")]


def test_pending_migrations_that_add_contract_fields_are_notices_not_contract_drift():
    migrate_local(to_version=5)
    report = check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    assert report.clean and "CON003" not in {finding.code for finding in report.findings}


def test_a_late_migration_applied_by_hand_before_the_applied_history_is_blamed_on_it(tmp_path):
    """Guards against the replay of the whole history being skipped (or not used) when a pending
    file sorts before applied ones: its table, created by hand, must be explained by it."""
    directory = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, directory)
    migrate_local(directory)
    (directory / "0004_late.sql").write_text("CREATE TABLE late_table (id INTEGER PRIMARY KEY);\n")
    assert [(f.code, f.object) for f in check_drift(["local"], directory).findings] == [
        ("HIS004", "migration 0004_late.sql")]
    out_of_band("CREATE TABLE late_table (id INTEGER PRIMARY KEY)")
    findings = check_drift(["local"], directory).findings
    assert [(f.code, f.object, f.cause) for f in findings] == [
        ("SCH002", "table late_table", "migration pending: 0004_late.sql makes this change but is not recorded as applied"),
        ("HIS004", "migration 0004_late.sql", "")]


def test_an_environment_named_twice_is_checked_once(migrated_local):
    """Guards against `--env local,local` reporting (and counting) one environment twice."""
    report = check_drift(["local", "local"], DEFAULT_MIGRATIONS_DIR)
    assert [environment.environment for environment in report.environments] == ["local"]
    assert report.environments[0].checked == ["schema", "history", "contract", "local config"]


def test_the_expected_schema_is_the_same_from_lints_cached_checkpoints(tmp_path):
    """Guards against the replay misusing the linter's cached checkpoint (starting from the wrong
    file, or ignoring the snapshot): drift after `invoke lint` must read what it reads without it."""
    from infra.drift.expected import replay_expected
    from infra.lint import lint_migrations

    directory = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, directory)
    files = read_migrations(directory)
    applied = {file.name for file in files[:-2]}
    fresh = replay_expected(files, applied)
    lint_migrations(directory)
    from infra.lint.cache import cache_dir

    assert any(cache_dir().glob("*.rows.sqlite")), "lint wrote no checkpoint to start from"
    cached = replay_expected(files, applied)
    assert (cached.applied, cached.latest) == (fresh.applied, fresh.latest)
    assert cached.latest != cached.applied and cached.applied.object_count() > 30
    everything = replay_expected(files, {file.name for file in files})
    assert (everything.applied, everything.latest) == (fresh.latest, None)


def test_a_ledger_holding_only_an_unnumbered_migration_is_at_version_zero():
    """Guards against a ledger row whose name has no version number (a migration wrangler applied
    under another naming scheme) counting as version 1: the report would claim schema 0001."""
    migrate_local(to_version=1)
    out_of_band("UPDATE d1_migrations SET name = 'baseline.sql'")
    report = check_drift(["local"], DEFAULT_MIGRATIONS_DIR)
    assert ("HIS003", "migration baseline.sql") in [(f.code, f.object) for f in report.findings]
    assert report.environments[0].applied_version == 0
