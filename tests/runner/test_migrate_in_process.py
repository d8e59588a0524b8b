"""The apply path's reports and refusals, in process (what mutation testing sees): the package's
entry, the report of an environment without a database, a plan's held-back files, the hook before
the first write, a lease that could not be given back, a refused ledger statement, a refused
adoption batch, a migration another run recorded, and a ledger another run adopted while this one
started."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from loopback import Fault
from migration_history import HISTORY, read_ledger_rows, write_history

from infra.environments import load_environment
from infra.errors import LedgerMismatch, MigrationFailed
from infra.ledger import lock
from infra.ledger.schema import HYPHAE_TABLES_SQL, WRANGLER_TABLE_SQL
from infra.lint import lint_migrations
from infra.runner import sending
from infra.runner.apply import MigrateOptions, run_migrate
from infra.targets import open_target


def sql(database, statement: str) -> None:
    connection = sqlite3.connect(database)
    try:
        connection.executescript(statement)
    finally:
        connection.close()


def describe(env_name: str) -> str:
    target = open_target(load_environment(env_name), read_only=True)
    try:
        return target.description
    finally:
        target.close()


def test_the_package_entry_passes_the_environment_folder_and_options(history, local_database):
    """Guards against `infra.runner.run_migrate` (what the tasks call) dropping its arguments: a plan
    would apply, or a run would not know where to."""
    from infra.runner import run_migrate as entry

    report = entry("local", history, options=MigrateOptions(plan_only=True))
    assert report.plan_only and [migration.name for migration in report.pending] == list(HISTORY)
    assert not local_database.exists(), "a plan writes nothing"



def test_an_environment_not_created_yet_reports_its_name_lint_and_time(tmp_path, dev_not_created):
    """Guards against the report of an environment without a database losing its name, what lint
    found, or the time it took (the JSON report and the summary print them)."""
    history = write_history(tmp_path / "migrations", {
        **HISTORY, "0004_drop.sql": "-- hyphae: allow SAFE001 the notes were never used\nDROP TABLE notes;\n"})
    lint = lint_migrations(history)
    assert lint.findings, "the history needs a finding for this test to mean something"
    started = time.perf_counter()
    report = run_migrate("dev", history)
    elapsed = time.perf_counter() - started
    assert report.environment == "dev" and not report.created
    assert (report.lint_summary, report.lint_findings) == (lint.summary(), lint.findings)
    assert 0 < report.seconds <= elapsed


def test_a_plan_names_the_files_to_held_back(environment, history):
    """Guards against a plan with --to losing the files it leaves for later (it would read as up to date)."""
    env_name, _database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    report = run_migrate(env_name, history, MigrateOptions(plan_only=True, to_version=2))
    assert [migration.name for migration in report.pending] == ["0002_projects.sql"]
    assert report.held_back == ["0003_notes.sql"]


def test_the_hook_before_the_first_write_gets_the_runs_report(environment, history):
    """Guards against the hook (a backup before a destructive change) getting no report to read
    the pending migrations from."""
    env_name, _database = environment
    seen = []
    report = run_migrate(env_name, history, MigrateOptions(before_apply=seen.append))
    assert len(seen) == 1 and seen[0] is report and report.applied == list(HISTORY)


def test_a_lease_that_could_not_be_given_back_is_noted(cloudflare_env, remote_database, history, monkeypatch):
    """Guards against a run that could not release its lease saying nothing: the next run would be
    refused for LEASE_SECONDS without a word why."""
    run_migrate("dev", history)
    monkeypatch.setattr(sending, "_back_off", lambda attempt: None)
    # The first batch (lease and ledger), then every try of the release fails.
    cloudflare_env.inject("d1.query", Fault.none(), *[Fault.status_code(500)] * sending.RESEND_ATTEMPTS)
    report = run_migrate("dev", history)
    assert report.applied == [] and f"could not release the lock; it expires in {lock.LEASE_SECONDS} s" in report.notes
    assert len(sqlite3.connect(remote_database).execute("SELECT run_id FROM hyphae_lock").fetchall()) == 1


def when(prefix: str, action):
    def progress(line: str) -> None:
        if line.startswith(prefix):
            action()
    return progress


def test_a_refused_ledger_statement_is_named_as_such_and_nothing_is_applied(environment, history):
    """Guards against a refusal of hyphae's own rows (here the restore point's, by a trigger put in
    by hand) being blamed on a migration, or named without the first migration it held back."""
    env_name, database = environment
    refuse = ("CREATE TRIGGER no_points BEFORE INSERT ON hyphae_restore_points "
              "BEGIN SELECT RAISE(ABORT, 'restore points are frozen'); END;")
    with pytest.raises(MigrationFailed) as caught:
        run_migrate(env_name, history, MigrateOptions(progress=when("restore point", lambda: sql(database, refuse))))
    message = str(caught.value)
    assert message.startswith(f"{describe(env_name)} refused a ledger statement: ")
    assert "restore points are frozen" in message
    assert message.endswith(f"; nothing of 0001_accounts.sql and later was applied; `invoke status --env {env_name}` "
                            "shows the ledger")
    assert read_ledger_rows(database)[0] == []


def test_a_refused_adoption_batch_is_named_as_the_run_s_refusal_and_nothing_is_adopted(environment, history):
    """Guards against the refusal of a batch no step explains (here the adoption's, by a trigger put
    in by hand on hyphae_migrations) losing its words: the target, the engine's reason, that nothing
    of an unfinished migration remains, and the command that shows what is applied."""
    env_name, database = environment
    database.parent.mkdir(parents=True, exist_ok=True)  # local: a database wrangler made before hyphae
    sql(database, WRANGLER_TABLE_SQL + ";" + HISTORY["0001_accounts.sql"]
        + "INSERT INTO d1_migrations (name) VALUES ('0001_accounts.sql');"
        + ";".join(HYPHAE_TABLES_SQL) + ";"
        + "CREATE TRIGGER no_adoption BEFORE INSERT ON hyphae_migrations "
          "BEGIN SELECT RAISE(ABORT, 'the ledger is frozen'); END;")
    with pytest.raises(MigrationFailed) as caught:
        run_migrate(env_name, history, MigrateOptions(adopt=True))
    message = str(caught.value)
    assert message.startswith(f"{describe(env_name)} refused a statement of the run: ")
    assert "the ledger is frozen" in message
    assert message.endswith(f"; nothing of an unfinished migration remains; `invoke status --env {env_name}` "
                            "shows what is applied")
    assert read_ledger_rows(database) == (["0001_accounts.sql"], [])  # wrangler's row only: nothing adopted or applied


def test_a_migration_another_run_recorded_is_not_applied_twice(environment, history):
    """Guards against a migration recorded since this run read the ledger being reported as a failed
    statement, or without saying nothing was applied twice."""
    env_name, database = environment
    record = "INSERT INTO d1_migrations (name) VALUES ('0002_projects.sql');"
    with pytest.raises(LedgerMismatch) as caught:
        run_migrate(env_name, history, MigrateOptions(progress=when("restore point", lambda: sql(database, record))))
    message = str(caught.value)
    assert message.startswith(f"0002_projects.sql is already recorded in the ledger of {env_name} (another run "
                              "applied it?): UNIQUE constraint failed: d1_migrations.name")
    assert message.endswith(f"; nothing was applied twice; `invoke status --env {env_name}` shows what is applied")
    assert read_ledger_rows(database)[0] == ["0002_projects.sql"]


def test_a_ledger_another_run_adopted_while_this_one_started_says_to_run_again(cloudflare_env, remote_database, history):
    """Guards against the refusal of a run that met wrangler's rows, which another run adopted before
    this one could read them, losing its words."""
    sql(remote_database, WRANGLER_TABLE_SQL + ";" + HISTORY["0001_accounts.sql"]
        + "INSERT INTO d1_migrations (name) VALUES ('0001_accounts.sql');")
    read_may_go = threading.Event()
    # 1st request: the first batch, refused by the adoption guard; 2nd: the read explaining it, held back
    # until another run adopted wrangler's row.
    cloudflare_env.inject("d1.query", Fault.none(), Fault.delay(until=read_may_go))

    def adopt_meanwhile() -> None:
        while cloudflare_env.requests["d1.query"] < 2:
            time.sleep(0.01)
        try:
            run_migrate("dev", history, MigrateOptions(adopt=True, to_version=1))
        finally:
            read_may_go.set()

    other = threading.Thread(target=adopt_meanwhile)
    other.start()
    try:
        with pytest.raises(LedgerMismatch) as caught:
            run_migrate("dev", history)
    finally:
        read_may_go.set()
        other.join()
    assert str(caught.value) == ("the ledger of dev changed while this run started (another run adopted wrangler's "
                                 "migrations); nothing was written; run migrate again")
    assert read_ledger_rows(remote_database)[0] == ["0001_accounts.sql"]


def test_a_run_reports_each_step_in_order_and_its_time(environment, history):
    """Guards against the lines `invoke migrate` prints while it works (target, lint, the restore
    point and how to undo, each migration applied) losing or garbling their words, against the
    run's time going missing from the report, and against the release leaving the last batch (one
    more request per run)."""
    env_name, _database = environment
    lines: list[str] = []
    started = time.perf_counter()
    report = run_migrate(env_name, history, MigrateOptions(progress=lines.append, to_version=2))
    elapsed = time.perf_counter() - started
    point = report.restore_point
    assert lines == [f"target: {describe(env_name)}", "lint: 3 files, 0 errors, 0 warnings",
                     f"restore point {point.reference} ({point.kind}); undo with: {point.restore_command}",
                     "applied 0001_accounts.sql (1 statements)", "applied 0002_projects.sql (2 statements)"]
    assert 0 < report.seconds <= elapsed
    assert (report.lint_summary, report.lint_findings) == (lint_migrations(history).summary(), [])
    # the lease, the restore point (remotely a Time Travel bookmark), then one batch that also gives the lease back
    assert report.requests == (2 if env_name == "local" else 3)


@pytest.mark.parametrize("before", [["0002_leaf.sql"], ["0002_leaf.sql", "0003_twig.sql"]])
def test_a_migration_whose_commit_is_refused_is_named_and_the_ones_before_it_are_applied(environment, tmp_path, before):
    """Guards against a batch refused at commit (a deferred foreign key broken by rows lint cannot
    see) being blamed on a ledger statement or on another migration of its batch, against the
    restore point's record going missing or twice, and against the open transaction keeping the lease."""
    env_name, database = environment
    history = write_history(tmp_path / "migrations", {"0001_tree.sql": (
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);\n")})
    run_migrate(env_name, history)
    sql(database, "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);")  # the product's rows
    prune = f"{len(before) + 2:04d}_prune.sql"
    write_history(history, {**{name: f"CREATE TABLE {name[5:-4]} (id INTEGER);\n" for name in before},
                            prune: "DELETE FROM parent WHERE id = 1;\n"})
    with pytest.raises(MigrationFailed) as caught:
        run_migrate(env_name, history)
    message = str(caught.value)
    assert message.startswith(f"{history / prune}: {prune} could not commit in {env_name}: FOREIGN KEY constraint failed")
    assert message.endswith(f" (deferred constraints are checked when its batch commits); nothing of {prune} was "
                            f"applied ({len(before)} migration(s) before it were)")
    assert read_ledger_rows(database)[0] == ["0001_tree.sql", *before]
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("SELECT count(*) FROM parent").fetchone() == (1,)
        assert connection.execute("SELECT count(*) FROM hyphae_lock").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM hyphae_restore_points").fetchone() == (2,), "one per run"
    finally:
        connection.close()


def test_a_plan_reports_ledger_findings_naming_the_environment(environment, history):
    """Guards against a plan's findings (what `migrate --plan` and the drift report show) losing the
    environment they were found in."""
    env_name, _database = environment
    run_migrate(env_name, history)
    (history / "0002_projects.sql").write_text(HISTORY["0002_projects.sql"] + "-- edited\n")
    report = run_migrate(env_name, history, MigrateOptions(plan_only=True))
    (finding,) = report.ledger_findings
    assert finding.message.startswith(f"0002_projects.sql was edited after it was applied to {env_name} (applied sha256 ")


def test_a_run_of_several_requests_records_its_restore_point_once(environment, tmp_path):
    """Guards against every request of a run recording the restore point again (`status` and
    `restore` would list one point several times)."""
    env_name, database = environment
    heavy = "".join(f"UPDATE t SET v = {n} WHERE v IS NULL;\n" for n in range(25))  # over a request's budget alone
    history = write_history(tmp_path / "migrations", {"0001_t.sql": "CREATE TABLE t (v INTEGER);\n",
                                                      "0002_fill.sql": heavy, "0003_u.sql": "CREATE TABLE u (id INTEGER);\n"})
    report = run_migrate(env_name, history)
    assert report.applied == ["0001_t.sql", "0002_fill.sql", "0003_u.sql"]
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("SELECT kind, reference FROM hyphae_restore_points").fetchall() == [
            (report.restore_point.kind, report.restore_point.reference)]
    finally:
        connection.close()


def test_the_hook_before_the_first_write_reads_how_many_migrations_were_applied_before(environment, history):
    """Guards against the run not telling the hook how many migrations the ledger held: the backup
    before a destructive change skips only a database with none applied, and would then back up
    (or skip) the wrong ones."""
    env_name, _database = environment
    seen = []
    run_migrate(env_name, history, MigrateOptions(to_version=1, before_apply=lambda report: seen.append(report.applied_before)))
    run_migrate(env_name, history, MigrateOptions(before_apply=lambda report: seen.append(report.applied_before)))
    assert seen == [0, 1]

