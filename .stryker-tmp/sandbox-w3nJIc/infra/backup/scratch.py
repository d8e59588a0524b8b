"""A backup loaded into a scratch SQLite, and verified against its manifest.

Loading reads the gzip file line by line and runs each statement under D1's rules (the
authorizer and limits of `infra.d1.rules`), in one transaction, as D1's import runs a file: a
statement D1 would refuse is refused here. Only the statement-length limit is raised: D1's own
export writes a row over 100,000 bytes as one statement that D1 then refuses to import
(workers-sdk #4510, #6146); hyphae rewrites such rows when it builds the import (importfile.py),
so the scratch copy must take them as exported. Virtual tables come back through `virtual.py`.

Verifying compares the scratch database with the manifest:
- rows: `count(*)` of every table against the rows the file holds (counted while reading);
- history: the backup's own ledger names the migrations applied; each must exist unchanged in
  the migrations folder (HIS002/HIS003 otherwise);
- schema: drift's structural comparison (`infra.drift`) of the scratch schema against the
  engine's replay of exactly that history.
"""

from __future__ import annotations

import gzip
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from infra.backup.manifest import VirtualTable
from infra.backup.sqltext import inserted_table, iter_statements, quote_name, statement_kind
from infra.backup.virtual import VirtualTableRestorer
from infra.d1.rules import MAX_VALUE_BYTES, d1_transaction, open_d1_database
from infra.errors import BackupCorrupted, BackupUnverified
from infra.history.files import MigrationFile
from infra.ledger.read import LedgerState
from infra.ledger.verify import verify_ledger

# Large enough for any row D1 can hold (2 MB values, written as hex or with doubled quotes).
SCRATCH_STATEMENT_BYTES = 4 * MAX_VALUE_BYTES + 100_000
SHOWN_DIFFERENCES = 3


@dataclass
class LoadedBackup:
    path: Path
    statements: int = 0
    file_rows: dict[str, int] = field(default_factory=dict)  # rows per table, counted in the file


