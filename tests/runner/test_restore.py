"""`apply_restore` in process (the task test runs it in a subprocess, which mutation testing cannot
see): a damaged local file put back whole, and a restore point restored twice."""

from __future__ import annotations

import sqlite3

import pytest
from migration_history import HISTORY, read_ledger_rows

from infra.environments import load_environment
from infra.runner.apply import MigrateOptions, run_migrate
from infra.runner.restore import apply_restore
from infra.targets import open_target
from infra.targets.local import restore_points_dir


def restore(env_name: str, reference: str) -> str:
    target = open_target(load_environment(env_name))
    try:
        return apply_restore(target, reference)
    finally:
        target.close()


def lease_count(database) -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT count(*) FROM hyphae_lock").fetchone()[0]
    finally:
        connection.close()


def test_a_damaged_local_file_is_put_back_whole_without_the_lease_captured_in_it(history, local_database):
    """Guards against the damaged-file path of restore leaving the lease the copy captured (every run
    refused until it expires), or not restoring at all."""
    run_migrate("local", history, MigrateOptions(to_version=1))
    point = run_migrate("local", history).restore_point
    local_database.write_bytes(b"these bytes are not a SQLite database\n" * 200)
    message = restore("local", point.reference)
    copy = restore_points_dir("local") / f"{point.reference}.sqlite"
    assert message == f"restored {local_database} from {copy} (the damaged file was replaced)"
    assert lease_count(local_database) == 0
    assert read_ledger_rows(local_database)[0] == ["0001_accounts.sql"]
    assert run_migrate("local", history).applied == ["0002_projects.sql", "0003_notes.sql"]


def test_restoring_the_same_point_twice_works_the_second_time(environment, history):
    """Guards against restore failing when the ledger it replaces does not record the restore point
    (after a first restore to it, the database predates its own record)."""
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    point = run_migrate(env_name, history).restore_point
    restore(env_name, point.reference)
    assert restore(env_name, point.reference).startswith("restored ")
    assert lease_count(database) == 0
    assert read_ledger_rows(database)[0] == ["0001_accounts.sql"]
    assert run_migrate(env_name, history).applied == list(HISTORY)[1:]


@pytest.mark.parametrize("expired_seconds_ago", [0, 60])
def test_restoring_under_an_expired_lease_of_another_run_is_allowed(environment, history, expired_seconds_ago):
    """Guards against an expired lease (its run is gone) blocking a restore until someone breaks it."""
    env_name, database = environment
    point = run_migrate(env_name, history).restore_point
    connection = sqlite3.connect(database)
    connection.execute("INSERT INTO hyphae_lock VALUES (1, 'ci@runner pid 9', 'r9', 'elsewhere', 9, unixepoch() - 600, "
                       "unixepoch() - ?)", (expired_seconds_ago,))
    connection.commit()
    connection.close()
    assert restore(env_name, point.reference).startswith("restored ")
    assert read_ledger_rows(database)[0] == []
