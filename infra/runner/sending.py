"""Sending one run's batches: what may be resent after a lost answer, and how to find a failing
statement in a batch D1 refused.

- A lost response (timeout, dropped connection, 5xx) is never resent blindly when the batch writes
  migrations: the ledger says whether that batch committed, because its rows carry the run's id.
- Reads and lease statements are safe to resend as they are.
- D1's batch error does not always say which statement failed; probe batches that end in a
  statement that always fails (so they never commit) bisect to it, or show that every statement
  ran and the commit was refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from infra.errors import LedgerMismatch, RemoteApiError
from infra.targets import BatchFailed, BatchStatement, ResponseLost, Target

RESEND_ATTEMPTS = 4


class RunSender:
    """Sends the batches of one run (`run_id`) to `target`; `note` records what the report should say."""

    def __init__(self, target: Target, run_id: str, environment: str, note: Callable[[str], None]):
        self.target, self.run_id, self.environment, self.note = target, run_id, environment, note

    def send(self, statements: list[BatchStatement]) -> list[list[dict]]:
        """One batch that is safe to resend (reads, the lease); a lost response is retried."""
        for attempt in range(RESEND_ATTEMPTS):
            try:
                return self.target.batch(statements)
            except ResponseLost as lost:
                last = lost
                _back_off(attempt)
        raise self._no_answer(last)

    def send_recorded(self, statements: list[BatchStatement], names: list[str]) -> None:
        """Send a batch that writes ledger rows for `names`; after a lost response, ask the ledger."""
        for attempt in range(RESEND_ATTEMPTS):
            try:
                self.target.batch(statements)
                return
            except BatchFailed:
                # A resent batch that fails may have lost the race with its first copy, still running
                # on D1 when the ledger was read and committed since: then it is applied, once.
                if attempt > 0 and self._committed(names):
                    self.note("a lost batch committed after all; its resend was refused and rolled back")
                    return
                raise
            except ResponseLost as lost:
                last = lost
                if self._committed(names):
                    self.note(f"a response was lost ({lost}); the ledger shows the batch committed")
                    return
                _back_off(attempt)
        raise self._no_answer(last)

    def locate_failure(self, statements: list[BatchStatement]) -> int | None:
        """The index of the statement that makes `statements` fail, found with probe batches that
        always roll back (their last statement reads a table that never exists); `len(statements)`
        when every statement runs and the commit is refused (a deferred foreign key)."""
        missing_table = f"hyphae_probe_{self.run_id}"
        sentinel = BatchStatement(f"SELECT * FROM {missing_table}")
        low, high = 0, len(statements)
        while low < high:
            middle = (low + high) // 2
            try:
                self.send(statements[: middle + 1] + [sentinel])
                return None  # the probe committed?! impossible: the sentinel table never exists
            except BatchFailed as probe:
                if missing_table in probe.message:
                    low = middle + 1
                else:
                    high = middle
        return low

    def _committed(self, names: list[str]) -> bool:
        # One bound parameter only: D1 allows 100 per statement and a batch may hold more migrations.
        rows = self.target.query("SELECT name FROM hyphae_migrations WHERE run_id = ?", [self.run_id])
        recorded = {row["name"] for row in rows} & set(names)
        if recorded and len(recorded) != len(names):
            raise LedgerMismatch(f"{self.target.description}: {len(recorded)} of {len(names)} migrations of one batch "
                                 "are recorded; a batch is atomic, so the ledger was edited by hand; compare "
                                 f"`invoke status --env {self.environment}` with the database's tables")
        return len(recorded) == len(names)

    def _no_answer(self, last: ResponseLost) -> RemoteApiError:
        return RemoteApiError(f"{self.target.description}: no answer after {RESEND_ATTEMPTS} attempts ({last}); "
                              "`invoke status` shows what was applied")


def _back_off(attempt: int) -> None:
    time.sleep(0.2 * 2**attempt)
