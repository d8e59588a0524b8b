"""The scratch replay: the whole history, in order, in SQLite with D1's rules; the engine decides.

The replay runs under D1's authorizer and limits with the ledger protected, with one
representative row in every existing table before each migration (production has data), so
failures that depend on data (NOT NULL without default, non-constant defaults, a NOT NULL column
rebuilt from a nullable one) surface. The replay on empty tables (a fresh local database) is
taken where it can differ: a statement that fails is run again on a copy of the database at that
point with every table emptied. Fails there too: an ordinary finding with the most specific code
(rules/*.ENGINE, SQL004 as the fallback). Passes there: data-dependent (SQL002 for ADD COLUMN
forms, else SAFE005). The two replays keep one schema, so there is one database to replay, not
two: the cold lint stays within reach of a bare replay (see `invoke bench`). A failed statement
is skipped and the replay goes on, so one run reports every problem.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from infra.d1.rules import (
    clear_last_denial,
    is_ledger_table,
    is_reserved_name,
    last_denial,
    open_d1_database,
    runner_privileges,
)
from infra.history.files import MigrationFile
from infra.lint.context import SchemaView, StatementContext
from infra.lint.directives import apply_directives
from infra.lint.findings import Finding
from infra.lint.rules import RULES, d1, idempotence, ordering, safety, syntax
from infra.lint.splitter import Statement, split_statements

STATIC_RULES = [*ordering.STATIC, *syntax.STATIC, *d1.STATIC, *safety.STATIC, *idempotence.STATIC]
ENGINE_RULES = [*d1.ENGINE, *syntax.ENGINE, *ordering.ENGINE]
# Codes whose static finding already explains why the engine refused the statement.
_EXPLAINS_ENGINE_FAILURE = {"SQL001", "SQL002", "D1001", "D1002", "D1003", "D1004", "D1005"}
_SEED_VALUES = {"INTEGER": 1, "REAL": 1.0, "TEXT": "hyphae", "BLOB": b"\x00", "NUMERIC": 1}
_SEED_COLLISION = re.compile(r"UNIQUE constraint failed|FOREIGN KEY constraint failed", re.IGNORECASE)
# Failures no row can cause: no need to re-run these on empty tables.
_SCHEMA_FAILURE = re.compile(r"syntax error|incomplete input|no such|already exists|duplicate column|"
                             r"not authorized|too many|cannot drop|unrecognized token|has no column named|"
                             r"cannot add a (PRIMARY KEY|UNIQUE|STORED)", re.IGNORECASE)


@dataclass(frozen=True)
class EngineFailure:
    message: str
    code: str | None = None  # set when the authorizer's denial already names the rule


@dataclass
class FileResult:
    """What linting one migration file produced."""

    name: str
    findings: list[Finding]
    statements: int


def finding_for(code: str, statement: Statement, message: str, display: str) -> Finding:
    rule = RULES[code]
    return Finding(code, rule.severity, display, statement.line, statement.column, message, rule.hint)


class Replay:
    """The scratch database; `lint_file` advances it by one migration file."""

    def __init__(self, snapshot: bytes | None = None):
        self.connection = open_d1_database(":memory:", protect_ledger=True)
        if snapshot:
            with runner_privileges(self.connection):
                self.connection.deserialize(snapshot)
        self.schema = SchemaView(self.connection)

    def snapshot(self) -> bytes:
        return serialize(self.connection)

    def close(self) -> None:
        self.connection.close()

    def lint_file(self, file: MigrationFile, display: str) -> FileResult:
        """Replay one file's statements and return their findings; advances the database."""
        statements = split_statements(file.text, display)
        tables_before = self.schema.tables()
        seed_representative_rows(self.connection)
        findings: list[Finding] = []
        for statement in statements:
            context = StatementContext(statement, self.schema, tables_before)
            findings.extend(self.lint_statement(context, display))
        return FileResult(file.name, findings, len(statements))

    def lint_statement(self, context: StatementContext, display: str) -> list[Finding]:
        statement = context.statement
        static = [finding_for(code, statement, message, display) for code, message in run_static_rules(context)]
        names_before = set(self.schema.objects()) if _creates_view_or_trigger(context) else None
        failure = execute(self.connection, statement.sql)
        engine = None
        if failure is not None:
            engine = self.engine_finding(context, failure, display)
        elif names_before is not None:
            broken = self.check_created_object(names_before)
            if broken is not None:
                code, message = classify(context, broken)
                engine = finding_for(code, statement, message, display)
        static_codes = {finding.code for finding in static}
        if engine is not None and engine.code not in static_codes and not (
            engine.code in ("SQL004", "SAFE005") and static_codes & _EXPLAINS_ENGINE_FAILURE
        ):
            static.append(engine)
        return apply_directives(static, statement)

    def engine_finding(self, context: StatementContext, failure: EngineFailure, display: str) -> Finding | None:
        """The finding for a statement that failed with rows: re-run on empty tables to tell
        an ordinary failure from a data-dependent one."""
        statement = context.statement
        if failure.code is not None or _SCHEMA_FAILURE.search(failure.message):
            on_empty = failure
        else:
            on_empty = execute_on_empty_tables(self.connection, statement.sql)
        if on_empty is not None:
            code, message = classify(context, on_empty)
            return finding_for(code, statement, message, display)
        if context.keyword in ("INSERT", "REPLACE") and _SEED_COLLISION.search(failure.message):
            return None  # the representative row itself collided: an artifact of the replay
        code, message = classify(context, failure)
        if code != "SQL002":
            code, message = "SAFE005", safety.safe005_data_dependent(context, failure.message)
        return finding_for(code, statement, message, display)

    def check_created_object(self, names_before: set[str]) -> EngineFailure | None:
        """SQLite accepts views and triggers that name missing tables or columns (it resolves them
        on use). Resolve them now; drop a broken one so later ALTERs don't all fail with
        "error in view ..."."""
        objects = self.schema.objects()
        for name in sorted(set(objects) - names_before):
            kind = objects[name][0].upper()
            failure = probe_view(self.connection, name) if kind == "VIEW" else probe_trigger(self.connection, name)
            if failure is not None:
                with runner_privileges(self.connection):
                    self.connection.execute(f'DROP {kind} IF EXISTS "{name}"')
                return failure
        return None


