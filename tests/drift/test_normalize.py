"""The sqlglot lens: quoting, case and whitespace don't count; meaning does."""

from __future__ import annotations

import pytest

from infra.drift.normalize import (
    mentioned_names,
    normalize_expression,
    normalize_statement,
    normalize_tokens,
    normalize_type,
    read_generated_columns,
    read_index_sql,
    read_table_checks,
)


@pytest.mark.parametrize("left, right", [
    ("(0)", "0"),
    ("'active'", "( 'active' )"),
    ('lower("Name")', "LOWER( name )"),
    ("[b] > 0", "B>0"),
    ("CURRENT_TIMESTAMP", "current_timestamp"),
])
def test_equal_expressions_normalize_alike(left, right):
    assert normalize_expression(left) == normalize_expression(right)


@pytest.mark.parametrize("left, right", [("'active'", "'Active'"), ("0", "1"), ("1 + 1", "2"), ("a > 0", "a >= 0")])
def test_different_expressions_stay_different(left, right):
    assert normalize_expression(left) != normalize_expression(right)


def test_types_are_compared_by_their_words_not_their_synonyms():
    assert normalize_type("varchar( 10 )") == normalize_type("VARCHAR(10)")
    assert normalize_type("INT") != normalize_type("INTEGER")  # only INTEGER PRIMARY KEY aliases the rowid
    assert normalize_type(None) == ""


def test_views_and_triggers_normalize_without_a_grammar_for_triggers():
    assert normalize_statement('create view "V" as select A from T') == normalize_statement("CREATE VIEW v AS SELECT a FROM t")
    trigger = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END"
    assert normalize_statement(trigger) == normalize_statement('create trigger "TR" after insert on [T]\nbegin update t set A=1; end')
    assert normalize_statement(trigger) != normalize_statement(trigger.replace("a = 1", "a = 2"))


def test_index_keys_and_partial_where_come_from_the_statement():
    assert read_index_sql("CREATE INDEX i ON t(lower(b), c DESC) WHERE b>0") == (("LOWER(b)", "c"), "b > 0")
    assert read_index_sql(None) == ((), None)
    assert read_index_sql("not sql at all (") == ((), None)


def test_check_constraints_are_read_from_the_table_statement():
    sql = "CREATE TABLE t (id INTEGER CHECK (id = 1), b INT, CHECK(b>0))"
    assert read_table_checks(sql) == ("b > 0", "id = 1")


def test_generated_column_expressions_are_read_from_the_table_statement_whatever_their_spelling():
    sql = "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a + 1) STORED, c AS (lower(\"A\")) VIRTUAL, d TEXT)"
    assert read_generated_columns(sql) == (("b", "a + 1"), ("c", "LOWER(a)"))
    assert read_generated_columns(sql) == read_generated_columns(
        'create table "T" ("A" int, "B" int as ( "A"+1 ) stored, [C] generated always as (LOWER(a)))')
    assert read_generated_columns(sql.replace("a + 1", "a + 2")) != read_generated_columns(sql)
    assert read_generated_columns(None) == ()
    assert read_generated_columns("not sql at all (") == ()


def test_mentioned_names_lists_identifiers_in_lower_case():
    assert {"team_dlq", "replay_count"} <= mentioned_names('ALTER TABLE "Team_DLQ" ADD COLUMN replay_count INTEGER')


def test_the_token_form_keeps_literals_verbatim_and_folds_names_and_keywords():
    """Guards against a trigger body's string literal losing its case or quote escaping (two
    different triggers would compare equal, or one trigger unequal to itself), and against the
    fallback for text the tokenizer refuses losing its words."""
    assert normalize_tokens("create trigger T after insert on \"X\" begin select 'It''s', [Col]; end") == (
        "CREATE TRIGGER t after INSERT ON x BEGIN SELECT 'It''s' , col ; END")
    assert normalize_tokens("select 'A'") != normalize_tokens("select 'a'")
    assert normalize_tokens("'unterminated   text") == "'unterminated text"
    assert normalize_tokens("") == ""


def test_mentioned_names_of_text_the_tokenizer_refuses_are_its_words_in_lower_case():
    """Guards against a migration with an unterminated string naming no table (its edits or pending
    changes would then never be blamed on it)."""
    assert mentioned_names("UPDATE Spores SET Title_2 = 'x") == {"update", "spores", "set", "title_2", "x"}


def test_generated_expressions_are_found_past_nested_parentheses_and_constraints():
    """Guards against the reader cutting an expression at an inner parenthesis, taking a CHECK's
    or DEFAULT's parentheses for the generated one, splitting at a comma inside parentheses, or
    inventing an expression for a `CREATE TABLE ... AS SELECT`, an empty or an unclosed `AS (`."""
    assert read_generated_columns(
        "CREATE TABLE t (a INT DEFAULT (1), b INT GENERATED ALWAYS AS ((a + 1) * 2) VIRTUAL, "
        "c TEXT CHECK (length(c) > 0) AS (upper(c)) STORED, CONSTRAINT k UNIQUE (a, b), d AS (max(a, 2)))"
    ) == (("b", "(a + 1) * 2"), ("c", "UPPER(c)"), ("d", "MAX(a, 2)"))
    assert read_generated_columns("CREATE TABLE t AS SELECT 1 AS x") == ()
    assert read_generated_columns("CREATE TABLE t (a INT, b AS ())") == ()
    assert read_generated_columns("CREATE TABLE t (a INT, b AS (a") == ()


def test_sqlglots_fallback_warning_never_reaches_the_output(caplog):
    """Guards against sqlglot's "unsupported syntax, falling back to a Command" warning being
    logged while the lens reads a statement, when logging sets sqlglot's own logger to WARNING
    (quieting another logger would not quiet it), and against that level not being restored."""
    import logging

    statement = "CREATE TABLE t (a TEXT PRIMARY KEY) WITHOUT ROWID"
    caplog.set_level(logging.WARNING, logger="sqlglot")
    assert normalize_statement(statement) == normalize_tokens(statement)
    assert caplog.records == []
    assert logging.getLogger("sqlglot").level == logging.WARNING
