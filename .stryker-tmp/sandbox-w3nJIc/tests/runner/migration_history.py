"""A small migration history and readers of a database's schema and ledger, shared by the runner tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

HISTORY = {
    "0001_accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    "0002_projects.sql": "-- projects belong to accounts\nCREATE TABLE projects (\n  id INTEGER PRIMARY KEY,\n"
                         "  account_id INTEGER NOT NULL REFERENCES accounts (id)\n);\n"
                         "CREATE INDEX projects_account ON projects (account_id);\n",
    "0003_notes.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nALTER TABLE projects ADD COLUMN title TEXT;\n",
}


def write_history(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def read_ledger_rows(path: Path) -> tuple[list[str], list[tuple]]:
    """(wrangler's ledger names in order, hyphae's (name, sha256) rows) of a SQLite file."""
    connection = sqlite3.connect(path)
    try:
        names = [row[0] for row in connection.execute("SELECT name FROM d1_migrations ORDER BY id")]
        checksums = connection.execute("SELECT name, sha256 FROM hyphae_migrations ORDER BY name").fetchall()
    finally:
        connection.close()
    return names, checksums
