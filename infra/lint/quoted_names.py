"""SAFE006: a double-quoted name that SQLite silently reads as a string literal.

SQLite (and so D1) keeps a legacy fallback: a double-quoted token that names no column in scope
becomes a string. A drizzle-style rebuild copy that names a column the old table lacks,
`INSERT INTO __new_t ("id", "sent_at") SELECT "id", "sent_at" FROM t`, therefore writes the text
'sent_at' into every row, with no error anywhere.

The engine says which tokens fall back, on the replay's own connection and schema. The fallback
belongs to double quotes alone: `name` in backticks (or brackets) is an identifier with no string
fallback (sqlite.org/lang_keywords.html; in SQLite's source only a token that starts with `"` is
marked EP_DblQuoted, the flag the fallback checks). So, just before a statement holding a double
quote runs, the same statement with each double-quoted token written in backticks is compiled
(EXPLAIN: nothing runs). When that copy is refused and the statement itself compiles, a
double-quoted token was read as a string: the verdict SQLite gives with SQLITE_DBCONFIG_DQS_DML
and _DDL off, which Python 3.11's sqlite3 cannot set, without a second engine or a second copy of
the schema. Views and triggers are resolved only when used, so their copy is created in a
savepoint that is rolled back, and used there (SELECT from the view; the statements that fire the
trigger). Leaves the database as it found it.
"""

from __future__ import annotations

import re
import sqlite3

from infra.d1.rules import runner_privileges
from infra.lint.execution import execute, firing_statements, rolled_back_savepoint

# Strings, comments and the other identifier quotes, where a double quote is not a token; then a
# double-quoted token (group 1: its text, with "" for a double quote inside).
_TOKENS = re.compile(r"'(?:[^']|'')*'|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|/\*.*?(?:\*/|\Z)|\"((?:[^\"]|\"\")*)\"",
                     re.DOTALL)
_VIEW_OR_TRIGGER = re.compile(r"^\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?(VIEW|TRIGGER)\b", re.IGNORECASE)
# A virtual table's arguments go to its module as text (fts5 reads its own quotes), not to SQL.
_VIRTUAL_TABLE = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE\b", re.IGNORECASE)
_NO_SUCH_COLUMN = re.compile(r"no such column: (.+)$", re.DOTALL)


def as_identifiers(sql: str) -> tuple[str, list[str]]:
    """`sql` with every double-quoted token written in backticks, and those tokens' names (read-only)."""
    names: list[str] = []

    def requote(match: re.Match) -> str:
        if match[1] is None:
            return match[0]
        name = match[1].replace('""', '"')
        names.append(name)
        return "`" + name.replace("`", "``") + "`"

    return _TOKENS.sub(requote, sql) if '"' in sql else sql, names


def string_fallback_before(connection: sqlite3.Connection, sql: str) -> str | None:
    """Call just before `sql` runs in the replay: why `sql` reads a double-quoted token as a string
    (the SAFE006 message: the engine compiles `sql` but refuses its copy with plain identifiers), or
    None. Compiles only (a failure while running, a constraint, is another finding); a view or
    trigger is created in a savepoint that is rolled back."""
    if _VIRTUAL_TABLE.match(sql):
        return None
    identifiers, names = as_identifiers(sql)
    if not names:
        return None
    compile_ = _compile_with_uses if _VIEW_OR_TRIGGER.match(sql) else _compile
    refusal = compile_(connection, identifiers)
    if refusal is None or compile_(connection, sql) is not None:
        return None  # every name resolves, or the statement fails for another reason too
    missing = _NO_SUCH_COLUMN.search(refusal)
    name = next((name for name in names if missing and missing[1].lower() == name.lower()), None)
    if name is not None:
        return (f'"{name}" names no column here, so SQLite silently reads it as the string \'{name}\' '
                "(the same statement with the name as an identifier: no such column)")
    return f"a double-quoted token is read as a string (the same statement with it as an identifier: {refusal})"


def _compile(connection: sqlite3.Connection, sql: str) -> str | None:
    failure = execute(connection, "EXPLAIN " + sql)
    return None if failure is None else failure.message


def _compile_with_uses(connection: sqlite3.Connection, sql: str) -> str | None:
    """Create the view or trigger in a savepoint, then compile what uses it; always rolled back."""
    with rolled_back_savepoint(connection, "hyphae_quoted"):
        before = _object_names(connection)
        failure = execute(connection, sql)
        if failure is not None:
            return failure.message
        for kind, name, table in _objects(connection):
            if name in before:
                continue
            uses = ([(f'SELECT * FROM "{_quoted(name)}" LIMIT 0', ())] if kind == "view"
                    else firing_statements(connection, table) if kind == "trigger" else [])
            for use, parameters in uses:
                if (refusal := _explain(connection, use, parameters)) is not None:
                    return refusal
    return None


def _explain(connection: sqlite3.Connection, sql: str, parameters: tuple) -> str | None:
    try:
        connection.execute("EXPLAIN " + sql, parameters).fetchall()
    except sqlite3.Error as error:
        return str(error)
    return None


def _objects(connection: sqlite3.Connection) -> list[tuple[str, str, str]]:
    with runner_privileges(connection):
        return connection.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()


def _object_names(connection: sqlite3.Connection) -> set[str]:
    return {name for _, name, _ in _objects(connection)}


def _quoted(name: str) -> str:
    return name.replace('"', '""')
