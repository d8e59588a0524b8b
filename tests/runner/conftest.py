"""Fixtures for runner tests: a small migration history, the local database, a remote one on the loopback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from infra.d1.rules import is_ledger_table
from infra.environments import load_environment
from infra.paths import local_d1_file

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


def read_schema(path: Path) -> list[tuple]:
    """The user schema of a SQLite file (ledger and internal objects left out)."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        connection.close()
    return [row for row in rows if not is_ledger_table(row[2]) and not row[1].startswith(("sqlite_", "_cf_"))]


def read_ledger_rows(path: Path) -> tuple[list[str], list[tuple]]:
    """(wrangler's ledger names in order, hyphae's (name, sha256) rows) of a SQLite file."""
    connection = sqlite3.connect(path)
    try:
        names = [row[0] for row in connection.execute("SELECT name FROM d1_migrations ORDER BY id")]
        checksums = connection.execute("SELECT name, sha256 FROM hyphae_migrations ORDER BY name").fetchall()
    finally:
        connection.close()
    return names, checksums


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return write_history(tmp_path / "migrations", HISTORY)


@pytest.fixture
def local_database() -> Path:
    """Where `local` migrates to (inside this test's HYPHAE_STATE_DIR)."""
    return local_d1_file(load_environment("local").local_database_id)


@pytest.fixture
def remote_database(cloudflare_env, monkeypatch) -> Path:
    """Environment `dev` pointed at a fresh loopback D1 database; returns the database's file."""
    database_id = cloudflare_env.d1.add_database(name="myco-team-dev")
    monkeypatch.setenv("HYPHAE_DEV_DATABASE_ID", database_id)
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    return cloudflare_env.d1.path(database_id)


@pytest.fixture(params=["local", "dev"])
def environment(request) -> tuple[str, Path]:
    """Each runner test twice: against `local` and against `dev` on the loopback API."""
    if request.param == "local":
        return "local", request.getfixturevalue("local_database")
    return "dev", request.getfixturevalue("remote_database")
