"""A database written in D1's export format: the local `invoke backup`, and the loopback's export.

`dump_export` follows D1's export statement for statement (miniflare's port of it, `dumpSql`,
is the reference: tests/backup/test_dump_matches_d1.py compares the two on the same database):
1. `PRAGMA defer_foreign_keys=TRUE;` (foreign keys are checked when the import commits);
2. each table in creation order (`sqlite_sequence` last), its CREATE statement (a quoted name
   gets `IF NOT EXISTS`), then its rows as `INSERT INTO "t" VALUES(...)` in storage order; D1's
   own tables (`_cf_*`) and SQLite's are skipped, `sqlite_sequence` is emptied and refilled;
3. every index, trigger and view, after all the data (so triggers do not fire on import).
A virtual table stops the export, as it stops D1's ("cannot export databases with Virtual Tables");
`tables` (names of tables, and of indexes, triggers and views) limits the export to those, as
D1's `dump_options.tables` does. Read-only; rows are streamed from a cursor, never held.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterable, Iterator

from infra.backup.sqltext import insert_statement, quote_name

VIRTUAL_TABLE_REFUSAL = "D1 Export error: cannot export databases with Virtual Tables (fts5)"


class VirtualTableInExport(Exception):
    """The export met a virtual table (D1 refuses these; see infra/backup/virtual.py)."""


def dump_export(connection: sqlite3.Connection, *, tables: Iterable[str] | None = None,
                exact: bool = True) -> Iterator[str]:
    """The statements of D1's export of `connection`'s database, one string each (with its `;`).

    `exact=False` writes text exactly as D1 does (lossy for a value holding a line break and a
    literal `\\n`; see sqltext.py).
    Raises VirtualTableInExport (before writing that table) when a selected table is virtual.
    """
    wanted = set(tables or ())
    yield "PRAGMA defer_foreign_keys=TRUE;"
    schema = connection.execute("SELECT name, type, sql FROM sqlite_schema WHERE type = 'table' AND sql NOT NULL "
                                "ORDER BY tbl_name = 'sqlite_sequence', rowid").fetchall()
    for table, _kind, sql in schema:
        if wanted and table not in wanted:
            continue
        if table == "sqlite_sequence":
            yield "DELETE FROM sqlite_sequence;"
        elif re.match(r"^sqlite_stat.", table):
            yield "ANALYZE sqlite_schema;"
        else:
            if sql.startswith("CREATE VIRTUAL TABLE"):
                raise VirtualTableInExport(VIRTUAL_TABLE_REFUSAL)
            if table.startswith(("_cf_", "sqlite_")):
                continue
            yield f"CREATE TABLE IF NOT EXISTS {sql[13:]};" if re.search(r"CREATE TABLE ['\"]", sql) else f"{sql};"
        yield from _rows(connection, table, exact)
    rest = connection.execute("SELECT name, sql FROM sqlite_schema WHERE sql NOT NULL "
                              "AND type IN ('index', 'trigger', 'view') ORDER BY type COLLATE NOCASE").fetchall()
    for name, sql in rest:
        if not wanted or name in wanted:
            yield f"{sql};"


def _rows(connection: sqlite3.Connection, table: str, exact: bool) -> Iterator[str]:
    columns = [row[1] for row in connection.execute(f"PRAGMA table_info({quote_name(table)})")]
    cursor = connection.execute(f"SELECT {', '.join(quote_name(column) for column in columns)} FROM {quote_name(table)}")
    for row in cursor:
        yield insert_statement(table, row, exact=exact)
