"""Running one statement in a scratch database under D1's rules, as the replays do.

`execute` runs a statement and returns why it failed (or None); `run_statement` also resolves a
view or trigger the statement created (a trigger by firing it, `probe_trigger`), since SQLite
accepts views and triggers that name
missing tables or columns and only fails when they are used, and drops a broken one so later
ALTERs don't all fail with "error in view ...". Used by both replays (engine.py,
empty_replay.py) and by drift's expected schema.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from infra.d1.rules import clear_last_denial, last_denial, runner_privileges
from infra.lint.rules import d1

_VIEW_OR_TRIGGER = re.compile(r"^\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?(VIEW|TRIGGER)\b", re.IGNORECASE)


@dataclass(frozen=True)
class EngineFailure:
    message: str
    code: str | None = None  # set when the authorizer's denial already names the rule


def begin_batch(connection: sqlite3.Connection) -> None:
    """Open the transaction a migration runs in: D1 runs each file as one batch, one transaction
    (so deferred foreign keys are checked at its end, and PRAGMA foreign_keys does nothing)."""
    with runner_privileges(connection):
        connection.execute("BEGIN")


def end_batch(connection: sqlite3.Connection) -> EngineFailure | None:
    """Commit the migration's transaction; when COMMIT fails (a deferred foreign key), roll the
    whole file back, as D1 does with a failed batch, and say why."""
    if not connection.in_transaction:
        return None  # a statement's ON CONFLICT ROLLBACK already ended it
    with runner_privileges(connection):
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            connection.execute("ROLLBACK")
            return EngineFailure(f"{error} when the migration's batch commits (deferred foreign keys are checked "
                                 "then); D1 rolls the whole file back")
    return None


def run_batch(connection: sqlite3.Connection, statements: list[str]) -> list[EngineFailure | None]:
    """Run a migration's statements as one batch; a failed COMMIT is reported on the last one."""
    begin_batch(connection)
    failures = [run_statement(connection, sql) for sql in statements]
    commit_failure = end_batch(connection)
    if commit_failure is not None and failures:
        failures[-1] = failures[-1] or commit_failure
    return failures


def run_statement(connection: sqlite3.Connection, sql: str) -> EngineFailure | None:
    """Run `sql`; when it created a view or trigger, resolve it and drop it if it is broken."""
    created = _VIEW_OR_TRIGGER.match(sql)
    names_before = _schema_names(connection) if created else None
    failure = execute(connection, sql)
    if failure is None and names_before is not None:
        failure = _drop_if_broken(connection, names_before)
    return failure


def execute(connection: sqlite3.Connection, sql: str) -> EngineFailure | None:
    """Run one statement under D1's rules; the failure, or None when it succeeded."""
    clear_last_denial(connection)
    try:
        connection.execute(sql)
    except Exception as error:  # noqa: BLE001 - any engine refusal (or unreadable text) is a finding
        denial = last_denial(connection)
        message = str(error) or type(error).__name__
        if denial is not None:
            return EngineFailure(d1.describe_denial(denial, message), d1.code_for_denial(denial))
        return EngineFailure(message)
    return None


def serialize(connection: sqlite3.Connection) -> bytes:
    """The database as bytes; b"" for a database that has never had a table (no pages to copy).
    serialize reads the pages through SQL (sqlite_dbpage), which the authorizer would refuse."""
    with runner_privileges(connection):
        try:
            return connection.serialize()
        except sqlite3.OperationalError:
            return b""


def _schema_names(connection: sqlite3.Connection) -> dict[str, str]:
    with runner_privileges(connection):
        return {name.lower(): kind for kind, name in connection.execute("SELECT type, name FROM sqlite_master")}


def _drop_if_broken(connection: sqlite3.Connection, names_before: dict[str, str]) -> EngineFailure | None:
    for name, kind in sorted(_schema_names(connection).items()):
        if name in names_before or kind not in ("view", "trigger"):
            continue
        failure = probe_view(connection, name) if kind == "view" else probe_trigger(connection, name)
        if failure is not None:
            with runner_privileges(connection):
                connection.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
            return failure
    return None


def probe_view(connection: sqlite3.Connection, name: str) -> EngineFailure | None:
    return execute(connection, f'SELECT * FROM "{name}" LIMIT 0')


