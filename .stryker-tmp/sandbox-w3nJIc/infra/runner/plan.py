"""Which migrations a run would apply, statement by statement. Read-only and pure."""

from __future__ import annotations

from dataclasses import dataclass

from infra.d1.rules import STATEMENT_MAX_BYTES
from infra.errors import MigrationFailed, UsageError
from infra.history.files import MigrationFile
from infra.ledger.read import LedgerState
from infra.lint.splitter import Statement, split_statements


@dataclass(frozen=True)
class PendingMigration:
    file: MigrationFile
    statements: tuple[Statement, ...]

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def size(self) -> int:
        return sum(len(statement.sql.encode()) for statement in self.statements)


def parse_target_version(value: str | None) -> int | None:
    """`--to NNNN` as a number; raises UsageError for anything else."""
    if value in (None, ""):
        return None
    text = str(value)
    if not text.isdigit() or len(text) > 4:
        raise UsageError(f"--to {value!r}: expected a migration number such as 0007")
    return int(text)


def read_held_back(files: list[MigrationFile], state: LedgerState, to_version: int | None) -> list[str]:
    """The names of unapplied migrations after `to_version` (`--to` leaves them for a later run)."""
    if to_version is None:
        return []
    return [migration.name for migration in files if migration.name not in state.applied_names
            and migration.version is not None and migration.version > to_version]


def plan_pending(files: list[MigrationFile], state: LedgerState, to_version: int | None = None) -> list[PendingMigration]:
    """The files not yet applied, in order, up to `to_version`; each split into statements.

    Raises MigrationFailed if a statement is over D1's 100,000-byte limit (it would be refused).
    """
    applied = state.applied_names
    pending = []
    for migration in files:
        if migration.name in applied or migration.version is None:
            continue
        if to_version is not None and migration.version > to_version:
            break
        pending.append(PendingMigration(migration, tuple(split_statements(migration.text, str(migration.path)))))
    for migration in pending:
        for statement in migration.statements:
            if len(statement.sql.encode()) > STATEMENT_MAX_BYTES:
                raise MigrationFailed(f"{migration.file.path}:{statement.line}: statement is "
                                      f"{len(statement.sql.encode()):,} bytes, over D1's {STATEMENT_MAX_BYTES:,}-byte limit; "
                                      "split it (nothing was applied)")
    return pending
