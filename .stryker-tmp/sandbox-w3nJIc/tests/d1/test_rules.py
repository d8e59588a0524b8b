"""D1's rules on sqlite3: the authorizer's answers, the limits, the runner's own transactions."""

from __future__ import annotations

import sqlite3

import pytest

from infra.d1.rules import (
    d1_transaction,
    last_denial,
    open_d1_database,
    runner_privileges,
)


@pytest.fixture
def database():
    connection = open_d1_database(":memory:", protect_ledger=True)
    connection.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    connection.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE)")
    yield connection
    connection.close()


@pytest.mark.parametrize("sql", ["BEGIN", "COMMIT", "SAVEPOINT a", "ATTACH ':memory:' AS x", "CREATE TEMP TABLE t (a)",
                                 "CREATE TABLE _cf_t (a)", "PRAGMA journal_mode", "SELECT sqlite_version()",
                                 "CREATE VIRTUAL TABLE v USING fts4(a)", "CREATE TABLE d1_migrations (id)",
                                 "CREATE TABLE hyphae_ledger (id)"])
def test_refused_statements_raise_and_record_the_denial(database, sql):
    with pytest.raises(sqlite3.DatabaseError):
        database.execute(sql)
    assert last_denial(database) is not None


def test_foreign_keys_cannot_be_switched_off_as_on_d1(database):
    database.execute("PRAGMA foreign_keys = OFF")
    assert database.execute("PRAGMA foreign_keys").fetchone() == (1,)
    database.execute("INSERT INTO parent (id) VALUES (1)")
    database.execute("INSERT INTO child (id, parent_id) VALUES (1, 1)")
    database.execute("DROP TABLE parent")  # the implicit DELETE cascades, as it does on D1
    assert database.execute("SELECT count(*) FROM child").fetchone() == (0,)


def test_limits_match_d1(database):
    with pytest.raises(sqlite3.OperationalError, match="too many columns"):
        database.execute("CREATE TABLE wide (" + ", ".join(f"c{i}" for i in range(101)) + ")")
    with pytest.raises(sqlite3.OperationalError, match="too many terms"):
        database.execute(" UNION ALL ".join(["SELECT 1"] * 6))
    with pytest.raises(sqlite3.DataError):
        database.execute("SELECT '" + "x" * 100_001 + "'")


def test_the_runner_transaction_commits_or_rolls_back_whole(database):
    with d1_transaction(database):
        database.execute("INSERT INTO parent (id) VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError), d1_transaction(database):
        database.execute("INSERT INTO parent (id) VALUES (2)")
        database.execute("INSERT INTO parent (id) VALUES (1)")
    assert database.execute("SELECT id FROM parent").fetchall() == [(1,)]


def test_runner_privileges_let_bookkeeping_through_only_inside_the_block(database):
    with runner_privileges(database):
        database.execute("CREATE TABLE hyphae_ledger (id INTEGER PRIMARY KEY)")
    with pytest.raises(sqlite3.DatabaseError):
        database.execute("INSERT INTO hyphae_ledger (id) VALUES (1)")
