"""SAFE006: a double-quoted name that SQLite silently reads as a string literal.

SQLite (and so D1) keeps a legacy fallback: a double-quoted token that names no column in scope
becomes a string. A drizzle-style rebuild copy that names a column the old table lacks,
`INSERT INTO __new_t ("id", "sent_at") SELECT "id", "sent_at" FROM t`, therefore writes the text
'sent_at' into every row, with no error anywhere. The engine says which tokens fall back: with
SQLITE_DBCONFIG_DQS_DML and _DDL off, SQLite refuses exactly those. Python 3.11's sqlite3 cannot
set them, so a second engine, apsw (pinned; it ships its own current SQLite), keeps a twin of the
replay's schema (the schema statements that succeeded, applied only when a statement needs
checking) and compiles each statement holding a double quote twice: with the fallback, as D1
does, and without. One that compiles only with it uses a double-quoted token as a string. Views
and triggers are resolved only when used, so those are created in a savepoint of the twin and
then used (SELECT from the view, the statements that fire the trigger). Writes only its twin.
"""

from __future__ import annotations

import re

import apsw

from infra.lint.execution import firing_statements

# Strings and comments, where a double quote is not a token.
_STRINGS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)
_SCHEMA_KEYWORDS = ("CREATE", "ALTER", "DROP")
_VIEW_OR_TRIGGER = re.compile(r"^\s*CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?(VIEW|TRIGGER)\b", re.IGNORECASE)
_FALLBACK_TOKEN = re.compile(r'no such column: "((?:[^"]|"")*)"')
_DQS_SETTINGS = (apsw.SQLITE_DBCONFIG_DQS_DML, apsw.SQLITE_DBCONFIG_DQS_DDL)


def has_double_quoted_token(sql: str) -> bool:
    """True when `sql` has a double quote outside strings and comments (read-only, cheap)."""
    return '"' in sql and '"' in _STRINGS_AND_COMMENTS.sub(" ", sql)


def changes_schema(sql: str) -> bool:
    return sql.lstrip()[:6].upper().startswith(_SCHEMA_KEYWORDS)


class QuotedNameCheck:
    """The twin engine for SAFE006, following one replay file by file.

    `schema_image`: the database the replay starts from (b"" for nothing yet; rows don't matter).
    """

    def __init__(self, schema_image: bytes = b""):
        self._image = schema_image
        self._twin: apsw.Connection | None = None
        self._settled: list[str] = []  # schema statements of committed files, not yet in the twin
        self._pending: list[str] = []  # this file's schema statements, not yet in the twin
        self._file_open = False  # the twin holds an open transaction with this file's statements

    def record(self, sql: str) -> None:
        """Note a statement that succeeded in the replay (only schema changes are kept)."""
        if changes_schema(sql):
            self._pending.append(sql)

    def end_file(self, committed: bool) -> None:
        """The replay committed the file, or rolled it back (a failed COMMIT)."""
        if self._file_open:
            self._twin.execute("COMMIT" if committed else "ROLLBACK")
            self._file_open = False
        if committed:
            self._settled.extend(self._pending)
        self._pending = []

    def check(self, sql: str) -> str | None:
        """Why `sql`, which the replay accepted, reads a double-quoted name as a string, or None.
        Call it before recording `sql`, with every earlier statement recorded."""
        if not has_double_quoted_token(sql):
            return None
        twin = self._catch_up()
        refusal = _compile(twin, sql, fallback=False)
        if refusal is None or _compile(twin, sql, fallback=True) is not None:
            return None  # compiles without the fallback, or fails for another reason too
        token = _FALLBACK_TOKEN.search(refusal)
        if token:
            name = token[1].replace('""', '"')
            return (f'"{name}" names no column here, so SQLite silently reads it as the string \'{name}\' '
                    "(the engine with double-quoted strings off: no such column)")
        return f"a double-quoted token is read as a string (the engine with double-quoted strings off: {refusal})"

    def close(self) -> None:
        if self._twin is not None:
            self._twin.close()

    def _catch_up(self) -> apsw.Connection:
        if self._twin is None:
            self._twin = apsw.Connection(":memory:")
            if self._image:
                self._twin.deserialize("main", self._image)
        _apply(self._twin, self._settled)
        self._settled = []
        if self._pending:
            if not self._file_open:
                self._twin.execute("BEGIN")
                self._file_open = True
            _apply(self._twin, self._pending)
            self._pending = []
        return self._twin


def _apply(twin: apsw.Connection, statements: list[str]) -> None:
    for sql in statements:
        try:
            twin.execute(sql)
        except apsw.Error:  # the twin runs another SQLite version; a statement it refuses is skipped
            continue


def _compile(twin: apsw.Connection, sql: str, *, fallback: bool) -> str | None:
    """The engine's refusal of `sql` with or without the double-quoted-string fallback, or None."""
    for setting in _DQS_SETTINGS:
        twin.config(setting, 1 if fallback else 0)
    try:
        if _VIEW_OR_TRIGGER.match(sql):
            return _compile_with_uses(twin, sql)
        twin.execute("EXPLAIN " + sql).fetchall()
        return None
    except apsw.Error as error:
        return str(error)
    finally:
        for setting in _DQS_SETTINGS:
            twin.config(setting, 1)


def _compile_with_uses(twin: apsw.Connection, sql: str) -> str | None:
    """Create the view or trigger in a savepoint, then compile what uses it; always rolled back."""
    twin.execute("SAVEPOINT hyphae_quoted")
    try:
        before = {row[0] for row in twin.execute("SELECT name FROM sqlite_master")}
        twin.execute(sql)
        created = twin.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
        for kind, name, table in created:
            if name in before:
                continue
            if kind == "view":
                twin.execute(f'EXPLAIN SELECT * FROM "{name.replace(chr(34), chr(34) * 2)}"').fetchall()
            elif kind == "trigger":
                for statement, parameters in firing_statements(twin, table):
                    twin.execute("EXPLAIN " + statement, parameters).fetchall()
        return None
    finally:
        twin.execute("ROLLBACK TO hyphae_quoted")
        twin.execute("RELEASE hyphae_quoted")
