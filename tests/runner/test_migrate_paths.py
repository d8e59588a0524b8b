"""`run_migrate` on every path, against `local` and against `dev` on the loopback API."""

from __future__ import annotations

import re
import sqlite3

import pytest
from migration_history import HISTORY, read_ledger_rows, write_history

from infra.d1.rules import read_user_schema
from infra.errors import LedgerMismatch, LintFailed, LockHeld, MigrationFailed
from infra.history.files import read_migrations
from infra.runner.apply import MigrateOptions, run_migrate


def test_a_fresh_database_gets_every_migration_with_ledger_rows_and_checksums(environment, history):
    env_name, database = environment
    report = run_migrate(env_name, history)
    assert report.applied == list(HISTORY)
    names, checksums = read_ledger_rows(database)
    assert names == list(HISTORY)
    assert checksums == [(migration.name, migration.sha256) for migration in read_migrations(history)]
    assert [row[1] for row in read_user_schema(database)] == ["projects_account", "accounts", "notes", "projects"]


def test_a_second_run_applies_nothing_and_changes_nothing_but_its_lease(environment, history):
    env_name, database = environment
    run_migrate(env_name, history)
    before = _contents_without_lease(database)
    report = run_migrate(env_name, history)
    assert report.applied == [] and report.restore_point is None
    assert read_ledger_rows(database)[0] == list(HISTORY)
    assert _contents_without_lease(database) == before
    assert report.requests <= 2


def test_plan_lists_pending_statements_and_writes_nothing(environment, history):
    env_name, database = environment
    before = _contents(database)
    report = run_migrate(env_name, history, MigrateOptions(plan_only=True))
    assert [migration.name for migration in report.pending] == list(HISTORY)
    assert [statement.line for statement in report.pending[1].statements] == [2, 6]
    assert _contents(database) == before


def test_an_empty_migrations_folder_writes_nothing(environment, tmp_path):
    env_name, database = environment
    before = _contents(database)
    report = run_migrate(env_name, write_history(tmp_path / "empty", {}))
    assert report.applied == [] and report.restore_point is None
    assert any("no migrations" in note and "nothing was written" in note for note in report.notes)
    assert _contents(database) == before, "neither the database nor the ledger is created"


def test_to_stops_at_the_given_version(environment, history):
    env_name, database = environment
    report = run_migrate(env_name, history, MigrateOptions(to_version=2))
    assert report.applied == ["0001_accounts.sql", "0002_projects.sql"] and report.held_back == ["0003_notes.sql"]
    assert read_ledger_rows(database)[0] == ["0001_accounts.sql", "0002_projects.sql"]
    again = run_migrate(env_name, history, MigrateOptions(to_version=1))
    assert again.applied == [] and again.held_back == ["0003_notes.sql"]
    assert run_migrate(env_name, history).applied == ["0003_notes.sql"]


def test_lint_errors_stop_the_run_before_anything_is_written(environment, history):
    env_name, database = environment
    (history / "0004_broken.sql").write_text("CREATE TABLE broken (id INTEGER PRIMARY KEY);\nBEGIN TRANSACTION;\n")
    before = _contents(database)
    with pytest.raises(LintFailed, match=r"0004_broken\.sql:2"):
        run_migrate(env_name, history)
    assert _contents(database) == before


def test_an_edited_applied_migration_is_refused_with_his002(environment, history):
    env_name, database = environment
    run_migrate(env_name, history)
    (history / "0002_projects.sql").write_text(HISTORY["0002_projects.sql"] + "-- edited\n")
    (history / "0004_more.sql").write_text("CREATE TABLE more (id INTEGER PRIMARY KEY);\n")
    before = _contents_without_lease(database)
    with pytest.raises(LedgerMismatch) as caught:
        run_migrate(env_name, history)
    assert re.fullmatch(rf"HIS002 0002_projects\.sql was edited after it was applied to {env_name} \(applied sha256 "
                        r"[0-9a-f]{12}, file now [0-9a-f]{12}\); revert the edit \(`git checkout` the applied version\) "
                        r"and put the change in a new migration; nothing was applied", str(caught.value))
    # the lease it took is given back (the run is recorded as released); nothing else was written
    assert _contents_without_lease(database) == before
    assert not [line for line in _contents_with_lease(database) if line.startswith('INSERT INTO "hyphae_lock" ')]


def test_a_missing_applied_file_is_refused_with_his003(environment, history):
    env_name, database = environment
    run_migrate(env_name, history)
    (history / "0003_notes.sql").unlink()
    with pytest.raises(LedgerMismatch, match=r"HIS003 migration 0003_notes\.sql is recorded as applied"):
        run_migrate(env_name, history)


