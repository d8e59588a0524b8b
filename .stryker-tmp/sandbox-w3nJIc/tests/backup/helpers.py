"""Helpers for the backup tests: databases with awkward rows, and a snapshot to compare two databases by.

`snapshot(path)` is every object's SQL and every row of every table (values with their Python
type, so INTEGER 3 and REAL 3.0 differ), D1's and SQLite's internal tables, FTS5 shadow tables and
the migration lease left out: two databases with equal snapshots hold the same data.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from infra.environments import load_environment
from infra.paths import DEFAULT_MIGRATIONS_DIR, local_d1_file
from infra.runner.apply import run_migrate

# Values that trip dump formats: quotes, line breaks beside literal "\n", big integers, whole REALs, blobs.
AWKWARD_SUMMARIES = [
    "it's a \"quoted\" summary",
    'json {"text": "line one\\nline two"}\nwith a real line break',
    "carriage\r\nreturn and a literal \\r",
    "unicode: ü 😀 — ∑",
    "",
]
BIG_VALUE = "long transcript line\n" * 15_000  # ~315 KB: one INSERT over D1's 100,000-byte statement limit


def local_database() -> Path:
    return local_d1_file(load_environment("local").local_database_id)


def migrate_local() -> Path:
    run_migrate("local", DEFAULT_MIGRATIONS_DIR)
    return local_database()


def add_awkward_rows(path: Path, *, big: bool = True) -> None:
    """Sessions and edges holding values that dump formats get wrong, and optionally one huge row."""
    connection = sqlite3.connect(path)
    try:
        for number, summary in enumerate(AWKWARD_SUMMARIES):
            connection.execute("INSERT INTO sessions (id, machine_id, agent, started_at, created_at, summary, "
                               "prompt_count) VALUES (?, 'm1', 'claude', ?, 1, ?, ?)",
                               (f"s{number}", 2 ** 60 + number, summary, None if number else 7))
        connection.execute("INSERT INTO graph_edges (id, machine_id, agent_id, source_id, source_type, target_id, "
                           "target_type, type, created_at, confidence) VALUES ('e1', 'm1', 'a', 's', 't', 'u', 'v', "
                           "'w', 1, 3.0)")
        if big:
            connection.execute("INSERT INTO spores (id, machine_id, agent_id, observation_type, content, created_at) "
                               "VALUES ('big', 'm1', 'a', 'note', ?, 1)", (BIG_VALUE,))
        connection.commit()
    finally:
        connection.close()


def snapshot(path: Path) -> dict:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        objects = connection.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                     "ORDER BY type, name").fetchall()
        virtual = [name for kind, name, sql in objects if kind == "table" and sql.upper().startswith("CREATE VIRTUAL")]
        shadows = {f"{name}_{suffix}" for name in virtual for suffix in ("data", "idx", "content", "docsize", "config")}
        kept = [(kind, name, sql) for kind, name, sql in objects
                if not name.startswith(("_cf_", "sqlite_")) and name not in shadows]
        rows = {}
        for kind, name, sql in kept:
            if kind != "table" or name == "hyphae_lock":
                continue
            if name in virtual:
                if "fts5vocab" in sql.lower():
                    continue
                cursor = connection.execute(f'SELECT rowid, * FROM "{name}"')
            else:
                cursor = connection.execute(f'SELECT * FROM "{name}"')
            rows[name] = sorted(repr(tuple((type(value).__name__, value) for value in row)) for row in cursor)
        return {"objects": kept, "rows": rows}
    finally:
        connection.close()
