"""One representative row in every table, so the replay with rows sees what production data does.

NULL where a column allows it (so a rebuild that adds NOT NULL fails as it would on real data),
defaults where declared, and a value of the column's type elsewhere. Foreign keys are off while
seeding (hyphae's own bookkeeping, never migration SQL); a row a CHECK refuses is skipped.
Writes only into the scratch database it is given.
"""

from __future__ import annotations

import sqlite3

from infra.d1.rules import is_ledger_table, is_reserved_name, runner_privileges

_SEED_VALUES = {"INTEGER": 1, "REAL": 1.0, "TEXT": "hyphae", "BLOB": b"\x00", "NUMERIC": 1}


def seed_representative_rows(connection: sqlite3.Connection) -> None:
    """Give every empty user table one representative row (see the module docstring)."""
    with runner_privileges(connection):
        empty = _empty_tables(connection, user_tables(connection))
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


def user_tables(connection: sqlite3.Connection) -> list[str]:
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
