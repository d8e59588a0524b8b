"""Adopting a database wrangler migrated: verify its schema is the history's, then checksum it.

`wrangler d1 migrations apply` records names only. Before hyphae trusts those rows, it replays
the applied files (in the ledger's order) in a scratch SQLite with D1's rules and compares the
result with the live schema, object by object (`sqlite_master`: type, name, table, SQL; D1's
internal `_cf_*`, `sqlite_*` and the ledger tables ignored). Only if they are equal does it record
each file's sha256 (`adopted = 1`). Read-only except `adoption_statements`, which only builds rows.
"""

from __future__ import annotations

import re
import sqlite3

from infra.d1.rules import d1_transaction, is_ledger_table, is_reserved_name, open_d1_database
from infra.errors import LedgerMismatch
from infra.history.files import MigrationFile
from infra.ledger.read import LedgerState
from infra.ledger.schema import record_migration_statements
from infra.lint.splitter import split_statements
from infra.targets import BatchStatement, Target

SCHEMA_SQL = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"


def files_to_adopt(files: list[MigrationFile], state: LedgerState, environment: str) -> list[MigrationFile]:
    """The files of the rows wrangler wrote; raises LedgerMismatch (HIS003) if any applied file is missing.

    Every applied file is needed, not only wrangler's: the live schema is compared with their replay.
    """
    by_name = {migration.name: migration for migration in files}
    missing = [entry.name for entry in state.applied if entry.name not in by_name]
    if missing:
        raise LedgerMismatch(f"HIS003 {missing[0]} is recorded as applied in {environment} but the file is missing "
                             "from the migrations folder; restore it from git, then adopt")
    return [by_name[entry.name] for entry in state.unadopted]


def verify_live_schema(target: Target, applied_files: list[MigrationFile]) -> None:
    """Raise LedgerMismatch unless the live schema equals the replay of `applied_files`. Read-only."""
    expected = _comparable(_replay_schema(applied_files))
    live = _comparable(target.query(SCHEMA_SQL))
    if live == expected:
        return
    difference = _first_difference(live, expected)
    raise LedgerMismatch(f"cannot adopt {target.description}: its schema is not the replay of the "
                         f"{len(applied_files)} applied migration files ({difference}); bring the database or the "
                         "files in line (see `invoke drift`), then adopt")


def adoption_statements(files: list[MigrationFile], run_id: str, holder: str) -> list[BatchStatement]:
    statements: list[BatchStatement] = []
    for migration in files:
        statements += record_migration_statements(migration, run_id, holder, adopted=True)
    return statements


def _replay_schema(files: list[MigrationFile]) -> list[dict]:
    connection = open_d1_database(":memory:")
    try:
        for migration in files:
            for statement in split_statements(migration.text, migration.name):
                try:
                    with d1_transaction(connection):
                        connection.execute(statement.sql)
                except sqlite3.Error as error:
                    raise LedgerMismatch(f"cannot adopt: replaying {migration.path}:{statement.line} fails "
                                         f"({error}); the applied history does not replay") from None
        cursor = connection.execute(SCHEMA_SQL)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]
    finally:
        connection.close()


def _comparable(rows: list[dict]) -> dict[tuple[str, str], tuple[str, str]]:
    objects = {}
    for row in rows:
        name, table = row["name"], row["tbl_name"]
        if is_ledger_table(table) or is_reserved_name(table) or str(name).startswith("sqlite_"):
            continue
        objects[(row["type"], name)] = (table, re.sub(r"\s+", " ", row["sql"] or "").strip())
    return objects


def _first_difference(live: dict, expected: dict) -> str:
    for key in sorted(set(live) | set(expected)):
        kind, name = key
        if key not in live:
            return f"{kind} {name} is missing from the database"
        if key not in expected:
            return f"{kind} {name} exists in the database but no applied migration creates it"
        if live[key] != expected[key]:
            return f"{kind} {name} differs: database has `{live[key][1][:120]}`, files give `{expected[key][1][:120]}`"
    return "no difference found"