def read_sql_lines(path: Path) -> Iterator[str]:
    """The SQL text of a `.sql.gz` backup, line by line (streamed). Raises BackupCorrupted if unreadable."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as stream:
            yield from stream
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        reason = "ends early" if isinstance(error, EOFError) else f"is not readable ({error})"
        raise BackupCorrupted(f"{path}: the compressed file {reason}: it is truncated or corrupted; "
                              "nothing was restored") from None


def load_backup(sql_path: Path, scratch: Path, virtual_tables: list[VirtualTable]) -> LoadedBackup:
    """Run the backup's statements into a new SQLite file `scratch` (one transaction).

    Raises BackupCorrupted (unreadable, truncated, or a statement refused); `scratch` is then removed.
    """
    loaded = LoadedBackup(scratch)
    connection = open_d1_database(scratch)
    connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, SCRATCH_STATEMENT_BYTES)
    restorer = VirtualTableRestorer(virtual_tables)
    try:
        with d1_transaction(connection):
            for number, statement in enumerate(iter_statements(read_sql_lines(sql_path), str(sql_path)), start=1):
                loaded.statements = number
                kind = statement_kind(statement)
                _count(loaded, statement, kind)
                for sql in restorer.rewrite(statement, kind):
                    _run(connection, sql, sql_path, number)
            for sql in restorer.finish():
                _run(connection, sql, sql_path, loaded.statements)
    except BaseException:
        connection.close()
        scratch.unlink(missing_ok=True)
        raise
    connection.close()
    return loaded


def _count(loaded: LoadedBackup, statement: str, kind: str) -> None:
    if kind == "insert":
        table = inserted_table(statement)
        loaded.file_rows[table] = loaded.file_rows.get(table, 0) + 1
    elif kind == "table":
        name = _created_table(statement)
        if name is not None:
            loaded.file_rows.setdefault(name, 0)


def _created_table(statement: str) -> str | None:
    probe = sqlite3.connect(":memory:")
    try:  # SQLite itself names the table the statement creates
        probe.execute(statement)
        row = probe.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid DESC LIMIT 1").fetchone()
        return row[0] if row else None
    except sqlite3.Error:
        return None
    finally:
        probe.close()


def _run(connection: sqlite3.Connection, sql: str, source: Path, number: int) -> None:
    try:
        connection.execute(sql)
    except (sqlite3.Error, OverflowError) as error:
        preview = " ".join(sql.split())[:80]
        raise BackupCorrupted(f"{source}: statement {number} ({preview}...) was refused: {error}; the backup cannot "
                              "be loaded; nothing was restored") from None


def count_rows(connection: sqlite3.Connection, tables) -> dict[str, int]:
    return {table: connection.execute(f"SELECT count(*) FROM {quote_name(table)}").fetchone()[0] for table in tables}


def read_history(path: Path) -> LedgerState:
    """The ledger the scratch database holds (read-only)."""
    from infra.ledger.read import read_ledger
    from infra.targets.local import LocalTarget

    target = LocalTarget(path, "backup", read_only=True)
    try:
        return read_ledger(target)
    finally:
        target.close()


@dataclass(frozen=True)
class Verification:
    tables: int
    rows: int
    objects: int
    schema_version: int

    def describe(self) -> str:
        return (f"schema matches its history (version {self.schema_version}, {self.objects} objects), "
                f"{self.rows:,} rows in {self.tables} tables match")


def verify_loaded(loaded: LoadedBackup, expected_rows: dict[str, int], history: LedgerState,
                  files: list[MigrationFile], directory: Path, label: str) -> Verification:
    """Rows, history and schema of the scratch database against what the manifest says.

    Raises BackupUnverified naming the first differences (`label` names the backup).
    """
    from infra.drift.compare import compare_schemas
    from infra.drift.expected import replay_expected
    from infra.drift.schema import read_connection_schema

    _verify_file_rows(loaded, expected_rows, label)
    connection = sqlite3.connect(f"file:{loaded.path}?mode=ro", uri=True)
    try:
        _verify_loaded_rows(expected_rows, count_rows(connection, expected_rows), label)
        _verify_history(history, files, directory, label)
        applied = {entry.name for entry in history.applied}
        expected = replay_expected([file for file in files if file.name in applied], applied).applied
        live = read_connection_schema(connection)
    finally:
        connection.close()
    differences = compare_schemas(expected, live)
    if differences:
        shown = "; ".join(f"{d.change} {d.object}: {d.detail}" for d in differences[:SHOWN_DIFFERENCES])
        more = f" (and {len(differences) - SHOWN_DIFFERENCES} more)" if len(differences) > SHOWN_DIFFERENCES else ""
        raise BackupUnverified(f"{label}: its schema differs from what its migration history builds: {shown}{more}; "
                               "`invoke drift` shows the same difference in the database it came from")
    version = max((entry.version or 0 for entry in history.applied), default=0)
    return Verification(len(expected_rows), sum(expected_rows.values()), live.object_count(), version)


def _verify_file_rows(loaded: LoadedBackup, expected: dict[str, int], label: str) -> None:
    if loaded.file_rows != expected:
        differing = sorted(set(loaded.file_rows) ^ set(expected)) or \
            [table for table in sorted(expected) if loaded.file_rows.get(table) != expected[table]]
        shown = ", ".join(f"{table}: {loaded.file_rows.get(table, 0):,} in the file, {expected.get(table, 0):,} in the "
                          "manifest" for table in differing[:SHOWN_DIFFERENCES])
        raise BackupUnverified(f"{label}: the file holds other rows than its manifest says ({shown}); "
                               "nothing was restored")


def _verify_loaded_rows(expected: dict[str, int], counted: dict[str, int], label: str) -> None:
    wrong = {table: (counted[table], rows) for table, rows in expected.items() if counted[table] != rows}
    if wrong:
        shown = ", ".join(f"{table} has {got:,} rows, the manifest {want:,}" for table, (got, want) in list(wrong.items())[:3])
        raise BackupUnverified(f"{label}: after loading, {shown}; nothing was restored")


def _verify_history(history: LedgerState, files: list[MigrationFile], directory: Path, label: str) -> None:
    findings = [finding for finding in verify_ledger(files, history, "the backup", directory)
                if finding.code in ("HIS002", "HIS003")]
    if findings:
        first = findings[0]
        raise BackupUnverified(f"{label}: cannot verify its schema: {first.code} {first.message} ({first.hint})")
