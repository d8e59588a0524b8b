"""`apply_restore` in process (the task test runs it in a subprocess, which mutation testing cannot
see): a damaged local file put back whole, a restore point restored twice, and the leases that do
or do not block a restore."""

from __future__ import annotations

import sqlite3

import pytest
from migration_history import HISTORY, read_ledger_rows

from infra.environments import load_environment
from infra.errors import LockHeld
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


def bookmark_now() -> str:
    """A Time Travel bookmark of `dev` taken outside any migrate run (as `wrangler d1 time-travel info` gives)."""
    target = open_target(load_environment("dev"))
    try:
        return target.create_restore_point().reference
    finally:
        target.close()


def test_restoring_to_bookmarks_no_run_recorded_keeps_no_lease(remote_database, history):
    """Guards against a restore to a bookmark taken outside migrate failing: one from before the
    ledger existed, and one from between two runs (a ledger without a lease)."""
    before_any_run = bookmark_now()
    run_migrate("dev", history, MigrateOptions(to_version=1))
    between_runs = bookmark_now()
    run_migrate("dev", history)
    assert restore("dev", between_runs).startswith("restored ")
    assert read_ledger_rows(remote_database)[0] == ["0001_accounts.sql"] and lease_count(remote_database) == 0
    assert restore("dev", before_any_run).startswith("restored ")
    connection = sqlite3.connect(remote_database)
    try:
        assert connection.execute("SELECT name FROM sqlite_master WHERE name LIKE 'hyphae_%'").fetchall() == []
    finally:
        connection.close()
    assert run_migrate("dev", history).applied == list(HISTORY)


def test_the_lease_of_the_run_that_took_the_restore_point_does_not_block_restoring_it(environment, history):
    """Guards against restore refusing because of the lease of the very run whose restore point it
    puts back (a run killed after taking it, from another machine: its lease has minutes left)."""
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    point = run_migrate(env_name, history).restore_point
    connection = sqlite3.connect(database)
    (recorder,) = connection.execute("SELECT run_id FROM hyphae_restore_points WHERE reference = ?",
                                     (point.reference,)).fetchone()
    connection.execute("INSERT INTO hyphae_lock VALUES (1, 'ci@runner pid 9', ?, 'elsewhere', 9, unixepoch(), "
                       "unixepoch() + 300)", (recorder,))
    connection.commit()
    connection.close()
    assert restore(env_name, point.reference).startswith("restored ")
    assert lease_count(database) == 0
    assert read_ledger_rows(database)[0] == ["0001_accounts.sql"]


def test_a_lease_of_another_run_with_one_second_left_blocks_the_restore(history, local_database):
    """Guards against a lease in its last second counting as expired: its run may still be writing."""
    point = run_migrate("local", history).restore_point
    target = open_target(load_environment("local"))
    try:
        # The lease's time left is computed by the database (expires_at - unixepoch()): a fixed clock
        # on this connection makes it exactly one second, however long the test takes.
        target._connection.create_function("unixepoch", 0, lambda: 1_000_000)
        target._connection.execute("INSERT INTO hyphae_lock VALUES (1, 'ci@runner pid 9', 'r9', 'elsewhere', 9, "
                                   "unixepoch() - 600, unixepoch() + 1)")
        with pytest.raises(LockHeld) as caught:
            apply_restore(target, point.reference)
    finally:
        target.close()
    assert str(caught.value) == ("a migration is running on local (ci@runner pid 9 (run r9, lease ends in 1 s)); restore "
                                 "after it ends, or break its lock with `invoke migrate --break-lock` if it is gone")
    assert read_ledger_rows(local_database)[0] == list(HISTORY)
