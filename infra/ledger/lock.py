"""The migration lock: a lease row in `hyphae_lock` that keeps two runs from migrating at once.

The lease names its holder (user@host and pid, or the CI run) and expires `LEASE_SECONDS` after
it was last renewed, by the database's own clock (`unixepoch()`: one clock, whoever the runs are).
- acquire: one upsert that takes the row if it is free, expired, or already ours, and never for
  a run that has released it; then a read says who holds it. Both run inside the first batch.
- renew + guard: every later batch first extends the lease and writes `hyphae_lock_guard`, whose
  CHECK fails unless this run still holds the lease, so a run that lost its lock can't commit.
- release: deleting our row and recording the run as released (`hyphae_lock_released`), in the
  last batch of a successful run (or on its own after a failure).
- break (`--break-lock`, after asking): the same for the holder that was shown.
Taking the lease is idempotent per run: a first batch whose answer was lost is sent again, and
D1 may still run the lost copy later, even after the run released the lease (a dropped
connection, or a request that outlived the client's 45 s timeout). A released run id can never
take the lease again, so that late copy takes nothing and no other run is kept out.
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
# How long a released run id is remembered: far longer than any copy of a request can arrive late
# (D1 stops a query at 30 s), short enough that the table stays a handful of rows.
RELEASED_KEPT_SECONDS = 86_400


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
    """Take the lease if free, expired or ours, unless this run released it already; the second
    statement reads who holds it now."""
    take = BatchStatement(
        """INSERT INTO hyphae_lock (id, holder, run_id, host, pid, acquired_at, expires_at)
SELECT 1, ?, ?, ?, CAST(? AS INTEGER), unixepoch(), unixepoch() + CAST(? AS INTEGER)
WHERE NOT EXISTS (SELECT 1 FROM hyphae_lock_released WHERE run_id = ?)
ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, run_id = excluded.run_id, host = excluded.host,
  pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE hyphae_lock.expires_at < unixepoch() OR hyphae_lock.run_id = excluded.run_id""",
        (run.holder, run.run_id, run.host, run.pid, LEASE_SECONDS, run.run_id))
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


def release_statements(run: RunIdentity) -> list[BatchStatement]:
    """Give up the lease and record the run as released, so no late copy of its first batch can
    take the lease again. Safe to resend."""
    return _released(run.run_id)


def break_statements(holder: LockHolder) -> list[BatchStatement]:
    """Delete exactly the lease that was shown (not one taken since); that run can't take it back."""
    return _released(holder.run_id)


def _released(run_id: str) -> list[BatchStatement]:
    return [
        BatchStatement("INSERT OR IGNORE INTO hyphae_lock_released (run_id, released_at) VALUES (?, unixepoch())",
                       (run_id,)),
        BatchStatement("DELETE FROM hyphae_lock_released WHERE released_at < unixepoch() - CAST(? AS INTEGER)",
                       (RELEASED_KEPT_SECONDS,)),
        BatchStatement("DELETE FROM hyphae_lock WHERE id = 1 AND run_id = ?", (run_id,)),
    ]


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
        # Signal 0 only asks whether the process exists. `pragma: no mutate`: mutation testing would
        # turn it into a real signal sent to a live process (mutmut's own, in the tests).
        os.kill(holder.pid, 0)  # pragma: no mutate
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
