"""The one-query reader's model, built from rows as SCHEMA_QUERY returns them (pure)."""

from __future__ import annotations

import json
import sqlite3

from infra.drift.schema import Column, Index, Table, Trigger, View, build_schema, read_connection_schema


def _schema_of(*statements: str):
    connection = sqlite3.connect(":memory:")
    for statement in statements:
        connection.execute(statement)
    return read_connection_schema(connection)


def test_unique_constraints_come_from_autoindexes_and_primary_keys_do_not():
    """Guards against a UNIQUE constraint being lost, or a PRIMARY KEY's autoindex taken for one."""
    schema = _schema_of("CREATE TABLE T (a TEXT PRIMARY KEY, b TEXT, c TEXT, UNIQUE (c, b), UNIQUE (b))")
    assert schema.tables["t"].unique_constraints == (("b",), ("c", "b"))
    assert schema.indexes == {}
    assert schema.object_count() == 1


def test_every_object_is_keyed_and_named_in_lower_case():
    """Guards against a mixed-case name making the same object two objects (SQLite names are case-insensitive)."""
    schema = _schema_of("CREATE TABLE Items (Id INTEGER PRIMARY KEY, Name TEXT NOT NULL DEFAULT ('x'))",
                        "CREATE INDEX Idx_Items_Name ON Items(Name COLLATE NOCASE DESC)",
                        "CREATE VIEW V_Items AS SELECT Name FROM Items",
                        "CREATE TRIGGER Trg AFTER INSERT ON Items BEGIN SELECT 1; END")
    assert schema.tables == {"items": Table("items", (Column("id", "INTEGER", False, None, 1),
                                                      Column("name", "TEXT", True, "'x'", 0)))}
    assert schema.tables["items"].column("name") == Column("name", "TEXT", True, "'x'", 0)
    assert schema.tables["items"].column("nope") is None
    assert schema.indexes == {"idx_items_name": Index("idx_items_name", "items", ("name COLLATE NOCASE DESC",), False, None)}
    assert schema.views == {"v_items": View("v_items", "CREATE VIEW v_items AS SELECT name FROM items")}
    assert schema.triggers == {"trg": Trigger("trg", "items", "CREATE TRIGGER trg after INSERT ON items BEGIN SELECT 1 ; END")}
    assert schema.object_count() == 4


def test_foreign_keys_group_their_columns_and_name_the_actions():
    """Guards against a composite foreign key split in two, its columns or actions lost, or one
    naming no parent columns (it references the parent's primary key) misread."""
    schema = _schema_of("CREATE TABLE p (a INTEGER, b INTEGER, PRIMARY KEY (a, b))",
                        "CREATE TABLE c (x INTEGER, y INTEGER, z INTEGER, FOREIGN KEY (x, y) REFERENCES P(a, b) "
                        "ON UPDATE CASCADE ON DELETE SET NULL, FOREIGN KEY (z) REFERENCES p)")
    assert schema.tables["c"].foreign_keys == (
        "(x, y) REFERENCES p(a, b) ON UPDATE CASCADE ON DELETE SET NULL",
        "(z) REFERENCES p() ON UPDATE NO ACTION ON DELETE NO ACTION")


def test_rows_as_d1_returns_them_build_the_same_model():
    """Guards against the JSON columns read only as text (D1) or only as lists, and against a
    virtual table's hidden columns or an index without flags breaking the model."""
    rows = [
        {"type": "table", "name": "t", "table_name": "t", "sql": "CREATE TABLE t (a INT, g INT AS (a + 1) STORED)",
         "columns": [["a", "INT", 0, None, 0, 0], ["g", "INT", 0, None, 0, 3], ["hidden_x", "", 0, None, 0, 1]],
         "foreign_keys": "", "index_columns": None, "index_flags": None},
        {"type": "index", "name": "i", "table_name": "t", "sql": "CREATE INDEX i ON t(a)",
         "columns": None, "foreign_keys": None, "index_columns": json.dumps([["a", 0, "BINARY"]]), "index_flags": None},
    ]
    schema = build_schema(rows)
    assert schema.tables["t"].columns == (Column("a", "INT", False, None, 0),
                                          Column("g", "INT", False, None, 0, "AS (a + 1) STORED"))
    assert schema.tables["t"].foreign_keys == ()
    assert schema.indexes["i"] == Index("i", "t", ("a",), False, None)


def test_a_generated_column_whose_expression_cannot_be_read_says_so():
    """Guards against an unreadable generated expression comparing equal to any other (or failing)."""
    rows = [{"type": "table", "name": "t", "table_name": "t", "sql": None,
             "columns": [["g", "INT", 0, None, 0, 2]], "foreign_keys": None, "index_columns": None, "index_flags": None}]
    assert build_schema(rows).tables["t"].columns == (Column("g", "INT", False, None, 0, "AS (<unreadable expression>) VIRTUAL"),)


def test_without_rowid_is_read_whatever_its_spacing_and_case():
    """Guards against WITHOUT ROWID being missed when written in lower case or across lines."""
    assert _schema_of("CREATE TABLE t (a TEXT PRIMARY KEY) without\n  rowid").tables["t"].without_rowid is True
    assert _schema_of("CREATE TABLE t (a TEXT PRIMARY KEY)").tables["t"].without_rowid is False


def test_an_autoindex_row_without_flags_is_no_unique_constraint_and_breaks_nothing():
    """Guards against a sqlite_autoindex row that came back without its flags failing the whole
    read, or being taken for a UNIQUE constraint it cannot be shown to be."""
    rows = [
        {"type": "index", "name": "sqlite_autoindex_t_1", "table_name": "t", "sql": None, "columns": None,
         "foreign_keys": None, "index_columns": [["a", 0, "BINARY"]], "index_flags": None},
        {"type": "table", "name": "t", "table_name": "t", "sql": "CREATE TABLE t (a TEXT)",
         "columns": [["a", "TEXT", 0, None, 0, 0]], "foreign_keys": None, "index_columns": None, "index_flags": None},
    ]
    schema = build_schema(rows)
    assert schema.tables["t"].unique_constraints == () and schema.indexes == {}


def test_a_virtual_table_declared_without_arguments_is_read():
    """Guards against a CREATE statement with no parenthesised list (`USING dbstat`) failing the
    whole read while looking for its generated columns."""
    schema = _schema_of("CREATE VIRTUAL TABLE s USING dbstat")
    assert list(schema.tables) == ["s"] and all(column.generated is None for column in schema.tables["s"].columns)


def test_a_generated_first_column_keeps_its_expression():
    """Guards against the first column definition losing its name token, so the first column's
    generated expression is never found."""
    schema = _schema_of("CREATE TABLE t (g INTEGER AS (1) VIRTUAL, a INTEGER, h AS (a * 2) STORED)")
    assert [(column.name, column.generated) for column in schema.tables["t"].columns] == [
        ("g", "AS (1) VIRTUAL"), ("a", None), ("h", "AS (a * 2) STORED")]
