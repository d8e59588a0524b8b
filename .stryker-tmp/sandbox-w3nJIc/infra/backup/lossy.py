"""Values D1's export does not write back exactly, found in the live database before they are lost.

D1's export writes numbers as JavaScript prints them and line breaks with a fixed marker
(sqltext.py), so three kinds of value come back changed from a restore:
- text holding a line break and also the literal two characters `\\n` (or `\\r`): both become
  line breaks (JSON with an escaped newline next to a real one is the common case);
- text holding a NUL character: written as it is, it ends the statement (the backup then fails
  verification);
- an integer beyond +-2**53: rounded to the nearest double;
- a REAL without fraction (3.0) in a column with no type affinity: comes back as INTEGER 3.
One read query per table counts them; the backup reports what it finds as warnings (the backup
itself is D1's file, unchanged). Read-only.
"""

from __future__ import annotations

from typing import Callable, Mapping

from infra.backup.sqltext import quote_name

Query = Callable[[str], list[Mapping[str, object]]]
SAFE_INTEGER = 2 ** 53


def find_lossy_values(query: Query, tables: list[str]) -> list[str]:
    """One warning per table holding such values (tables as the export writes them): one query
    for every table's columns, then one counting query per table (each a scan: D1 bounds a query at 30 s)."""
    wanted = set(tables)
    columns: dict[str, list[tuple[str, str]]] = {}
    for row in query("SELECT m.name AS tbl, p.name AS name, p.type AS type FROM sqlite_master AS m "
                     "JOIN pragma_table_info(m.name) AS p WHERE m.type = 'table' ORDER BY m.rowid, p.cid"):
        if row["tbl"] in wanted:
            columns.setdefault(str(row["tbl"]), []).append((str(row["name"]), str(row["type"] or "")))
    warnings = []
    for table in tables:
        conditions = [condition for name, declared in columns.get(table, [])
                      for condition in _conditions(quote_name(name), declared)]
        if not conditions:
            continue
        rows = query(f"SELECT count(*) AS n FROM {quote_name(table)} WHERE {' OR '.join(conditions)}")
        count = int(rows[0]["n"]) if rows else 0
        if count:
            warnings.append(f"{count} row(s) of {table} hold values D1's export does not write back exactly (a line "
                            "break next to a literal \\n or \\r, an integer beyond 2**53, or a whole REAL in an "
                            "untyped column); a restore changes them: see docs/backup.md")
    return warnings


def _conditions(column: str, declared: str) -> list[str]:
    conditions = [
        f"(typeof({column}) = 'text' AND ((instr({column}, char(10)) > 0 AND instr({column}, '\\n') > 0) OR "
        f"(instr({column}, char(13)) > 0 AND instr({column}, '\\r') > 0) OR instr({column}, char(0)) > 0))",
        f"(typeof({column}) = 'integer' AND ({column} > {SAFE_INTEGER} OR {column} < -{SAFE_INTEGER}))",
    ]
    if _has_blob_affinity(declared):
        conditions.append(f"(typeof({column}) = 'real' AND {column} = CAST({column} AS INTEGER))")
    return conditions


def _has_blob_affinity(declared: str) -> bool:
    """SQLite's affinity rules (datatype3.html 3.1): no type, or one containing BLOB, stores as given."""
    upper = declared.upper()
    if "INT" in upper or any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return False
    return not upper or "BLOB" in upper