def probe_trigger(connection: sqlite3.Connection, name: str) -> EngineFailure | None:
    """Let the engine judge a new trigger: SQLite resolves a trigger's body only when a statement
    that fires it is compiled, so fire it, INSERT, UPDATE and DELETE of a row of its table, inside a
    savepoint that is rolled back (compiled only, when the table has no row). A failure counts when
    the engine cannot compile the firing statement because of this trigger (a missing table or
    column, a function D1 denies); a failure only while running depends on the row (FTS5's
    'delete' of a row indexed before the trigger existed, a RAISE in the body) and does not."""
    with runner_privileges(connection):
        row = connection.execute("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                 (name,)).fetchone()
    if row is None:
        return None
    # A RAISE(ROLLBACK) or OR ROLLBACK in the body would end the migration's own transaction: compile only.
    compile_only = bool(_ROLLBACK.search(row[1] or ""))
    with rolled_back_savepoint(connection, "hyphae_fire"):
        for sql, parameters in firing_statements(connection, row[0]):
            ran, failure = _fire(connection, sql, parameters, compile_only)
            if failure is not None and not _fails_without_trigger(connection, name, sql, parameters):
                return EngineFailure(f"error in trigger {name}: {failure.message}", failure.code)
            compile_only = compile_only or not ran  # after a failed DELETE, re-inserting the row would collide
    return None


_ROLLBACK = re.compile(r"\bROLLBACK\b", re.IGNORECASE)


def firing_statements(connection: sqlite3.Connection, table: str) -> list[tuple[str, tuple]]:
    """UPDATE, DELETE and INSERT of one row of `table` (every writable column), the statements that
    fire its triggers, with their parameters; the row's own values when it has one, else NULLs
    against a rowid no row has (then the statements only compile). Read-only."""
    with runner_privileges(connection):
        columns = [row[1] for row in connection.execute(f'PRAGMA table_xinfo("{_quoted(table)}")') if row[6] == 0]
        has_rowid = _has_rowid(connection, table)
        values = _first_row(connection, table, columns) if has_rowid else None
    if not columns:
        return []
    names = ", ".join(f'"{_quoted(column)}"' for column in columns)
    target = values[0] if values else -1
    where = f"WHERE rowid = {int(target)}" if has_rowid else "WHERE 0"
    inserted = values[1:] if values else (None,) * len(columns)
    row_id = ("rowid, ", "?, ") if has_rowid else ("", "")
    return [
        (f'UPDATE "{_quoted(table)}" SET ' + ", ".join(f'"{_quoted(c)}" = "{_quoted(c)}"' for c in columns) + f" {where}", ()),
        (f'DELETE FROM "{_quoted(table)}" {where}', ()),
        (f'INSERT INTO "{_quoted(table)}" ({row_id[0]}{names}) VALUES ({row_id[1]}{", ".join("?" * len(columns))})',
         ((target,) if has_rowid else ()) + tuple(inserted)),
    ]


def _fire(connection: sqlite3.Connection, sql: str, parameters: tuple, compile_only: bool):
    """(ran, compile failure): run one firing statement (or only compile it); a failure counts only
    when the engine cannot compile the statement (EXPLAIN)."""
    if not compile_only and _run(connection, sql, parameters) is None:
        return True, None
    return False, _run(connection, "EXPLAIN " + sql, parameters)


def _fails_without_trigger(connection: sqlite3.Connection, name: str, sql: str, parameters: tuple) -> bool:
    """True when the statement does not compile with the trigger gone either (another, older
    trigger is to blame: SQLite does not re-check triggers when a table they write is dropped)."""
    with rolled_back_savepoint(connection, "hyphae_without"):
        with runner_privileges(connection):
            connection.execute(f'DROP TRIGGER "{_quoted(name)}"')
        return _run(connection, "EXPLAIN " + sql, parameters) is not None


def _run(connection: sqlite3.Connection, sql: str, parameters: tuple) -> EngineFailure | None:
    clear_last_denial(connection)
    try:
        connection.execute(sql, parameters).fetchall()
    except sqlite3.Error as error:
        denial = last_denial(connection)
        if denial is not None:
            return EngineFailure(d1.describe_denial(denial, str(error)), d1.code_for_denial(denial))
        return EngineFailure(str(error))
    return None


class rolled_back_savepoint:
    """A savepoint that is always rolled back (hyphae's own statement: past D1's authorizer)."""

    def __init__(self, connection: sqlite3.Connection, name: str):
        self.connection, self.name = connection, name

    def __enter__(self):
        with runner_privileges(self.connection):
            self.connection.execute(f"SAVEPOINT {self.name}")

    def __exit__(self, *exc):
        with runner_privileges(self.connection):
            self.connection.execute(f"ROLLBACK TO {self.name}")
            self.connection.execute(f"RELEASE {self.name}")
        return False


def _quoted(name: str) -> str:
    return name.replace('"', '""')


def _has_rowid(connection: sqlite3.Connection, table: str) -> bool:
    """False for a WITHOUT ROWID table or a view (INSTEAD OF triggers): their firing statements
    only compile."""
    try:
        list(connection.execute(f'SELECT rowid FROM "{_quoted(table)}" LIMIT 0'))
        return True
    except sqlite3.Error:  # "no such column: rowid"
        return False


def _first_row(connection: sqlite3.Connection, table: str, columns: list[str]) -> tuple | None:
    selected = ", ".join(["rowid"] + [f'"{_quoted(column)}"' for column in columns])
    rows = list(connection.execute(f'SELECT {selected} FROM "{_quoted(table)}" LIMIT 1'))
    return tuple(rows[0]) if rows else None
