"""Sending a run's batches, in process: the back-off between resends, the one-line error when no
answer comes, a ledger that holds part of one batch, and the bisection that finds a failing statement."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from loopback import Fault
from migration_history import HISTORY, read_ledger_rows, write_history

from infra.environments import load_environment
from infra.errors import LedgerMismatch, MigrationFailed, RemoteApiError
from infra.runner import sending
from infra.runner.apply import MigrateOptions, run_migrate
from infra.runner.sending import RunSender
from infra.targets import BatchFailed, BatchStatement, open_target
from infra.targets.local import LocalTarget


@pytest.fixture
def dev_target(remote_database):
    target = open_target(load_environment("dev"))
    yield target
    target.close()


def test_a_batch_without_answer_backs_off_doubling_then_fails_in_one_line(cloudflare_env, dev_target, monkeypatch):
    """Guards against a back-off that shrinks or grows too fast (resends hammering D1, or a run
    waiting minutes), and against the error that ends the tries losing its words."""
    waits = []
    monkeypatch.setattr(sending.time, "sleep", waits.append)
    cloudflare_env.inject("d1.query", *[Fault.status_code(500)] * sending.RESEND_ATTEMPTS)
    with pytest.raises(RemoteApiError) as caught:
        RunSender(dev_target, "run-1", "dev", print).send([BatchStatement("SELECT 1")])
    assert waits == [0.2, 0.4, 0.8, 1.6]
    message = str(caught.value)
    assert message.startswith(f"{dev_target.description}: no answer after 4 attempts (HTTP 500: ")
    assert message.endswith("); `invoke status` shows what was applied") and "\n" not in message


def test_a_ledger_holding_part_of_one_batch_is_refused_as_edited_by_hand(cloudflare_env, remote_database, history,
                                                                          dev_target, monkeypatch):
    """Guards against a partly recorded batch (impossible unless the ledger was edited) being taken
    for a committed or an uncommitted one, or refused without saying what to compare."""
    run_migrate("dev", history)
    connection = sqlite3.connect(remote_database)
    connection.execute("UPDATE hyphae_migrations SET run_id = 'by-hand' WHERE name = '0001_accounts.sql'")
    connection.commit()
    connection.close()
    monkeypatch.setattr(sending, "_back_off", lambda attempt: None)
    cloudflare_env.inject("d1.query", Fault.status_code(500))
    with pytest.raises(LedgerMismatch) as caught:
        RunSender(dev_target, "by-hand", "dev", print).send_recorded([BatchStatement("SELECT 1")], list(HISTORY)[:2])
    assert str(caught.value) == (f"{dev_target.description}: 1 of 2 migrations of one batch are recorded; a batch is "
                                 "atomic, so the ledger was edited by hand; compare `invoke status --env dev` with the "
                                 "database's tables")


@pytest.mark.parametrize("failing", [0, 1, 2, 3, 4])
def test_the_bisection_finds_the_failing_statement_wherever_it_is(tmp_path, failing):
    """Guards against a bisection that never looks at the first or the last statement, or past the end."""
    target = LocalTarget(tmp_path / "db.sqlite")
    try:
        statements = [BatchStatement(f"CREATE TABLE t{number} (id INTEGER)") for number in range(5)]
        statements[failing] = BatchStatement("INSERT INTO missing VALUES (1)")
        with pytest.raises(BatchFailed):
            target.batch(statements)
        assert RunSender(target, "5f0c1a2b3d4e5f60", "local", print).locate_failure(statements) == failing
        assert target.query("SELECT name FROM sqlite_master") == [], "probes never commit"
    finally:
        target.close()


def test_a_run_whose_lost_batch_is_partly_recorded_names_its_environment(cloudflare_env, remote_database, history):
    """Guards against the run's sender losing the environment its refusal names: a batch whose
    answer was lost, then found partly recorded (the ledger edited by hand meanwhile)."""
    commit_now, read_now = threading.Event(), threading.Event()
    # 1st: the first batch; 2nd: the migrations (connection lost, committed when the test says);
    # 3rd: the ledger read that decides whether they committed, held until a row is deleted by hand.
    cloudflare_env.inject("d1.query", Fault.none(), Fault.drop_then_commit(until=commit_now), Fault.delay(until=read_now))

    def edit_the_ledger_meanwhile() -> None:
        try:
            while cloudflare_env.requests["d1.query"] < 3:
                time.sleep(0.01)
            commit_now.set()
            while _recorded(remote_database) < len(HISTORY):
                time.sleep(0.01)
            connection = sqlite3.connect(remote_database)
            connection.execute("DELETE FROM hyphae_migrations WHERE name = '0002_projects.sql'")
            connection.commit()
            connection.close()
        finally:
            commit_now.set()
            read_now.set()

    other = threading.Thread(target=edit_the_ledger_meanwhile)
    other.start()
    try:
        with pytest.raises(LedgerMismatch) as caught:
            run_migrate("dev", history)
    finally:
        other.join()
    assert str(caught.value).endswith(": 2 of 3 migrations of one batch are recorded; a batch is atomic, so the ledger "
                                      "was edited by hand; compare `invoke status --env dev` with the database's tables")


def _recorded(database) -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE name = 'hyphae_migrations'").fetchone()[0] and \
            connection.execute("SELECT count(*) FROM hyphae_migrations").fetchone()[0]
    finally:
        connection.close()


def test_a_batch_lost_on_every_try_and_never_recorded_fails_naming_why(cloudflare_env, dev_target, monkeypatch, history):
    """Guards against the last lost answer's reason going missing from the error that ends the tries."""
    run_migrate("dev", history, MigrateOptions(to_version=1))  # the ledger tables, for the checks between tries
    monkeypatch.setattr(sending, "_back_off", lambda attempt: None)
    # each try of the batch gets a 500 (nothing runs), each check of the ledger an answer
    cloudflare_env.inject("d1.query", *[Fault.status_code(500), Fault.none()] * sending.RESEND_ATTEMPTS)
    with pytest.raises(RemoteApiError) as caught:
        RunSender(dev_target, "run1", "dev", print).send_recorded([BatchStatement("SELECT 1")], ["0002_projects.sql"])
    assert str(caught.value).startswith(f"{dev_target.description}: no answer after 4 attempts (HTTP 500: ")


def test_a_resend_refused_for_its_own_reason_is_not_taken_for_committed(cloudflare_env, remote_database, tmp_path):
    """Guards against any refusal of a resent batch being read as "the first copy committed": a
    migration that fails after a lost answer would be reported applied."""
    history = write_history(tmp_path / "migrations", {"0001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",
                                                      "0002_b.sql": "INSERT INTO a VALUES (2);\nINSERT INTO a VALUES (1);\n"})
    run_migrate("dev", history, MigrateOptions(to_version=1))
    connection = sqlite3.connect(remote_database)
    connection.execute("INSERT INTO a VALUES (1)")  # the product's row, which lint cannot see
    connection.commit()
    connection.close()
    cloudflare_env.inject("d1.query", Fault.none(), Fault.status_code(500))  # the first try of the batch never runs
    with pytest.raises(MigrationFailed, match="statement 2 of 0002_b.sql failed in dev: UNIQUE constraint failed"):
        run_migrate("dev", history)
    assert read_ledger_rows(remote_database)[0] == ["0001_a.sql"]
