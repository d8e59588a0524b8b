"""Rows for the team-sync tables, generated from the live schema (whatever tables the migrations made).

A team-sync table is one whose primary key includes `machine_id` (every synced row belongs to a
machine; see migrations/0001_initial.sql). Each gets rows in proportion to how Myco fills them
(spores and prompt batches most), every column filled by its declared type, text of realistic
length for the long columns. Used by the backup benchmark and the backup tests. Writes only the
database given.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

# How a team's database is usually spread (the rest share what is left evenly).
WEIGHTS = {"spores": 30, "prompt_batches": 20, "graph_edges": 15, "entities": 10, "entity_mentions": 8,
           "sessions": 5, "plans": 3, "artifacts": 3}
LONG_COLUMNS = ("content", "summary", "user_prompt", "response_summary", "context", "properties", "description",
                "rationale", "payload")


def team_sync_tables(connection: sqlite3.Connection) -> list[str]:
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_cf\\_%' "
        "ESCAPE '\\' AND name NOT LIKE 'hyphae\\_%' ESCAPE '\\' AND name <> 'd1_migrations' ORDER BY name")]
    return [table for table in tables if any(row[1] == "machine_id" and row[5]
                                             for row in connection.execute(f'PRAGMA table_info("{table}")'))]


def fill_team_sync_tables(path: Path, total_rows: int, seed: int = 16) -> dict[str, int]:
    """Insert `total_rows` rows across the team-sync tables of the database at `path`; rows per table."""
    rng = random.Random(seed)
    connection = sqlite3.connect(path)
    try:
        tables = team_sync_tables(connection)
        shares = _shares(tables, total_rows)
        for table, rows in shares.items():
            _fill(connection, table, rows, rng)
        connection.commit()
    finally:
        connection.close()
    return shares


def _shares(tables: list[str], total: int) -> dict[str, int]:
    weights = {table: WEIGHTS.get(table, 1) for table in tables}
    scale = total / sum(weights.values())
    shares = {table: int(weight * scale) for table, weight in weights.items()}
    shares[max(weights, key=weights.get)] += total - sum(shares.values())
    return shares


def _fill(connection: sqlite3.Connection, table: str, rows: int, rng: random.Random) -> None:
    columns = [(row[1], (row[2] or "").upper(), bool(row[5])) for row in connection.execute(f'PRAGMA table_info("{table}")')]
    names = ", ".join(f'"{name}"' for name, _type, _pk in columns)
    marks = ", ".join("?" for _ in columns)
    machines = 7 if sum(key for _name, _type, key in columns) > 1 else rows  # machine_id alone as the key: unique
    words = ["memory", "sync", "agent", "session", "spore", "graph", "plan", "vector", "team", "edge", "prompt", "d1"]

    def value(index: int, name: str, declared: str, key: bool):
        if name == "machine_id":
            return f"machine-{index % machines}"
        if key:
            return index if "INT" in declared else f"{table}-{index:08d}"
        if "INT" in declared:
            return 1_700_000_000 + index
        if "REAL" in declared or "FLOA" in declared:
            return round(rng.random(), 4)
        length = 40 if name in LONG_COLUMNS else 3
        return " ".join(rng.choice(words) for _ in range(length))

    batch = []
    for index in range(rows):
        batch.append(tuple(value(index, name, declared, key) for name, declared, key in columns))
        if len(batch) == 10_000:
            connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', batch)
            batch = []
    if batch:
        connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', batch)
