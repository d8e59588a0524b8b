"""What `run_migrate` reports and refuses on the paths the task tests reach only through a
subprocess, here in process: an environment not created yet, an empty folder against a ledger,
the lint error that stops a run, the notes a plan carries."""

from __future__ import annotations

import pytest
from migration_history import HISTORY, write_history

from infra.errors import LedgerMismatch, LintFailed
from infra.runner.apply import MigrateOptions, run_migrate

NOTE = ("dev is not created yet: 3 migration(s) will be applied by its first deploy (`invoke up --env dev` creates "
        "the database, migrates it, then deploys the Worker)")


@pytest.mark.parametrize("plan_only", [True, False])
def test_an_environment_not_created_yet_reports_every_migration_for_its_first_deploy(history, dev_not_created, plan_only):
    """Guards against a migrate of an environment without a database failing, or losing its plan."""
    report = run_migrate("dev", history, MigrateOptions(plan_only=plan_only, to_version=2))
    assert (report.created, report.applied, report.notes) == (False, [], [NOTE])
    assert [migration.name for migration in report.pending] == ["0001_accounts.sql", "0002_projects.sql"]
    assert report.target == "D1 database myco-team-dev (not created yet)" and report.plan_only is plan_only


def test_an_empty_folder_against_a_ledger_naming_files_is_refused(environment, history, tmp_path):
    env_name, _database = environment
    run_migrate(env_name, history)
    empty = write_history(tmp_path / "empty", {})
    with pytest.raises(LedgerMismatch) as caught:
        run_migrate(env_name, empty)
    assert str(caught.value) == (f"HIS003 migration 0001_accounts.sql is recorded as applied in {env_name} but "
                                 f"{empty / '0001_accounts.sql'} is missing; restore the file from git (it was applied "
                                 f"with sha256 {_sha('0001_accounts.sql')[:12]}); nothing was applied")


def _sha(name: str) -> str:
    import hashlib

    return hashlib.sha256(HISTORY[name].encode()).hexdigest()


def test_a_lint_error_stops_the_run_naming_the_first_one(environment, tmp_path):
    env_name, _database = environment
    folder = write_history(tmp_path / "migrations", {"0001_a.sql": "CREATE TABLE a (id INTEGER);\n",
                                                      "0002_b.sql": "CREATE INDEX i ON missing (x);\nBEGIN;\n"})
    with pytest.raises(LintFailed) as caught:
        run_migrate(env_name, folder)
    message = str(caught.value)  # the rule's own words are lint's business (tests/lint)
    assert message.startswith(f"2 lint error(s), nothing was written; first: {folder / '0002_b.sql'}:1: ORD001 no such table")
    assert message.endswith(f" (run `invoke lint --path {folder}`)")


def test_a_plan_names_the_lock_holder_and_what_wrangler_applied(environment, history):
    import sqlite3

    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    connection = sqlite3.connect(database)
    connection.execute("INSERT INTO hyphae_lock VALUES (1, 'ci@runner pid 9', 'r9', 'elsewhere', 9, unixepoch(), "
                       "unixepoch() + 100)")
    connection.commit()
    connection.close()
    plan = run_migrate(env_name, history, MigrateOptions(plan_only=True))
    assert plan.lock_holder.startswith("ci@runner pid 9 (run r9, lease ends in ")
    assert [migration.name for migration in plan.pending] == ["0002_projects.sql", "0003_notes.sql"]
    assert plan.ledger_findings == [] and plan.applied == []
