"""The lease: atomic acquire, expiry, the guard that aborts a batch after the lease is lost, stale holders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from infra.ledger import lock
from infra.ledger.schema import create_tables_statements
from infra.targets import BatchFailed, BatchStatement
from infra.targets.local import LocalTarget


@pytest.fixture
def target(tmp_path):
    local = LocalTarget(tmp_path / "db.sqlite")
    local.batch(create_tables_statements())
    yield local
    local.close()


def _run(name: str, pid: int = 4242, host: str = "elsewhere") -> lock.RunIdentity:
    return lock.RunIdentity(f"run-{name}", f"{name}@{host} pid {pid}", host, pid)


def _acquire(target, run) -> lock.LockHolder:
    return lock.parse_holder(target.batch(lock.acquire_statements(run))[-1])


def test_the_first_run_takes_the_lease_and_the_second_sees_the_holder(target):
    first, second = _run("first"), _run("second")
    assert _acquire(target, first).run_id == "run-first"
    holder = _acquire(target, second)
    assert holder.run_id == "run-first" and holder.holder == "first@elsewhere pid 4242"
    assert 0 < holder.expires_in <= lock.LEASE_SECONDS


def test_acquiring_again_renews_the_runs_own_lease(target):
    first = _run("first")
    _acquire(target, first)
    assert _acquire(target, first).run_id == "run-first"


def test_an_expired_lease_goes_to_the_next_run(target):
    _acquire(target, _run("first"))
    target.batch([BatchStatement("UPDATE hyphae_lock SET expires_at = unixepoch() - 1")])
    assert _acquire(target, _run("second")).run_id == "run-second"


def test_the_guard_aborts_a_batch_of_a_run_that_lost_its_lease(target):
    first, second = _run("first"), _run("second")
    _acquire(target, first)
    target.batch(lock.guard_statements(first) + [BatchStatement("CREATE TABLE allowed (id INTEGER)")])
    target.batch(lock.break_statements(_acquire(target, second)))
    _acquire(target, second)
    with pytest.raises(BatchFailed, match=lock.GUARD_FAILURE):
        target.batch(lock.guard_statements(first) + [BatchStatement("CREATE TABLE refused (id INTEGER)")])
    assert target.query("SELECT name FROM sqlite_master WHERE name = 'refused'") == []


def test_release_only_deletes_the_runs_own_lease(target):
    first, second = _run("first"), _run("second")
    _acquire(target, first)
    target.batch(lock.release_statements(second))
    assert target.query("SELECT run_id FROM hyphae_lock") == [{"run_id": "run-first"}]
    target.batch(lock.release_statements(first))
    assert target.query("SELECT run_id FROM hyphae_lock") == []


def test_a_run_that_released_the_lease_can_never_take_it_again(target):
    # A late copy of the run's first batch (lost, re-sent, then run by D1 after all) must take nothing.
    first = _run("first")
    _acquire(target, first)
    target.batch(lock.release_statements(first))
    assert _acquire(target, first) is None
    assert _acquire(target, _run("second")).run_id == "run-second"


def test_a_run_whose_lease_was_broken_cannot_take_it_back(target):
    first, second = _run("first"), _run("second")
    target.batch(lock.break_statements(_acquire(target, first)))
    _acquire(target, second)
    target.batch(lock.release_statements(second))
    assert _acquire(target, first) is None


def test_released_runs_are_forgotten_after_a_day(target):
    first, second = _run("first"), _run("second")
    _acquire(target, first)
    target.batch(lock.release_statements(first))
    target.batch([BatchStatement("UPDATE hyphae_lock_released SET released_at = released_at - ? - 1",
                                 (lock.RELEASED_KEPT_SECONDS,))])
    _acquire(target, second)
    target.batch(lock.release_statements(second))
    assert target.query("SELECT run_id FROM hyphae_lock_released") == [{"run_id": "run-second"}]


def test_a_lease_of_a_dead_local_process_is_stale_and_a_live_or_remote_one_is_not():
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    host = socket.gethostname()
    assert lock.is_stale_local_holder(lock.LockHolder("x", "r", host, finished.pid, 100))
    assert not lock.is_stale_local_holder(lock.LockHolder("x", "r", host, os.getppid(), 100))
    assert not lock.is_stale_local_holder(lock.LockHolder("x", "r", "another-machine", finished.pid, 100))


def test_the_holder_names_the_ci_run(monkeypatch):
    monkeypatch.setenv("GITHUB_RUN_ID", "123456")
    monkeypatch.setenv("GITHUB_REPOSITORY", "myco/team-sync")
    monkeypatch.setenv("GITHUB_JOB", "migrate")
    assert lock.current_run().holder == "GitHub Actions myco/team-sync run 123456 attempt 1 job migrate"
    monkeypatch.delenv("GITHUB_RUN_ID")
    assert lock.current_run().holder.endswith(f"@{socket.gethostname()} pid {os.getpid()}")


def test_the_holder_of_a_ci_run_reads_well_without_a_repository_and_names_the_attempt(monkeypatch):
    """Guards against a holder line with a double space, or without the attempt and job a reader
    needs to find the CI run that holds the lease."""
    for name in ("GITHUB_REPOSITORY", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    assert lock.current_run().holder == "GitHub Actions run 77 attempt 1 job ?"
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "3")
    monkeypatch.setenv("GITHUB_JOB", "deploy")
    run = lock.current_run()
    assert run.holder == "GitHub Actions run 77 attempt 3 job deploy"
    assert len(run.run_id) == 16 and int(run.run_id, 16) >= 0 and run.pid == os.getpid()


def test_a_user_the_system_cannot_name_is_unknown(monkeypatch):
    import getpass

    def no_user():
        raise KeyError("uid 4242 has no passwd entry")  # a container's user without one

    monkeypatch.delenv("GITHUB_RUN_ID", raising=False)
    monkeypatch.setattr(getpass, "getuser", no_user)
    assert lock.current_run().holder == f"unknown@{socket.gethostname()} pid {os.getpid()}"


def test_a_lease_of_another_users_live_process_is_not_stale(monkeypatch):
    """Guards against a live process this user may not signal (another user's run on this machine)
    being taken for a dead one: its lease would be taken over while it migrates."""
    def not_permitted(pid, signal):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(lock.os, "kill", not_permitted)  # as root, signal 0 is permitted to every process
    assert not lock.is_stale_local_holder(lock.LockHolder("x", "r", socket.gethostname(), os.getpid() + 1, 100))
