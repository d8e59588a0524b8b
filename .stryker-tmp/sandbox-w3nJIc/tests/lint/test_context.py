"""What rules read of a statement: the fast check that an UPDATE or DELETE has its own WHERE."""

from __future__ import annotations

import pytest

from infra.lint.context import certainly_has_where


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
