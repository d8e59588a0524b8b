"""The migration lock: a lease row in `hyphae_lock` that keeps two runs from migrating at once.

The lease names its holder (user@host and pid, or the CI run) and expires `LEASE_SECONDS` after
it was last renewed, by the database's own clock (`unixepoch()`: one clock, whoever the runs are).
- acquire: one upsert that takes the row if it is free, expired, or already ours; then a read
  says who holds it. Both run inside the first batch of a run.
- renew + guard: every later batch first extends the lease and writes `hyphae_lock_guard`, whose
  CHECK fails unless this run still holds the lease, so a run that lost its lock can't commit.
- release: deleting our row, in the last batch of a successful run (or on its own after a failure).
- break (`--break-lock`, after asking): deleting the row of the holder that was shown.
A lease held by a process of this machine that no longer runs (a killed run) is stale: the next
run on the same machine takes it over without waiting for it to expire.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from dataclasses import dataclass

from infra.targets import BatchStatement

# Long enough for one slow D1 call (30 s) and its retries; renewed before every batch.
LEASE_SECONDS = 300


@dataclass(frozen=True)
class RunIdentity:
    run_id: str
    holder: str
    host: str
    pid: int


@dataclass(frozen=True)
class LockHolder:
    holder: str
    run_id: str
    host: str
    pid: int
    expires_in: int

    def describe(self) -> str:
        return f"{self.holder} (run {self.run_id}, lease ends in {max(self.expires_in, 0)} s)"


def current_run() -> RunIdentity:
    host = socket.gethostname()
    pid = os.getpid()
    ci_run = os.environ.get("GITHUB_RUN_ID")
    if ci_run:
        holder = f"GitHub Actions {os.environ.get('GITHUB_REPOSITORY', '')} run {ci_run}".replace("  ", " ")
        holder += f" attempt {os.environ.get('GITHUB_RUN_ATTEMPT', '1')} job {os.environ.get('GITHUB_JOB', '?')}"
    else:
        holder = f"{_user()}@{host} pid {pid}"
    return RunIdentity(uuid.uuid4().hex[:16], holder, host, pid)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def acquire_statements(run: RunIdentity) -> list[BatchStatement]:
    """Take the lease if free, expired or ours; the second statement reads who holds it now."""
    take = BatchStatement(
        """INSERT INTO hyphae_lock (id, holder, run_id, host, pid, acquired_at, expires_at)
VALUES (1, ?, ?, ?, CAST(? AS INTEGER), unixepoch(), unixepoch() + CAST(? AS INTEGER))
ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, run_id = excluded.run_id, host = excluded.host,
  pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE hyphae_lock.expires_at < unixepoch() OR hyphae_lock.run_id = excluded.run_id""",
        (run.holder, run.run_id, run.host, run.pid, LEASE_SECONDS))
    read = BatchStatement("SELECT holder, run_id, host, pid, expires_at - unixepoch() AS expires_in FROM hyphae_lock WHERE id = 1")
    return [take, read]


def guard_statements(run: RunIdentity) -> list[BatchStatement]:
    """Renew the lease, then abort the batch (CHECK lock_held_by_this_run) unless we hold it."""
    return [
        BatchStatement("UPDATE hyphae_lock SET expires_at = unixepoch() + CAST(? AS INTEGER) WHERE id = 1 AND run_id = ?",
                       (LEASE_SECONDS, run.run_id)),
        BatchStatement("INSERT OR REPLACE INTO hyphae_lock_guard (id, held) "
                       "SELECT 1, count(*) FROM hyphae_lock WHERE id = 1 AND run_id = ?", (run.run_id,)),
    ]


GUARD_FAILURE = "lock_held_by_this_run"


def release_statement(run: RunIdentity) -> BatchStatement:
    return BatchStatement("DELETE FROM hyphae_lock WHERE id = 1 AND run_id = ?", (run.run_id,))


def break_statement(holder: LockHolder) -> BatchStatement:
    """Delete exactly the lease that was shown (not one taken since)."""
    return BatchStatement("DELETE FROM hyphae_lock WHERE id = 1 AND run_id = ?", (holder.run_id,))


def parse_holder(rows: list[dict]) -> LockHolder | None:
    if not rows:
        return None
    row = rows[0]
    return LockHolder(row["holder"], row["run_id"], row["host"], int(row["pid"]), int(row["expires_in"]))


def is_stale_local_holder(holder: LockHolder) -> bool:
    """True when the lease belongs to a process of this machine that is no longer running."""
    if holder.host != socket.gethostname() or holder.pid == os.getpid():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