def test_a_new_file_sorting_before_the_last_applied_is_refused_with_his004(environment, history):
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=2))
    # A rebase renumbered the applied 0002 to 0003 and slid another branch's migration in at 0002.
    (history / "0003_notes.sql").unlink()
    (history / "0002_projects.sql").rename(history / "0003_projects.sql")
    (history / "0002_late_merge.sql").write_text("CREATE TABLE late (id INTEGER PRIMARY KEY);\n")
    plan = run_migrate(env_name, history, MigrateOptions(plan_only=True))
    codes = {(finding.code, finding.file.rsplit("/", 1)[-1]) for finding in plan.ledger_findings}
    assert codes == {("HIS003", "0002_projects.sql"), ("HIS004", "0002_late_merge.sql")}
    his004 = next(finding for finding in plan.ledger_findings if finding.code == "HIS004")
    assert "sorts before 0002_projects.sql" in his004.message and "git mv" in his004.hint
    with pytest.raises(LedgerMismatch, match=r"HIS003 .*and 1 more"):
        run_migrate(env_name, history)
    assert "late" not in [row[1] for row in read_user_schema(database)]


def _contents(path):
    return path.read_bytes() if path.exists() else None


def _contents_with_lease(path):
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def _contents_without_lease(path):
    """Schema and rows of every table, except the lease rows a run takes and gives back."""
    connection = sqlite3.connect(path)
    try:
        return [line for line in connection.iterdump() if not line.startswith('INSERT INTO "hyphae_lock')]
    finally:
        connection.close()


def _duplicate_emails(database):
    connection = sqlite3.connect(database)
    connection.executescript("INSERT INTO accounts (email) VALUES ('a@x'), ('a@x');")
    connection.close()


def test_a_failing_migration_leaves_nothing_of_itself_and_names_statement_line_and_message(environment, history):
    env_name, database = environment
    run_migrate(env_name, history)
    _duplicate_emails(database)  # data lint cannot know about: the unique index fails on it
    write_history(history, {
        "0004_tags.sql": "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n",
        "0005_unique_email.sql": "CREATE TABLE audit (id INTEGER PRIMARY KEY);\n"
                                 "-- hyphae: allow SAFE005 emails were deduplicated last week (they were not)\n"
                                 "CREATE UNIQUE INDEX accounts_email ON accounts (email);\n",
        "0006_after.sql": "CREATE TABLE after_failure (id INTEGER PRIMARY KEY);\n",
    })
    with pytest.raises(MigrationFailed) as caught:
        run_migrate(env_name, history)
    message = str(caught.value)
    assert "0005_unique_email.sql:3: statement 2 of 0005_unique_email.sql failed in " + env_name in message
    assert "UNIQUE constraint failed: accounts.email" in message
    names = [row[1] for row in read_user_schema(database)]
    assert "tags" in names  # the migration before it, in the same batch, is applied on its own
    assert "audit" not in names and "after_failure" not in names
    assert read_ledger_rows(database)[0][-1] == "0004_tags.sql"


def _put_foreign_lease(database, expired: bool = False) -> None:
    """Another run (a CI job on another machine) holds the lease: for five more minutes, or expired."""
    row = ("(1, 'gone', 'oldrun', 'elsewhere', 99, 0, unixepoch() - 1)" if expired else
           "(1, 'ci@runner pid 99', 'otherrun', 'elsewhere', 99, unixepoch(), unixepoch() + 300)")
    connection = sqlite3.connect(database)
    connection.execute(f"INSERT INTO hyphae_lock VALUES {row}")
    connection.commit()
    connection.close()


def test_a_held_lock_refuses_the_run_and_names_the_holder(environment, history):
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    _put_foreign_lease(database)
    with pytest.raises(LockHeld) as caught:
        run_migrate(env_name, history)
    assert re.fullmatch(rf"the migration lock on {env_name} is held by ci@runner pid 99 \(run otherrun, lease ends in "
                        r"\d+ s\); wait for that run, or pass --break-lock if it is gone", str(caught.value))
    assert read_ledger_rows(database)[0] == ["0001_accounts.sql"]


