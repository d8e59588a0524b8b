"""A plain replay of migration files into a sqlite3 connection, for drift tests that need a migrated
database to change out of band (the engine's replay, with D1's rules, is what drift itself uses)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from infra.history.files import read_migrations
from infra.paths import DEFAULT_MIGRATIONS_DIR


def migrated_database(path: Path | str = ":memory:", up_to: int | None = None,
                      directory: Path = DEFAULT_MIGRATIONS_DIR) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), isolation_level=None)
    for migration in read_migrations(directory):
        if up_to is None or (migration.version or 0) <= up_to:
            connection.executescript(migration.text)
    return connection
