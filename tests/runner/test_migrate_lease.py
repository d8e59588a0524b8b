"""The lease during a run, against `local` and `dev` on the loopback API: renewed and guarded in
every batch, given back after a failure, and `--break-lock` breaking only the lease it showed."""

from __future__ import annotations

import sqlite3

import pytest
from migration_history import read_ledger_rows, write_history

from infra.errors import LockHeld, MigrationFailed
from infra.ledger import lock
from infra.runner.apply import MigrateOptions, run_migrate
from infra.targets.d1_api import REQUEST_TIMEOUT

# Three requests: the middle migration weighs more than a request may on its own (batches.py).
THREE_REQUESTS = {
    "0001_t.sql": "CREATE TABLE t (v INTEGER);\n",
    "0002_fill.sql": "".join(f"UPDATE t SET v = {n} WHERE v IS NULL;\n" for n in range(25)),
    "0003_u.sql": "CREATE TABLE u (id INTEGER);\n",
}


def sql(database, statement: str, *params):
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(statement, params).fetchall()
        connection.commit()
        return rows
    finally:
        connection.close()


def lease_left(database) -> int | None:
    rows = sql(database, "SELECT expires_at - unixepoch() FROM hyphae_lock WHERE id = 1")
    return rows[0][0] if rows else None


def hand_lease_to_another_run(database) -> None:
    """What a run elsewhere does after this one's lease expired: take the lease for itself."""
    sql(database, "UPDATE hyphae_lock SET holder = 'ci@runner pid 7', run_id = 'thief', host = 'elsewhere', pid = 7, "
                  "expires_at = unixepoch() + 300 WHERE id = 1")


def after_applying(name: str, action):
    def progress(line: str) -> None:
        if line.startswith(f"applied {name} "):
            action()
    return progress


def test_a_run_that_lost_its_lease_between_batches_commits_nothing_more(environment, tmp_path):
    """Guards against the lease guard (or its renewal) being dropped from the apply batches: a run
    whose lease went to another run must not commit its next batch."""
    env_name, database = environment
    history = write_history(tmp_path / "migrations", THREE_REQUESTS)
    progress = after_applying("0001_t.sql", lambda: hand_lease_to_another_run(database))
    with pytest.raises(LockHeld, match=f"this run lost the migration lock on {env_name}.*nothing of 0002_fill.sql and later"):
        run_migrate(env_name, history, MigrateOptions(progress=progress))
    assert read_ledger_rows(database)[0] == ["0001_t.sql"]
    assert sql(database, "SELECT count(*) FROM t WHERE v IS NOT NULL") == [(0,)]
    assert sql(database, "SELECT run_id FROM hyphae_lock") == [("thief",)], "the other run's lease is left alone"


def test_every_batch_renews_the_lease(environment, tmp_path):
    """Guards against the renewal being dropped from the apply batches: a long run's lease would
    expire half way and another run could start migrating beside it."""
    env_name, database = environment
    history = write_history(tmp_path / "migrations", THREE_REQUESTS)
    seen = []

    def progress(line: str) -> None:
        if line.startswith("applied 0001_t.sql "):
            sql(database, "UPDATE hyphae_lock SET expires_at = unixepoch() + 5 WHERE id = 1")
        if line.startswith("applied 0002_fill.sql "):
            seen.append(lease_left(database))

    run_migrate(env_name, history, MigrateOptions(progress=progress))
    assert len(seen) == 1 and lock.LEASE_SECONDS - 5 <= seen[0] <= lock.LEASE_SECONDS


def test_the_lease_lasts_lease_seconds_and_outlives_a_request_and_its_resend(environment, tmp_path):
    """Guards against a lease shorter than the work it covers (the length was checked only in the docs):
    taken for LEASE_SECONDS by the database's clock, longer than a request sent twice."""
    env_name, database = environment
    history = write_history(tmp_path / "migrations", THREE_REQUESTS)
    seen = []  # read when the restore point is reported: after the first batch took the lease, before any apply
    run_migrate(env_name, history, MigrateOptions(
        progress=lambda line: seen.append(lease_left(database)) if line.startswith("restore point") else None))
    assert lock.LEASE_SECONDS - 5 <= seen[0] <= lock.LEASE_SECONDS
    assert lock.LEASE_SECONDS > 2 * REQUEST_TIMEOUT.read


def test_a_failed_batch_gives_the_lease_back(environment, tmp_path):
    """Guards against the lease being kept after a failed batch: every later run would be refused
    for five minutes although nothing runs."""
    env_name, database = environment
    history = write_history(tmp_path / "migrations", {**THREE_REQUESTS, "0004_unique.sql": (
        "-- hyphae: allow SAFE005 the values are distinct (they are not: the test put in two equal rows)\n"
        "CREATE UNIQUE INDEX t_v ON t (v);\n")})
    duplicates = after_applying("0001_t.sql", lambda: sql(database, "INSERT INTO t VALUES (1), (1)"))
    with pytest.raises(MigrationFailed, match="UNIQUE constraint failed"):
        run_migrate(env_name, history, MigrateOptions(progress=duplicates))
    assert read_ledger_rows(database)[0] == ["0001_t.sql", "0002_fill.sql", "0003_u.sql"]
    assert sql(database, "SELECT count(*) FROM hyphae_lock") == [(0,)]
    assert len(sql(database, "SELECT run_id FROM hyphae_lock_released")) == 1


def test_break_lock_breaks_only_the_lease_it_showed(environment, history):
    """Guards against --break-lock deleting whatever lease is there: a lease another run took
    after the question was shown is not the one the user agreed to break."""
    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    sql(database, "INSERT INTO hyphae_lock VALUES (1, 'gone@laptop pid 5', 'shown', 'elsewhere', 5, unixepoch(), unixepoch() + 300)")
    questions = []

    def confirm(question: str) -> bool:
        questions.append(question)
        if len(questions) == 1:  # while the user reads the question, another run takes the lease over
            hand_lease_to_another_run(database)
            return True
        return False

    with pytest.raises(LockHeld, match="held by ci@runner pid 7 .*not broken"):
        run_migrate(env_name, history, MigrateOptions(break_lock=True, confirm=confirm))
    assert "gone@laptop pid 5" in questions[0] and "ci@runner pid 7" in questions[1]
    assert sql(database, "SELECT run_id FROM hyphae_lock") == [("thief",)]
    assert read_ledger_rows(database)[0] == ["0001_accounts.sql"]
