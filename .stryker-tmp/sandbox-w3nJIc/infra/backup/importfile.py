"""The SQL file D1's import takes: a verified scratch database written so D1 accepts every statement.

Not D1's export as downloaded, because that file does not always import back (docs/backup.md):
- a row over 100,000 bytes is one statement, which D1 refuses (`statement too long`,
  SQLITE_TOOBIG; workers-sdk #4510, #6146): here its large text or blob values are inserted
  empty and appended in chunks (`UPDATE ... SET c = c || '...'`), CHECK constraints set aside
  for the pieces (`PRAGMA ignore_check_constraints`), so each statement stays under the limit;
- virtual tables are created again, not their shadow tables, which D1 will not let SQL write
  (see virtual.py); triggers come after views (an INSTEAD OF trigger needs its view);
- the migration lease (`hyphae_lock`) is left empty: a restored database is not being migrated.
The statements otherwise follow the export's order and shapes (dump.py). Read-only on the source.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from infra.backup.manifest import VirtualTable
from infra.backup.sqltext import format_value, insert_statement, quote_name
from infra.backup.virtual import shadow_tables
from infra.d1.rules import STATEMENT_MAX_BYTES
from infra.errors import BackupUnverified

LEASE_TABLE = "hyphae_lock"
# Room under D1's limit for the statement around a value.
IMPORT_STATEMENT_BYTES = STATEMENT_MAX_BYTES - 10_000
TEXT_CHUNK_CHARACTERS = 20_000  # at most 4 bytes each in UTF-8, doubled quotes included: < 90,000 bytes
BLOB_CHUNK_BYTES = 40_000  # written as 80,000 hex digits
SMALL_VALUE_BYTES = 1_000


def import_statements(connection: sqlite3.Connection, virtual_tables: list[VirtualTable]) -> Iterator[str]:
    """Every statement of the import, in order, each under D1's statement limit."""
    virtual = {table.name.lower() for table in virtual_tables}
    shadows = {name.lower() for table in virtual_tables for name in shadow_tables(table)}
    yield "PRAGMA defer_foreign_keys=TRUE;"
    tables = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql NOT NULL "
                                "ORDER BY name = 'sqlite_sequence', rowid").fetchall()
    for name, sql in tables:
        lowered = name.lower()
        if lowered in virtual or lowered in shadows or lowered.startswith("_cf_"):
            continue
        if lowered == "sqlite_sequence":
            yield "DELETE FROM sqlite_sequence;"
        elif lowered.startswith("sqlite_"):
            continue
        else:
            yield f"{sql};"
        if lowered != LEASE_TABLE:
            yield from _table_rows(connection, name)
    for table in virtual_tables:
        yield from _virtual_table(connection, table)
    yield from _other_objects(connection, virtual | shadows)


def _table_rows(connection: sqlite3.Connection, table: str) -> Iterator[str]:
    info = connection.execute(f"PRAGMA table_info({quote_name(table)})").fetchall()
    names = [row[1] for row in info]
    keys = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]]
    select = ", ".join(quote_name(name) for name in names)
    for row in connection.execute(f"SELECT {select} FROM {quote_name(table)}"):
        key = [(name, row[names.index(name)]) for name in keys]
        yield from _insert(table, names, list(row), key, listed=False)


def _own_text_rows(connection: sqlite3.Connection, table: VirtualTable) -> Iterator[str]:
    """An FTS5 table's own text, inserted with its rowid (FTS5 indexes it again)."""
    select = ", ".join(quote_name(name) for name in table.columns)
    for row in connection.execute(f"SELECT rowid, {select} FROM {quote_name(table.name)}"):
        yield from _insert(table.name, ["rowid", *table.columns], list(row), [("rowid", row[0])], listed=True)


def _insert(table: str, names: list[str], row: list, key: list[tuple[str, object]], *, listed: bool) -> Iterator[str]:
    """The INSERT of one row; a row over the limit becomes an INSERT with its large values empty,
    then UPDATEs appending them piece by piece (found by its key, else by last_insert_rowid())."""
    statement = _insert_sql(table, names if listed else None, row)
    if len(statement.encode()) <= IMPORT_STATEMENT_BYTES:
        yield statement
        return
    large = [index for index, value in enumerate(row) if isinstance(value, (str, bytes))
             and len(format_value(value).encode()) > SMALL_VALUE_BYTES]
    head = [("" if isinstance(value, str) else b"") if index in large else value for index, value in enumerate(row)]
    first = _insert_sql(table, names if listed else None, head)
    if not large or len(first.encode()) > IMPORT_STATEMENT_BYTES:
        raise BackupUnverified(f"a row of table {table} is too large to import into D1 even in pieces "
                               f"({len(statement.encode()):,} bytes); nothing was restored")
    where = " AND ".join(f"{_name(name)} = {format_value(value)}" if value is not None else f"{_name(name)} IS NULL"
                         for name, value in key) or "rowid = last_insert_rowid()"
    yield "PRAGMA ignore_check_constraints=ON;"
    yield first
    for index in large:
        yield from _appends(table, _name(names[index]), row[index], where)
    yield "PRAGMA ignore_check_constraints=OFF;"


def _name(column: str) -> str:
    return "rowid" if column == "rowid" else quote_name(column)


def _insert_sql(table: str, columns: list[str] | None, row: list) -> str:
    if columns is None:
        return insert_statement(table, row)
    listed = ",".join(_name(name) for name in columns)
    return f"INSERT INTO {quote_name(table)}({listed}) VALUES({','.join(format_value(value) for value in row)});"


def _appends(table: str, column: str, value, where: str) -> Iterator[str]:
    if isinstance(value, str):
        for start in range(0, len(value), TEXT_CHUNK_CHARACTERS):
            piece = format_value(value[start:start + TEXT_CHUNK_CHARACTERS])
            yield f"UPDATE {quote_name(table)} SET {column} = {column} || {piece} WHERE {where};"
    else:
        for start in range(0, len(value), BLOB_CHUNK_BYTES):
            piece = format_value(bytes(value[start:start + BLOB_CHUNK_BYTES]))
            yield f"UPDATE {quote_name(table)} SET {column} = CAST({column} || {piece} AS BLOB) WHERE {where};"


def _virtual_table(connection: sqlite3.Connection, table: VirtualTable) -> Iterator[str]:
    yield table.sql.rstrip().rstrip(";") + ";"
    if table.content == "own":
        yield from _own_text_rows(connection, table)
    elif table.content == "external":
        yield f"INSERT INTO {quote_name(table.name)}({quote_name(table.name)}) VALUES('rebuild');"


def _other_objects(connection: sqlite3.Connection, skipped: set[str]) -> Iterator[str]:
    rows = connection.execute("SELECT type, tbl_name, sql FROM sqlite_master WHERE sql NOT NULL AND type IN "
                              "('index', 'view', 'trigger') ORDER BY CASE type WHEN 'index' THEN 0 WHEN 'view' THEN 1 "
                              "ELSE 2 END, rowid").fetchall()
    for _kind, table, sql in rows:
        if table.lower() not in skipped:
            yield f"{sql};"
