"""The Worker's column allowlist, derived from the migrations by replaying them in SQLite.

The engine, not a parser, says what columns each table ends up with (`PRAGMA table_info`), so the
allowlist bundled into the Worker can never drift from `migrations/`. Read-only.

A table is synced when it has both `machine_id` and `synced_at` (the schema's convention); its
conflict key is its primary key, or for a table without one (entity_mentions) its first UNIQUE
constraint.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from infra.errors import UsageError
from infra.history.files import latest_version, read_migrations

# Never synced: SQLite's and D1's internal tables and the migration ledger.
INTERNAL_PREFIXES = ("sqlite_", "_cf_")
LEDGER_TABLE = "d1_migrations"


def replay_migrations(migrations_dir: Path) -> sqlite3.Connection:
    """A fresh in-memory database with every migration applied in order."""
    connection = sqlite3.connect(":memory:")
    for migration in read_migrations(migrations_dir):
        try:
            connection.executescript(migration.text)
        except sqlite3.Error as error:
            raise UsageError(f"{migration.path}: does not apply on SQLite ({error}); run `invoke lint`") from None
    return connection


def _read_columns(connection: sqlite3.Connection, table: str) -> list[tuple[str, int]]:
    rows = connection.execute("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", (table,)).fetchall()
    return [(name, pk) for name, pk in rows]


def _read_unique_key(connection: sqlite3.Connection, table: str) -> list[str]:
    for _, index_name, unique, origin, _ in connection.execute("SELECT * FROM pragma_index_list(?) ORDER BY seq", (table,)):
        if unique and origin == "u":
            rows = connection.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (index_name,))
            return [name for (name,) in rows]
    return []


def _read_key(connection: sqlite3.Connection, table: str, columns: list[tuple[str, int]]) -> list[str]:
    primary = [name for name, pk in sorted(columns, key=lambda column: column[1]) if pk]
    return primary or _read_unique_key(connection, table)


def read_allowlist(migrations_dir: Path) -> dict:
    """{"schema_version": N, "tables": {table: {"columns", "key", "content_hash"}}} for synced tables."""
    connection = replay_migrations(migrations_dir)
    try:
        names = [name for (name,) in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")]
        tables = {}
        for table in names:
            if table.startswith(INTERNAL_PREFIXES) or table == LEDGER_TABLE:
                continue
            columns = _read_columns(connection, table)
            column_names = [name for name, _ in columns]
            if "machine_id" not in column_names or "synced_at" not in column_names:
                continue
            tables[table] = {
                "columns": column_names,
                "key": _read_key(connection, table, columns),
                "content_hash": "content_hash" in column_names,
            }
    finally:
        connection.close()
    return {"schema_version": latest_version(read_migrations(migrations_dir)), "tables": tables}
