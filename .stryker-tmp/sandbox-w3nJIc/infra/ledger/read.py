"""Reading a database's ledger: applied migrations with their checksums, the lock, the last restore point.

Read-only: a database hyphae never touched (no tables) reads as an empty ledger, and one only
wrangler migrated reads with `sha256 = None` on every row (adopt it with `migrate --adopt`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.d1.rules import WRANGLER_LEDGER
from infra.errors import LedgerMismatch
from infra.ledger.lock import LockHolder, parse_holder
from infra.ledger.schema import (
    APPLIED_WITH_CHECKSUMS_SQL,
    APPLIED_WITHOUT_CHECKSUMS_SQL,
    EXISTING_TABLES_SQL,
    LAST_RESTORE_POINT_SQL,
    LOCK_SQL,
    AppliedMigration,
    parse_applied,
)
from infra.targets import BatchFailed, BatchStatement, Target


@dataclass(frozen=True)
class LedgerState:
    applied: list[AppliedMigration] = field(default_factory=list)
    lock: LockHolder | None = None
    last_restore_point: dict | None = None
    has_checksum_table: bool = False

    @property
    def applied_names(self) -> set[str]:
        return {entry.name for entry in self.applied}

    @property
    def unadopted(self) -> list[AppliedMigration]:
        """Rows wrangler wrote that hyphae has not verified and checksummed yet."""
        return [entry for entry in self.applied if entry.sha256 is None]


def read_ledger(target: Target) -> LedgerState:
    """The ledger as it is now (read-only; at most two requests). Raises LedgerMismatch if unreadable."""
    try:
        return _read(target)
    except BatchFailed as failure:
        raise LedgerMismatch(f"could not read the ledger of {target.description}: {failure.message}; a table named "
                             "d1_migrations or hyphae_* that is not hyphae's must be renamed") from None


def _read(target: Target) -> LedgerState:
    tables = {row["name"] for row in target.query(EXISTING_TABLES_SQL)}
    if WRANGLER_LEDGER not in tables:
        return LedgerState()
    checksums = "hyphae_migrations" in tables
    reads = {"applied": APPLIED_WITH_CHECKSUMS_SQL if checksums else APPLIED_WITHOUT_CHECKSUMS_SQL}
    if "hyphae_lock" in tables:
        reads["lock"] = LOCK_SQL
    if "hyphae_restore_points" in tables:
        reads["restore"] = LAST_RESTORE_POINT_SQL
    # SELECTs only: sent as one batch to make it one request, not to write anything.
    results = dict(zip(reads, target.batch([BatchStatement(sql) for sql in reads.values()])))
    return parse_state(results["applied"], results.get("lock", []), results.get("restore", []), checksums)


def parse_state(applied_rows: list[dict], lock_rows: list[dict], restore_rows: list[dict],
                has_checksum_table: bool = True) -> LedgerState:
    return LedgerState(parse_applied(applied_rows), parse_holder(lock_rows),
                       restore_rows[0] if restore_rows else None, has_checksum_table)
