"""Putting a database back to a restore point a migrate run took (`invoke restore`).

A run takes its restore point while it holds the lease, so the restored database holds that run's
lease row too. The run is long finished; its lease would keep everyone out until it expires. So
after restoring, the lease captured in the copy is deleted (by its run id: a lease taken since
stays). A lease held by a live run other than the one that recorded the restore point means a
migration is in progress: restoring under it is refused (the recorder's own lease, left by a
killed run, is not).
"""

from __future__ import annotations

from infra.errors import DatabaseDamaged, LockHeld
from infra.ledger.lock import is_stale_local_holder
from infra.ledger.read import read_ledger
from infra.targets import BatchStatement, Target


def apply_restore(target: Target, reference: str) -> str:
    """Restore `target` to `reference` and free the lease captured with it; returns what was done.

    A damaged local file is replaced whole: it holds no readable lease to respect."""
    try:
        recorded_by = _run_that_recorded(target, reference)
    except DatabaseDamaged:
        message = target.restore(reference)
        _free_captured_lease(target)
        return message
    holder = read_ledger(target).lock
    if holder is not None and holder.run_id != recorded_by and holder.expires_in > 0 \
            and not is_stale_local_holder(holder):
        raise LockHeld(f"a migration is running on {target.environment} ({holder.describe()}); restore after it "
                       "ends, or break its lock with `invoke migrate --break-lock` if it is gone")
    message = target.restore(reference)
    _free_captured_lease(target)
    return message


def _free_captured_lease(target: Target) -> None:
    """Delete the lease the restored copy holds: the one its restore point was taken under (a copy
    of the database replaced, when the same point is restored twice)."""
    if not _has_tables(target, {"hyphae_lock"}):
        return
    rows = target.query("SELECT run_id FROM hyphae_lock WHERE id = 1")
    if rows:
        target.batch([BatchStatement("DELETE FROM hyphae_lock WHERE id = 1 AND run_id = ?", (rows[0]["run_id"],))])


def _has_tables(target: Target, names: set[str]) -> bool:
    rows = target.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    return names <= {row["name"] for row in rows}


def _run_that_recorded(target: Target, reference: str) -> str | None:
    if not _has_tables(target, {"hyphae_restore_points", "hyphae_lock"}):
        return None
    rows = target.query("SELECT run_id FROM hyphae_restore_points WHERE reference = ? ORDER BY id DESC LIMIT 1",
                        [reference])
    return rows[0]["run_id"] if rows else None