def _creates_view_or_trigger(context: StatementContext) -> bool:
    words = context.words
    return words[:1] == ["CREATE"] and any(word in ("VIEW", "TRIGGER") for word in words[1:3])


def run_static_rules(context: StatementContext):
    for rule in STATIC_RULES:
        try:
            yield from rule(context)
        except Exception:  # noqa: BLE001 - a rule that misreads a statement says nothing; the engine still judges it
            continue


def classify(context: StatementContext, failure: EngineFailure) -> tuple[str, str]:
    """The most specific rule code for an engine failure, and the message to show."""
    if failure.code is not None:
        return failure.code, failure.message
    for code, rule in ENGINE_RULES:
        message = rule(context, failure.message)
        if message is not None:
            return code, message
    code, rule = syntax.FALLBACK
    return code, rule(context, failure.message)


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


def execute_on_empty_tables(connection: sqlite3.Connection, sql: str) -> EngineFailure | None:
    """Run `sql` on a throw-away copy of the database with every table emptied (the replay on
    empty tables at this point of history); the original is not changed."""
    copy = open_d1_database(":memory:", protect_ledger=True)
    try:
        data = serialize(connection)
        with runner_privileges(copy):
            if data:
                copy.deserialize(data)
            copy.execute("PRAGMA foreign_keys = OFF")
            for table in _user_tables(copy):
                copy.execute(f'DELETE FROM "{table}"')
            copy.execute("PRAGMA foreign_keys = ON")
        return execute(copy, sql)
    finally:
        copy.close()


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


def seed_representative_rows(connection: sqlite3.Connection) -> None:
    """Give every empty user table one representative row: NULL where a column allows it (so a
    rebuild that adds NOT NULL fails as it would on real data), defaults where declared, and a
    value of the column's type elsewhere. Foreign keys are off while seeding (hyphae's own
    bookkeeping, never migration SQL); a row a CHECK refuses is skipped."""
    with runner_privileges(connection):
        empty = _empty_tables(connection, _user_tables(connection))
        if not empty:
            return
        connection.execute("PRAGMA foreign_keys = OFF")
        try:
            for table in empty:
                _insert_representative_row(connection, table)
        finally:
            connection.execute("PRAGMA foreign_keys = ON")


def _empty_tables(connection: sqlite3.Connection, tables: list[str]) -> list[str]:
    """The tables without a row, asked in one query per 90 tables (D1's 100-column limit)."""
    empty = []
    for start in range(0, len(tables), 90):
        chunk = tables[start : start + 90]
        probes = ", ".join(f'(SELECT 1 FROM "{table}" LIMIT 1)' for table in chunk)
        row = connection.execute(f"SELECT {probes}").fetchone()
        empty += [table for table, has_row in zip(chunk, row) if has_row is None]
    return empty


def _user_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("PRAGMA main.table_list").fetchall()
    return [name for _, name, kind, *_ in rows
            if kind == "table" and not name.lower().startswith("sqlite_")
            and not is_reserved_name(name) and not is_ledger_table(name)]


def _insert_representative_row(connection: sqlite3.Connection, table: str) -> None:
    columns = connection.execute(f'PRAGMA table_xinfo("{table}")').fetchall()
    for fill_everything in (False, True):
        names, values = [], []
        for _, name, declared, not_null, default, primary_key, hidden in columns:
            if hidden != 0 or (default is not None and not fill_everything):
                continue
            if not not_null and not primary_key and not fill_everything:
                continue  # NULL
            names.append(f'"{name}"')
            values.append(_seed_value(declared))
        columns_sql = f"({', '.join(names)}) VALUES ({', '.join('?' * len(values))})" if names else "DEFAULT VALUES"
        try:
            connection.execute(f'INSERT INTO "{table}" {columns_sql}', values)
            return
        except sqlite3.Error:
            continue


def _seed_value(declared: str):
    """A value of the declared type's affinity (SQLite's rules: INT, CHAR/CLOB/TEXT, BLOB, REAL/FLOA/DOUB)."""
    declared = (declared or "").upper()
    if "INT" in declared:
        return _SEED_VALUES["INTEGER"]
    if any(part in declared for part in ("CHAR", "CLOB", "TEXT")):
        return _SEED_VALUES["TEXT"]
    if "BLOB" in declared or not declared:
        return _SEED_VALUES["BLOB"] if declared else _SEED_VALUES["INTEGER"]
    if any(part in declared for part in ("REAL", "FLOA", "DOUB")):
        return _SEED_VALUES["REAL"]
    return _SEED_VALUES["NUMERIC"]
