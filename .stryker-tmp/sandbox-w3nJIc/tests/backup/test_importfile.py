"""The import file keeps every statement under D1's 100,000-byte limit and loads back to the same data."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from infra.backup.importfile import import_statements
from infra.d1.rules import STATEMENT_MAX_BYTES, d1_transaction, open_d1_database
from tests.backup.helpers import snapshot


def test_large_text_and_blobs_are_written_in_pieces_that_d1_accepts(tmp_path: Path):
    source = sqlite3.connect(tmp_path / "source.sqlite")
    source.executescript(
        "CREATE TABLE keyed (id INTEGER PRIMARY KEY, body TEXT NOT NULL CHECK (length(body) > 250000), raw BLOB);"
        "CREATE TABLE pairs (a TEXT, b TEXT, note TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;"
        "CREATE TABLE loose (body TEXT, raw BLOB);")
    text, blob = "üñí 'quoted'\nline " * 15_000, os.urandom(300_000)
    source.execute("INSERT INTO keyed VALUES (1, ?, ?)", (text, blob))
    source.execute("INSERT INTO pairs VALUES ('x', 'y', ?)", (text,))
    source.execute("INSERT INTO loose VALUES ('small', NULL), (?, ?)", (text, blob))
    source.commit()
    statements = list(import_statements(source, []))
    source.close()
    assert max(len(statement.encode()) for statement in statements) < STATEMENT_MAX_BYTES
    assert any(statement.startswith('UPDATE "pairs" SET "note" = "note" || ') and "WHERE \"a\" = 'x' AND \"b\" = 'y'"
               in statement for statement in statements)
    assert any("WHERE rowid = last_insert_rowid()" in statement for statement in statements)

    target = open_d1_database(tmp_path / "target.sqlite")  # D1's rules: its statement limit, its pragmas
    with d1_transaction(target):
        for statement in statements:
            target.execute(statement)
    target.close()
    assert snapshot(tmp_path / "target.sqlite") == snapshot(tmp_path / "source.sqlite")
