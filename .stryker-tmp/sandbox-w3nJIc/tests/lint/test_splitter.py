"""The statement splitter: SQLite's own idea of where a statement ends, with positions and comments."""

from __future__ import annotations

from infra.lint.splitter import split_statements, split_with_loose_comments


def test_trigger_body_with_semicolons_is_one_statement():
    text = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  DELETE FROM b;\nEND;\nSELECT 1;"
    statements = split_statements(text)
    assert [statement.line for statement in statements] == [1, 5]
    assert statements[0].sql.endswith("END;")


def test_strings_and_comments_holding_semicolons_and_dashes():
    text = "INSERT INTO a VALUES ('x;y', '--z'); /* ; */ SELECT 1; -- trailing ;\nSELECT 2"
    assert [statement.sql for statement in split_statements(text)] == [
        "INSERT INTO a VALUES ('x;y', '--z');", "SELECT 1;", "SELECT 2"]


def test_case_end_comma_does_not_end_the_statement():
    text = "SELECT CASE WHEN a THEN 1 END, 2 FROM t;\nSELECT 3;"
    assert len(split_statements(text)) == 2


def test_case_end_comma_inside_a_trigger_body_does_not_end_the_trigger():
    text = ("CREATE TRIGGER t AFTER UPDATE ON a BEGIN\n  UPDATE a SET x = CASE WHEN new.y THEN 1 ELSE 0 END, z = 'a;b'"
            " WHERE id = new.id;\nEND;\nSELECT 1;")
    assert [statement.line for statement in split_statements(text)] == [1, 4]


def test_line_column_and_leading_comments():
    text = "-- header\n\n-- hyphae: allow SAFE001 why\n  DROP TABLE a;"
    (statement,) = split_statements(text, "f.sql")
    assert (statement.file, statement.line, statement.column) == ("f.sql", 4, 3)
    assert statement.leading_comments == ("-- hyphae: allow SAFE001 why",)


def test_comments_that_lead_no_statement_are_returned_with_their_lines():
    text = ("-- header\n\nSELECT 1; -- trailing, belongs to SELECT 1\n-- leads SELECT 2\nSELECT 2;\n"
            "; -- after an empty statement\nSELECT '\n-- in a string';\n/* end\nof file */\n")
    statements, loose = split_with_loose_comments(text, "f.sql")
    assert [(statement.line, statement.leading_comments, statement.leading_comment_positions) for statement in statements] == [
        (3, (), ()), (5, ("-- leads SELECT 2",), ((4, 1),)), (7, (), ())]
    assert loose == [(1, 1, "-- header"), (3, 11, "-- trailing, belongs to SELECT 1"), (6, 3, "-- after an empty statement"),
                     (9, 1, "/* end\nof file */")]