def test_break_lock_asks_and_proceeds_only_on_yes(environment, history):
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    _put_foreign_lease(database)
    questions = []
    with pytest.raises(LockHeld) as caught:
        run_migrate(env_name, history, MigrateOptions(break_lock=True, confirm=lambda q: questions.append(q) or False))
    holder = r"ci@runner pid 99 \(run otherrun, lease ends in \d+ s\)"
    assert re.fullmatch(rf"Break the migration lock on {env_name} held by {holder}\?", questions[0])
    assert re.fullmatch(rf"the migration lock on {env_name} is held by {holder}; not broken \(you declined\)",
                        str(caught.value))
    report = run_migrate(env_name, history, MigrateOptions(break_lock=True, confirm=lambda q: True))
    assert report.applied == ["0002_projects.sql", "0003_notes.sql"]
    assert report.notes == ["broke the lock held by ci@runner pid 99"]
    assert sqlite3.connect(database).execute("SELECT count(*) FROM hyphae_lock").fetchone()[0] == 0


def test_an_expired_lease_is_taken_over(environment, history):
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    _put_foreign_lease(database, expired=True)
    assert run_migrate(env_name, history).applied == ["0002_projects.sql", "0003_notes.sql"]


def test_the_lease_of_a_killed_run_on_this_machine_is_taken_over_with_a_note(environment, history):
    """Guards against a run that takes over the lease of a dead local process without saying so."""
    import socket
    import subprocess
    import sys

    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    connection = sqlite3.connect(database)
    connection.execute("INSERT INTO hyphae_lock VALUES (1, 'me@here pid 1', 'killed', ?, ?, unixepoch(), unixepoch() + 300)",
                       (socket.gethostname(), finished.pid))
    connection.commit()
    connection.close()
    report = run_migrate(env_name, history)
    assert report.applied == ["0002_projects.sql", "0003_notes.sql"]
    assert report.notes == ["took over the lock of me@here pid 1: that process is no longer running"]


def test_the_restore_point_is_recorded_in_the_ledger_and_restores_the_previous_schema(environment, history):
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    schema_before = read_user_schema(database)
    report = run_migrate(env_name, history)
    point = report.restore_point
    recorded = sqlite3.connect(database).execute("SELECT kind, reference FROM hyphae_restore_points").fetchall()
    assert recorded[-1] == (point.kind, point.reference)
    assert point.kind == ("file" if env_name == "local" else "bookmark")
    assert point.restore_command == f"invoke restore --env {env_name} --bookmark {point.reference}"
    from infra.environments import load_environment
    from infra.targets import open_target

    target = open_target(load_environment(env_name))
    try:
        target.restore(point.reference)
    finally:
        target.close()
    assert read_user_schema(database) == schema_before
    assert read_ledger_rows(database)[0] == ["0001_accounts.sql"]


def test_restoring_frees_the_lease_captured_with_the_restore_point(environment, history):
    from infra.environments import load_environment
    from infra.runner.restore import apply_restore
    from infra.targets import open_target

    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    point = run_migrate(env_name, history).restore_point
    target = open_target(load_environment(env_name))
    try:
        apply_restore(target, point.reference)
    finally:
        target.close()
    assert sqlite3.connect(database).execute("SELECT count(*) FROM hyphae_lock").fetchone()[0] == 0
    assert run_migrate(env_name, history).applied == ["0002_projects.sql", "0003_notes.sql"]


def test_restoring_under_a_running_migration_is_refused(environment, history):
    from infra.environments import load_environment
    from infra.runner.restore import apply_restore
    from infra.targets import open_target

    env_name, database = environment
    point = run_migrate(env_name, history).restore_point
    _put_foreign_lease(database)
    target = open_target(load_environment(env_name))
    try:
        with pytest.raises(LockHeld) as caught:
            apply_restore(target, point.reference)
    finally:
        target.close()
    assert re.fullmatch(rf"a migration is running on {env_name} \(ci@runner pid 99 \(run otherrun, lease ends in \d+ s\)\); "
                        r"restore after it ends, or break its lock with `invoke migrate --break-lock` if it is gone",
                        str(caught.value))
    assert read_ledger_rows(database)[0] == list(HISTORY)


def test_a_table_named_like_the_ledger_but_not_hyphaes_is_refused_and_nothing_is_written(environment, history):
    env_name, database = environment
    database.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE hyphae_lock (note TEXT)")  # someone's own table, by bad luck
    connection.commit()
    connection.close()
    before = database.read_bytes()
    with pytest.raises(LedgerMismatch, match=r"could not create or read the ledger tables in .*: table hyphae_lock has no "
                       r"column named .*nothing was written; .* must be renamed$"):
        run_migrate(env_name, history)
    assert database.read_bytes() == before
