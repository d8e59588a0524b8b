"""Whether a migration that drops a table holding data keeps every column of it: the engine runs the
migration once more, on a marked row, and looks where the row went.

A table rebuild (create the new table, copy the rows with INSERT ... SELECT, drop the old table,
rename the new one to the old name) loses nothing when every column of the old table reaches the
new one. That is not read from the statements: before the replay with rows runs a migration that
drops a table which existed before it (by its name then, or after renaming it), the whole file
runs once in a transaction that is rolled back, with a marked row in each such table: every column
holding a value of its own (distinct per column, of the column's type). After the file's last
statement, each column's mark must be in the same-named column of the table that now carries the
original name, and that table must hold as many rows as the original did. SAFE001 on the DROP
TABLE reports what the engine could not prove (rules/safety.py). CHECK constraints are off and
foreign keys deferred during that run: it asks where the rows go; whether a constraint refuses
them is the replay's own finding (SAFE005). Leaves the database as it was.

Names are followed through the file's `ALTER TABLE a RENAME TO b` and `DROP TABLE` statements by
their text; what happened to the data is the engine's answer.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, replace
from typing import Sequence

from infra.d1.rules import runner_privileges
from infra.lint.execution import execute
from infra.lint.seeding import user_tables
from infra.lint.splitter import Statement

_NAME = r"(\"(?:[^\"]|\"\")+\"|`[^`]+`|\[[^\]]+\]|[\w$]+)"
_DROP_TABLE = re.compile(rf"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:main\s*\.\s*)?{_NAME}\s*;?\s*$", re.IGNORECASE)
_RENAME_TABLE = re.compile(rf"^\s*ALTER\s+TABLE\s+(?:main\s*\.\s*)?{_NAME}\s+RENAME\s+TO\s+{_NAME}\s*;?\s*$",
                           re.IGNORECASE)
_MARK_BASE = 880_000_000


@dataclass(frozen=True)
class RebuildOutcome:
    """What became of a dropped table's rows by the end of its migration.

    `table`: the table's name when the migration began. `columns`: its marked columns, empty when
    no marked row could be written (not an ordinary table, or a trigger refused it): then nothing
    is proven. `lost`: the columns whose mark is in neither the same-named column of the table
    carrying `table`'s name at the end nor a new column of it (`renamed` pairs those). `rows`: rows
    of that table at the end (None when no table carries the name), and of the dropped table at
    the start, mark included. `failed_line`: the last statement before the DROP that the engine
    refused on the marked data (a copy that fails), if any.
    """

    table: str
    columns: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    rows: tuple[int | None, int] = (None, 0)
    failed_line: int | None = None
    renamed: tuple[tuple[str, str], ...] = ()  # (column, the new column its mark reached): a rename (SAFE002)

    def what_is_lost(self, written: str = "") -> str | None:
        """None when the engine saw every column and row arrive; else what to add to SAFE001's message
        (`written`: the dropped table's name as the statement writes it)."""
        name = written if written.lower() == self.table else self.table
        at_end = f"the table named {name} at the end of the migration"
        if not self.columns or self.rows[0] is None:
            return ""  # nothing proven, or no table takes its place: a plain DROP TABLE
        if set(self.lost) == set(self.columns):
            why = (f"line {self.failed_line} fails with rows" if self.failed_line
                   else "nothing copies them" if self.rows[0] == 0 else "a marked row was not copied")
            return f"; its rows do not reach {at_end} ({why})"
        if self.lost:
            return f"; column(s) {', '.join(self.lost)} do not reach {at_end} (the rebuild leaves them out)"
        if self.rows[0] < self.rows[1]:
            return f"; {at_end} holds {self.rows[0]} of the {self.rows[1]} rows it held (the copy leaves some out)"
        return None


def trace_rebuilds(connection: sqlite3.Connection, statements: Sequence[Statement],
                   tables_before: frozenset[str]) -> dict[int, RebuildOutcome]:
    """{index of each DROP TABLE statement whose table existed before the file: its outcome}; empty,
    with nothing run, when the file drops no such table. Call it before the file's own transaction
    begins (it runs one and rolls it back)."""
    drops = dropped_tables(statements, tables_before)
    if not drops:
        return {}
    with runner_privileges(connection):
        connection.execute("BEGIN")
    try:
        return _run_marked(connection, statements, drops)
    finally:
        if connection.in_transaction:
            with runner_privileges(connection):
                connection.execute("ROLLBACK")


def dropped_tables(statements: Sequence[Statement], tables_before: frozenset[str]) -> dict[int, str]:
    """{index of each DROP TABLE of a table that existed before the file: that table's name then
    (lower-case)}, following renames made earlier in the file (read-only)."""
    original_of = {name.lower(): name.lower() for name in tables_before}  # name now -> name before the file
    drops = {}
    for statement in statements:
        if (rename := _RENAME_TABLE.match(statement.sql)) and _unquoted(rename[1]) in original_of:
            original_of[_unquoted(rename[2])] = original_of.pop(_unquoted(rename[1]))
        elif (drop := _DROP_TABLE.match(statement.sql)) and _unquoted(drop[1]) in original_of:
            drops[statement.index] = original_of.pop(_unquoted(drop[1]))
    return drops


def _run_marked(connection: sqlite3.Connection, statements: Sequence[Statement],
                drops: dict[int, str]) -> dict[int, RebuildOutcome]:
    with runner_privileges(connection):
        connection.execute("PRAGMA defer_foreign_keys = ON")  # a mark references no parent; rolled back anyway
        checks_ignored = connection.execute("PRAGMA ignore_check_constraints").fetchone()[0]
        connection.execute("PRAGMA ignore_check_constraints = ON")
    try:
        return _trace(connection, statements, drops)
    finally:
        with runner_privileges(connection):
            connection.execute(f"PRAGMA ignore_check_constraints = {int(checks_ignored)}")


def _trace(connection: sqlite3.Connection, statements: Sequence[Statement],
           drops: dict[int, str]) -> dict[int, RebuildOutcome]:
    ordinary = {table.lower() for table in user_tables(connection)}
    marks = {table: _write_mark(connection, table) if table in ordinary else None for table in set(drops.values())}
    counts = {table: _count(connection, table) for table, mark in marks.items() if mark is not None}
    failed: list[Statement] = []
    for statement in statements:
        if execute(connection, statement.sql) is not None:  # the replay reports the failure itself
            failed.append(statement)
        if not connection.in_transaction:  # the file ended the transaction (ON CONFLICT ROLLBACK): nothing proven
            return {index: RebuildOutcome(table) for index, table in drops.items()}
    outcomes = {table: _outcome(connection, table, marks[table], counts.get(table, 0)) for table in marks}
    return {index: replace(outcomes[table], failed_line=max((s.line for s in failed if s.index < index), default=None))
            for index, table in drops.items()}


def _write_mark(connection: sqlite3.Connection, table: str) -> dict[str, object] | None:
    """Insert the marked row: {column: its mark}; None when the table refuses it (a trigger that
    raises, say). CHECK constraints are off for the whole traced run (`_run_marked`): the trace asks
    where the rows go, and whether a CHECK refuses them is the replay's finding."""
    with runner_privileges(connection):
        columns = [(row[1], row[2]) for row in connection.execute(f'PRAGMA table_xinfo("{_quoted(table)}")')
                   if row[6] == 0]  # generated columns are computed, not copied
        marks = {name: _mark(declared, position) for position, (name, declared) in enumerate(columns)}
        names = ", ".join(f'"{_quoted(name)}"' for name in marks)
        try:
            connection.execute(f'INSERT INTO "{_quoted(table)}" ({names}) VALUES ({", ".join("?" * len(marks))})',
                               tuple(marks.values()))
        except sqlite3.Error:
            return None
    return marks


def _mark(declared: str, position: int):
    """A value of the column's affinity (SQLite's rules; a STRICT table takes it too), distinct per
    column and unlike any sample."""
    declared = (declared or "").upper()
    number = _MARK_BASE + position
    if "INT" in declared:
        return number
    if any(part in declared for part in ("CHAR", "CLOB", "TEXT")) or not declared or declared == "ANY":
        return f"hyphae-mark-{number}"
    if "BLOB" in declared:
        return f"hyphae-mark-{number}".encode()
    if any(part in declared for part in ("REAL", "FLOA", "DOUB")):
        return number + 0.5
    return number


def _outcome(connection: sqlite3.Connection, table: str, marks: dict[str, object] | None,
             rows_before: int) -> RebuildOutcome:
    if marks is None:
        return RebuildOutcome(table)
    with runner_privileges(connection):
        if table not in {name.lower() for name in user_tables(connection)}:
            return RebuildOutcome(table, tuple(marks), tuple(marks), (None, rows_before))
        missing = [column for column, mark in marks.items() if not _holds(connection, table, column, mark)]
        old_names = {column.lower() for column in marks}
        new_columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{_quoted(table)}")')
                       if row[1].lower() not in old_names]
        renamed = tuple((column, new) for column in missing for new in new_columns
                        if _holds(connection, table, new, marks[column]))
        lost = tuple(column for column in missing if column not in dict(renamed))
        return RebuildOutcome(table, tuple(marks), lost, (_count(connection, table), rows_before), renamed=renamed)


def _holds(connection: sqlite3.Connection, table: str, column: str, mark) -> bool:
    """True when `table.column` holds `mark` (compared with the column's affinity, as SQLite does)."""
    try:
        query = f'SELECT 1 FROM "{_quoted(table)}" WHERE "{_quoted(column)}" = ? LIMIT 1'
        return connection.execute(query, (mark,)).fetchone() is not None
    except sqlite3.Error:  # no such column: the new table lacks it
        return False


def _count(connection: sqlite3.Connection, table: str) -> int:
    with runner_privileges(connection):
        return connection.execute(f'SELECT count(*) FROM "{_quoted(table)}"').fetchone()[0]


def _unquoted(name: str) -> str:
    if name[:1] == '"':
        return name[1:-1].replace('""', '"').lower()
    return name.strip("`[]").lower()


def _quoted(name: str) -> str:
    return name.replace('"', '""')
