"""Putting a database back to a restore point a migrate run took (`invoke restore`).

A run takes its restore point while it holds the lease, so the restored database holds that run's
lease row too. The run is long finished; its lease would keep everyone out until it expires. So
after restoring, the lease of the run that recorded the restore point is deleted (restoring the
same point twice, the database replaced does not record it: then the lease the copy holds). A
lease held by any other live run means a migration is in progress: restoring under it is refused.
"""

from __future__ import annotations

from infra.errors import DatabaseDamaged, LockHeld
from infra.ledger.lock import is_stale_local_holder
from infra.ledger.read import read_ledger
from infra.targets import BatchStatement, Target


def apply_restore(target: Target, reference: str) -> str:
    """Restore `target` to `reference` and free the lease captured with it; returns what was done.

    A damaged local file is replaced whole: it holds no readable lease to respect, and the lease
    in the copy can only be the one captured with the restore point."""
    try:
        recorded_by = _run_that_recorded(target, reference)
    except DatabaseDamaged:
        message = target.restore(reference)
        if _has_tables(target, {"hyphae_lock"}):
            target.batch([BatchStatement("DELETE FROM hyphae_lock")])
        return message
    holder = read_ledger(target).lock
    if holder is not None and holder.run_id != recorded_by and holder.expires_in > 0 \
            and not is_stale_local_holder(holder):
        raise LockHeld(f"a migration is running on {target.environment} ({holder.describe()}); restore after it "
                       "ends, or break its lock with `invoke migrate --break-lock` if it is gone")
    message = target.restore(reference)
    # Restoring the same point again: the database replaced is itself that copy, which predates its
    # own record; the lease in the copy can only be the one captured with the restore point.
    captured = recorded_by if recorded_by is not None else _lease_run(target)
    if captured is not None:
        target.batch([BatchStatement("DELETE FROM hyphae_lock WHERE run_id = ?", (captured,))])
    return message


def _has_tables(target: Target, names: set[str]) -> bool:
    rows = target.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    return names <= {row["name"] for row in rows}


def _lease_run(target: Target) -> str | None:
    if not _has_tables(target, {"hyphae_lock"}):
        return None
    rows = target.query("SELECT run_id FROM hyphae_lock WHERE id = 1")
    return rows[0]["run_id"] if rows else None


def _run_that_recorded(target: Target, reference: str) -> str | None:
    if not _has_tables(target, {"hyphae_restore_points", "hyphae_lock"}):
        return None
    rows = target.query("SELECT run_id FROM hyphae_restore_points WHERE reference = ? ORDER BY id DESC LIMIT 1",
                        [reference])
    return rows[0]["run_id"] if rows else None
