"""The ER diagrams: the changed tables and their foreign-key neighbours, marks, odd names, a budget;
every diagram here is checked by mermaid's own parser."""

from __future__ import annotations

import sqlite3

from infra.drift.schema import read_connection_schema
from infra.review.diagram import DiagramMarks, read_foreign_keys, render_diagram
from tests.review.scenario import parse_mermaid

PARSED = {"ok": True, "type": "er", "error": None}


def schema_of(sql: str):
    connection = sqlite3.connect(":memory:")
    connection.executescript(sql)
    return read_connection_schema(connection)


TEAMS = schema_of("""
CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE members (id TEXT PRIMARY KEY, team_id TEXT NOT NULL REFERENCES teams (id), email TEXT);
CREATE TABLE invites (id TEXT PRIMARY KEY, member_id TEXT REFERENCES members (id), code TEXT);
CREATE TABLE unrelated (id INTEGER PRIMARY KEY, blob BLOB);
""")


def test_a_changed_table_brings_its_parents_and_children_with_their_keys_only():
    diagram = render_diagram(TEAMS, ["members"], DiagramMarks({"members": "changed"},
                                                              {("members", "email"): "added"}), 10_000)
    assert diagram.text == (
        "erDiagram\n"
        '    members["members · changed"] {\n'
        "        TEXT id PK\n"
        "        TEXT team_id FK\n"
        '        TEXT email "added"\n'
        "    }\n"
        '    invites["invites (2 of 3 columns)"] {\n'
        "        TEXT id PK\n"
        "        TEXT member_id FK\n"
        "    }\n"
        '    teams["teams (1 of 2 columns)"] {\n'
        "        TEXT id PK\n"
        "    }\n"
        '    invites }o--o| members : "member_id"\n'
        '    members }o--|| teams : "team_id"\n'
    )
    assert (diagram.tables_shown, diagram.tables_left_out) == (3, 0)
    assert parse_mermaid([diagram.text]) == [PARSED]


def test_foreign_keys_are_read_with_their_nullability():
    keys = {(key.child, key.columns, key.parent, key.nullable) for key in read_foreign_keys(TEAMS)}
    assert keys == {("members", ("team_id",), "teams", False), ("invites", ("member_id",), "members", True)}


def test_names_mermaid_cannot_take_become_safe_identifiers_and_still_parse():
    schema = schema_of("""
    CREATE TABLE "order items" ("line no" INTEGER PRIMARY KEY, "unit price" NUMERIC(10, 2), "x""y" TEXT,
        [3d] BLOB, weird DOUBLE PRECISION, untyped, "note" TEXT DEFAULT 'a "quoted" <b>');
    CREATE TABLE "order_items" (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES "order items" ("line no"));
    CREATE TABLE "2024-archive" (id INTEGER PRIMARY KEY);
    CREATE TABLE "Ünïcode" (id INTEGER PRIMARY KEY, "ключ" TEXT);
    """)
    marks = DiagramMarks({"order items": 'renamed from "orders"'}, {("order items", "x\"y"): 'changed: "a" → b'})
    diagram = render_diagram(schema, sorted(schema.tables), marks, 20_000)
    assert 'order_items["order items · renamed from \'orders\'"]' in diagram.text
    assert "order_items_2" in diagram.text  # the real order_items keeps a distinct identifier
    assert "_2024_archive" in diagram.text
    assert 'NUMERIC(10_2) unit_price "unit price"' in diagram.text
    assert 'TEXT x_y "changed: \'a\' → b; x\'y"' in diagram.text  # mermaid has no escape for a double quote
    assert "untyped untyped" in diagram.text
    assert parse_mermaid([diagram.text]) == [PARSED]


def test_a_wide_changed_table_shows_its_keys_and_changed_columns():
    columns = ", ".join(f"c{number} TEXT" for number in range(60))
    schema = schema_of(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {columns});")
    diagram = render_diagram(schema, ["wide"], DiagramMarks({"wide": "changed"}, {("wide", "c42"): "added"}), 20_000)
    assert 'wide["wide · changed (2 of 61 columns)"]' in diagram.text
    assert [line.strip() for line in diagram.text.splitlines()[2:4]] == ["INTEGER id PK", 'TEXT c42 "added"']
    assert parse_mermaid([diagram.text]) == [PARSED]


def test_a_diagram_over_its_budget_leaves_tables_out_and_says_how_many():
    statements = ["CREATE TABLE t0 (id INTEGER PRIMARY KEY);"]
    statements += [f"CREATE TABLE t{n} (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES t{n - 1} (id), "
                   f"label TEXT);" for n in range(1, 200)]
    schema = schema_of("\n".join(statements))
    diagram = render_diagram(schema, [f"t{n}" for n in range(200)], DiagramMarks(), 3_000)
    assert len(diagram.text) <= 3_000 + 80  # the note on what was left out comes after the budget
    assert diagram.tables_left_out == 200 - diagram.tables_shown > 0
    assert diagram.text.rstrip().endswith(f"%% {diagram.tables_left_out} more table(s) left out to keep the diagram "
                                          "readable")
    assert parse_mermaid([diagram.text]) == [PARSED]


def test_a_malformed_diagram_is_refused_by_the_parser():
    """The parser is a real check: the same entity with a broken attribute fails."""
    assert parse_mermaid(["erDiagram\n    members {\n        TEXT\n    }\n"])[0]["ok"] is False
