"""What rules read of a statement: the fast checks that an UPDATE or DELETE has its own WHERE and that
an ADD COLUMN is one no static rule reports on (so sqlglot need not read it)."""

from __future__ import annotations

import pytest

from infra.lint.context import certainly_has_where, plain_add_column


@pytest.mark.parametrize(("sql", "expected"), [
    ("UPDATE t SET a = 1 WHERE id = 2", True),
    ("update t set a = case when b then 1 else 0 end where id = 2", True),
    ("DELETE FROM t WHERE id = 'a''(b'", True),
    ("UPDATE t SET a = 'x WHERE y'", False),
    ('UPDATE "where" SET a = 1', False),
    ("DELETE FROM [where]", False),
    ("DELETE FROM t -- WHERE x\n", False),
    ("UPDATE t SET a = 1 /* WHERE */", False),
    ("UPDATE t SET a = (SELECT b FROM u WHERE u.id = t.id)", False),  # only sqlglot can tell whose WHERE
    ("DELETE FROM t WHERE id IN (1, 2)", False),
])
def test_certainly_has_where_only_for_a_where_outside_strings_comments_and_parentheses(sql, expected):
    assert certainly_has_where(sql) is expected


@pytest.mark.parametrize(("sql", "expected"), [
    ("ALTER TABLE t5 ADD COLUMN c2_3 INTEGER NOT NULL DEFAULT 0;", True),
    ("ALTER TABLE t ADD x TEXT", True),
    ("alter table \"t\" add column `x` varchar(20) default 'a''b'", True),
    ("ALTER TABLE t ADD COLUMN x INTEGER DEFAULT -1 NOT NULL", True),
    ("ALTER TABLE t ADD COLUMN x TEXT NOT NULL;", False),  # SQL002 on a table with rows
    ("ALTER TABLE t ADD COLUMN x TEXT DEFAULT NULL NOT NULL", False),
    ("ALTER TABLE t ADD COLUMN IF NOT EXISTS x TEXT;", False),  # SQL001
    ("ALTER TABLE t ADD COLUMN x TEXT UNIQUE;", False),
    ("ALTER TABLE t ADD COLUMN x TEXT, ADD COLUMN y TEXT;", False),
    ("ALTER TABLE t ADD COLUMN x TEXT DEFAULT (1);", False),
    ("ALTER TABLE t ADD COLUMN x TEXT DEFAULT CURRENT_TIMESTAMP;", False),
    ("ALTER TABLE t ADD COLUMN x INTEGER REFERENCES u (id)", False),
    ("ALTER TABLE t ADD CONSTRAINT c UNIQUE (x);", False),
    ("ALTER TABLE t DROP COLUMN x", False),
    ("ALTER TABLE t RENAME TO u", False),
    ("-- a comment\nALTER TABLE t ADD COLUMN x TEXT", False),
])
def test_plain_add_column_only_for_one_nullable_or_constant_default_column(sql, expected):
    assert plain_add_column(sql) is expected
