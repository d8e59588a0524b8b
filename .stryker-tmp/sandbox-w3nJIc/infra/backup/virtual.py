"""Virtual tables (FTS5), which D1's export refuses, kept through a backup and put back on restore.

D1's export stops at the first virtual table ("cannot export databases with Virtual Tables
(fts5)", workers-sdk #6305), and a refused export can leave the database busy for a while
(#9519). So hyphae reads `sqlite_master` first and, when a virtual table exists, names the tables
to export (`dump_options.tables`): every ordinary table, index, trigger and view, leaving out the
virtual tables and their shadow tables (`<name>_data`, `_idx`, `_content`, `_docsize`,
`_config`), except an FTS5 table's own text, its `<name>_content` table. The manifest records
each virtual table's CREATE statement and columns. On restore:
- an FTS5 table holding its own text is created where its `_content` table was, and those rows
  become its rows (`INSERT INTO "x"(rowid, columns...)`): FTS5 indexes them again;
- an external-content FTS5 table (`content='docs'`) is created after the data and rebuilt from
  its source table (`INSERT INTO x(x) VALUES('rebuild')`);
- a contentless one (`content=''`) and an fts5vocab table are created empty (they hold nothing
  that can be exported; the manifest carries a warning for contentless tables).
Direct writes to shadow tables are refused on D1 (SQLite's defensive mode), so a dump that
writes them, like SQLite's own `.dump`, cannot be imported there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from infra.backup.manifest import VirtualTable
from infra.backup.sqltext import inserted_table, quote_name

FTS5_SHADOW_SUFFIXES = ("data", "idx", "content", "docsize", "config")
Query = Callable[[str], list[Mapping[str, object]]]

_MODULE = re.compile(r"\bUSING\s+(?P<module>\w+)", re.IGNORECASE)
_CONTENT_OPTION = re.compile(r"\bcontent\s*=\s*(?:'(?P<single>(?:[^']|'')*)'|\"(?P<double>(?:[^\"]|\"\")*)\"|(?P<bare>\w+))",
                             re.IGNORECASE)


@dataclass
class ExportPlan:
    """What to ask D1's export for: None means the whole database (no virtual table)."""

    tables: list[str] | None
    virtual_tables: list[VirtualTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def plan_export(query: Query) -> ExportPlan:
    """Read `sqlite_master` (and the columns of each virtual table) through `query`. Read-only."""
    rows = query("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
    virtual_rows = [row for row in rows if _is_virtual(row)]
    if not virtual_rows:
        return ExportPlan(None)
    virtual = [_describe(row, query) for row in virtual_rows]
    left_out = {name.lower() for table in virtual for name in shadow_tables(table)} | {t.name.lower() for t in virtual}
    kept_content = {table.content_table.lower() for table in virtual if table.content == "own"}
    tables = [str(row["name"]) for row in rows
              if (str(row["name"]).lower() not in left_out or str(row["name"]).lower() in kept_content)
              and str(row["tbl_name"]).lower() not in left_out - kept_content
              and not str(row["name"]).lower().startswith("_cf_")]
    warnings = [f"FTS5 table {table.name} keeps no text (content=''): its index is not in the backup and is empty "
                "after a restore" for table in virtual if table.content == "none" and _module(table.sql) == "fts5"]
    return ExportPlan(tables, virtual, warnings)


def shadow_tables(table: VirtualTable) -> list[str]:
    return [f"{table.name}_{suffix}" for suffix in FTS5_SHADOW_SUFFIXES] if _module(table.sql) == "fts5" else []


def _is_virtual(row: Mapping[str, object]) -> bool:
    return row["type"] == "table" and str(row["sql"]).lstrip().upper().startswith("CREATE VIRTUAL TABLE")


def _module(sql: str) -> str:
    match = _MODULE.search(sql)
    return match["module"].lower() if match else ""


def _describe(row: Mapping[str, object], query: Query) -> VirtualTable:
    name, sql = str(row["name"]), str(row["sql"])
    literal = "'" + name.replace("'", "''") + "'"
    columns = [str(column["name"]) for column in query(f"SELECT name FROM pragma_table_info({literal})")]
    if _module(sql) != "fts5":
        return VirtualTable(name, sql, columns, "none")
    option = _CONTENT_OPTION.search(sql[sql.find("(") :])
    if option is None:
        return VirtualTable(name, sql, columns, "own", f"{name}_content")
    source = option["single"] if option["single"] is not None else option["double"] if option["double"] is not None \
        else option["bare"]
    if not source:
        return VirtualTable(name, sql, columns, "none")
    return VirtualTable(name, sql, columns, "external", source.replace("''", "'").replace('""', '"'))


class VirtualTableRestorer:
    """Rewrites a backup's statements as they load so its virtual tables come back (see module doc).

    Also holds triggers back to the very end: D1's export writes triggers before views, so an
    INSTEAD OF trigger on a view would otherwise meet a view that does not exist yet.
    """

    def __init__(self, tables: list[VirtualTable]):
        self._waiting = list(tables)
        self._held_triggers: list[str] = []
        self._data_done = False
        own = [table for table in tables if table.content == "own"]
        self._creates = {_create_prefix(table.content_table): table for table in own}
        self._inserts = {table.content_table: (f"INSERT INTO {quote_name(table.content_table)} VALUES(",
                                               f"INSERT INTO {quote_name(table.name)}(rowid,"
                                               f"{','.join(quote_name(column) for column in table.columns)}) VALUES(")
                         for table in own}

    def rewrite(self, statement: str, kind: str) -> list[str]:
        """The statements to run for one statement of the backup (in order)."""
        if kind == "insert":
            table = inserted_table(statement)
            if table in self._inserts:
                old, new = self._inserts[table]
                return [new + statement[len(old):]]
            return [statement]
        if kind == "table":
            for prefix, table in self._creates.items():
                if statement.startswith(prefix):
                    self._waiting.remove(table)
                    return [table.sql.rstrip().rstrip(";") + ";"]
            return [statement]
        if kind in ("index", "trigger", "view"):
            before = self.finish_data()
            if kind == "trigger":
                self._held_triggers.append(statement)
                return before
            return before + [statement]
        return [statement]

    def finish_data(self) -> list[str]:
        """After the last row: create the virtual tables still waiting, and rebuild external ones."""
        if self._data_done:
            return []
        self._data_done = True
        statements = []
        for table in self._waiting:
            statements.append(table.sql.rstrip().rstrip(";") + ";")
            if table.content == "external":
                statements.append(f"INSERT INTO {quote_name(table.name)}({quote_name(table.name)}) VALUES('rebuild');")
        self._waiting = []
        return statements

    def finish(self) -> list[str]:
        """At the end of the backup: anything still waiting, then the held triggers."""
        statements = self.finish_data() + self._held_triggers
        self._held_triggers = []
        return statements


def _create_prefix(table: str) -> str:
    return "CREATE TABLE IF NOT EXISTS '" + table.replace("'", "''") + "'"
