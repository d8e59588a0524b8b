"""The engine's trace of a dropped table's rows (infra/lint/rebuilds.py): which DROP TABLEs it
follows, what it reports, and that it leaves the replay's database as it found it."""

from __future__ import annotations

import pytest

from infra.d1.rules import open_d1_database, runner_privileges
from infra.lint.rebuilds import dropped_tables, trace_rebuilds
from infra.lint.seeding import seed_representative_rows
from infra.lint.splitter import split_statements

SCHEMA = """CREATE TABLE message (id TEXT NOT NULL PRIMARY KEY, subject TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('new', 'sent')), body BLOB, score REAL);
CREATE TABLE label (id INTEGER PRIMARY KEY, message_id TEXT REFERENCES message (id) ON DELETE CASCADE, name TEXT);
"""
NEW_MESSAGE = ("CREATE TABLE __new_message (id TEXT NOT NULL PRIMARY KEY, subject TEXT NOT NULL, "
               "state TEXT NOT NULL CHECK (state IN ('new', 'sent')), body BLOB, score REAL, sent_at INTEGER);\n")


@pytest.fixture
def replay():
    """A scratch database as the replay with rows holds it before a migration: tables with a row."""
    connection = open_d1_database(":memory:", protect_ledger=True)
    with runner_privileges(connection):
        connection.executescript(SCHEMA)
        connection.execute("INSERT INTO message VALUES ('m1', 'hello', 'sent', x'00', 1.5)")
    seed_representative_rows(connection)
    yield connection
    connection.close()


def trace(connection, sql: str):
    statements = tuple(split_statements(sql))
    return trace_rebuilds(connection, statements, frozenset({"message", "label"}))


def test_dropped_tables_follows_renames_made_earlier_in_the_file():
    sql = ("ALTER TABLE message RENAME TO message_old;\nCREATE TABLE message (id TEXT);\n"
           "DROP TABLE IF EXISTS `message_old`;\nDROP TABLE \"Label\";\nDROP TABLE fresh;\nDROP TABLE message;")
    assert dropped_tables(tuple(split_statements(sql)), frozenset({"message", "label"})) == {2: "message", 3: "label"}


def test_a_file_that_drops_no_existing_table_is_not_run_again(replay):
    assert trace(replay, "CREATE TABLE fresh (id TEXT);\nDROP TABLE fresh;") == {}


def test_a_rebuild_that_copies_every_column_and_row_keeps_everything(replay):
    outcomes = trace(replay, NEW_MESSAGE + "INSERT INTO __new_message (id, subject, state, body, score) "
                     "SELECT id, subject, state, body, score FROM message;\nDROP TABLE message;\n"
                     "ALTER TABLE __new_message RENAME TO message;")
    assert outcomes[2].what_is_lost() is None


def test_a_rebuild_under_the_old_name_after_renaming_the_old_table_keeps_everything(replay):
    outcomes = trace(replay, "ALTER TABLE message RENAME TO message_old;\n" + NEW_MESSAGE.replace("__new_message", "message")
                     + "INSERT INTO message (id, subject, state, body, score) SELECT * FROM message_old;\n"
                     "DROP TABLE message_old;")
    assert outcomes[3].table == "message" and outcomes[3].what_is_lost() is None


def test_a_rebuild_that_leaves_out_a_column_names_it(replay):
    outcomes = trace(replay, NEW_MESSAGE + "INSERT INTO __new_message (id, subject, state, score) "
                     "SELECT id, subject, state, score FROM message;\nDROP TABLE message;\n"
                     "ALTER TABLE __new_message RENAME TO message;")
    assert outcomes[2].lost == ("body",)
    assert outcomes[2].what_is_lost() == ("; column(s) body do not reach the table named message at the end of the "
                                          "migration (the rebuild leaves them out)")


def test_a_rebuild_that_copies_a_column_under_another_name_is_a_rename_not_a_loss(replay):
    outcomes = trace(replay, NEW_MESSAGE.replace("score REAL", "rating REAL")
                     + "INSERT INTO __new_message (id, subject, state, body, rating) "
                     "SELECT id, subject, state, body, score FROM message;\nDROP TABLE message;\n"
                     "ALTER TABLE __new_message RENAME TO message;")
    assert outcomes[2].renamed == (("score", "rating"),) and outcomes[2].what_is_lost() is None


def test_a_copy_that_filters_rows_says_how_many_arrive(replay):
    outcomes = trace(replay, NEW_MESSAGE + "INSERT INTO __new_message (id, subject, state, body, score) "
                     "SELECT id, subject, state, body, score FROM message WHERE id <> 'm1';\nDROP TABLE message;\n"
                     "ALTER TABLE __new_message RENAME TO message;")
    assert outcomes[2].what_is_lost() == ("; the table named message at the end of the migration holds 1 of the 2 "
                                          "rows it held (the copy leaves some out)")


def test_a_copy_that_fails_on_the_rows_names_its_line(replay):
    outcomes = trace(replay, NEW_MESSAGE.replace("score REAL", "score REAL NOT NULL")
                     + "INSERT INTO __new_message (id, subject, state, body, score) SELECT id, subject, state, body, NULL "
                     "FROM message;\nDROP TABLE message;\nALTER TABLE __new_message RENAME TO message;")
    assert outcomes[2].what_is_lost() == ("; its rows do not reach the table named message at the end of the "
                                          "migration (line 2 fails with rows)")


def test_a_plain_drop_proves_nothing_and_adds_nothing_to_the_message(replay):
    assert trace(replay, "DROP TABLE label;")[0].what_is_lost() == ""


def test_the_trace_leaves_schema_rows_and_settings_as_they_were(replay):
    def state():
        with runner_privileges(replay):
            return (replay.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
                    replay.execute("SELECT * FROM message ORDER BY id").fetchall(),
                    replay.execute("SELECT * FROM label ORDER BY id").fetchall(),
                    replay.execute("PRAGMA ignore_check_constraints").fetchone(),
                    replay.execute("PRAGMA defer_foreign_keys").fetchone(), replay.in_transaction)

    before = state()
    trace(replay, NEW_MESSAGE + "INSERT INTO __new_message SELECT *, 0 FROM message;\nDROP TABLE message;\n"
          "ALTER TABLE __new_message RENAME TO message;\nDELETE FROM label;")
    assert state() == before
