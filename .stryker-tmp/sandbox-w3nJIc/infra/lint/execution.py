"""Running one statement in a scratch database under D1's rules, as the replays do.

`execute` runs a statement and returns why it failed (or None); `run_statement` also resolves a
view or trigger the statement created, since SQLite accepts views and triggers that name
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
from infra.lint.splitter import split_statements

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
    """Resolve a trigger's body: renaming a column of its table makes SQLite re-read every
    trigger and view that uses the table (in a savepoint that is rolled back). That check skips
    the columns an UPDATE sets and an INSERT names, so those are looked up too."""
    with runner_privileges(connection):
        query = "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name = ?"
        row = connection.execute(query, (name,)).fetchone()
        columns = connection.execute(f'PRAGMA table_info("{row[0]}")').fetchall() if row else []
        if not columns:
            return None
        connection.execute("SAVEPOINT hyphae_probe")
        try:
            connection.execute(f'ALTER TABLE "{row[0]}" RENAME COLUMN "{columns[0][1]}" TO "__hyphae_probe__"')
        except sqlite3.Error as error:
            return EngineFailure(str(error))
        finally:
            connection.execute("ROLLBACK TO hyphae_probe")
            connection.execute("RELEASE hyphae_probe")
        return _written_columns_failure(connection, name, row[1] or "")


_TRIGGER_BODY = re.compile(r"\bBEGIN\b(.*)\bEND\s*;?\s*$", re.IGNORECASE | re.DOTALL)


def _written_columns_failure(connection: sqlite3.Connection, trigger: str, sql: str) -> EngineFailure | None:
    """The first column an UPDATE ... SET or INSERT (...) in the trigger body names that its
    table lacks (SQLite reports those only when the trigger fires)."""
    from sqlglot import exp

    from infra.lint.context import read_tree

    body = _TRIGGER_BODY.search(sql)
    for statement in split_statements(body[1] if body else ""):
        tree = read_tree(statement.sql)
        if isinstance(tree, exp.Update):
            table, written = tree.this, [eq.this for eq in tree.expressions if isinstance(eq, exp.EQ)]
        elif isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema):
            table, written = tree.this.this, tree.this.expressions
        else:
            continue
        if not isinstance(table, exp.Table):
            continue
        existing = {row[1].lower() for row in connection.execute(f'PRAGMA table_info("{table.name}")')}
        if not existing:
            return EngineFailure(f"error in trigger {trigger}: no such table: {table.name}")
        for column in written:
            if isinstance(column, (exp.Column, exp.Identifier)) and column.name.lower() not in existing:
                return EngineFailure(f"error in trigger {trigger}: no such column: {table.name}.{column.name}")
    return None
