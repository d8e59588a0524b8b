"""hyphae's D1 verdicts agree with the real workerd D1, statement by statement.

A corpus of allowed and refused statements runs in the pinned workerd (miniflare from
node_modules, one process for the whole corpus, tests/d1/workerd_verdicts.mjs) and in hyphae's
imitation (infra/d1/rules.py on sqlite3, plus the linter's static D1 rules). The function
allowlist in infra/d1/functions.py is re-derived from workerd the same way it was made.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

from infra.d1.functions import ALLOWED_FUNCTIONS
from infra.d1.rules import open_d1_database
from infra.lint.context import SchemaView, StatementContext
from infra.lint.engine import execute, run_static_rules
from infra.lint.splitter import Statement
from infra.paths import REPO_ROOT
from tests.conftest import node_toolchain_available

pytestmark = [pytest.mark.workerd,
              pytest.mark.skipif(not node_toolchain_available(), reason="needs node_modules (./run installs it)")]

SETUP = ["CREATE TABLE base (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)"]
WIDE = lambda count, name: f"CREATE TABLE {name} (" + ", ".join(f"c{i} INTEGER" for i in range(count)) + ")"  # noqa: E731
COMPOUND = lambda terms: " UNION ALL ".join(f"SELECT {i}" for i in range(terms))  # noqa: E731

CORPUS = [
    # allowed
    "CREATE TABLE IF NOT EXISTS c1 (a INTEGER, b TEXT)",
    "ALTER TABLE c1 ADD COLUMN d TEXT",
    "CREATE INDEX IF NOT EXISTS i1 ON c1 (a)",
    "CREATE VIEW IF NOT EXISTS v1 AS SELECT a FROM c1",
    "CREATE TRIGGER IF NOT EXISTS tr1 AFTER INSERT ON c1 BEGIN UPDATE c1 SET b = 'x' WHERE a = new.a; END",
    "INSERT INTO c1 (a) VALUES (1)",
    "UPDATE base SET n = 1 WHERE id = 1",
    "DELETE FROM base WHERE id = 2",
    "SELECT json_extract('{\"a\": 1}', '$.a'), abs(-1), upper('a'), coalesce(NULL, 1), iif(1, 2, 3)",
    "SELECT unixepoch(), datetime('now'), printf('%d', 1), round(1.5), group_concat(name) FROM base",
    "CREATE VIRTUAL TABLE IF NOT EXISTS f5 USING fts5(body)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS f5v USING fts5vocab(f5, row)",
    "PRAGMA table_info(base)",
    "PRAGMA table_list",
    "PRAGMA index_list(c1)",
    "PRAGMA foreign_key_list(c1)",
    "PRAGMA foreign_key_check",
    "PRAGMA quick_check",
    "PRAGMA foreign_keys = ON",
    "PRAGMA foreign_keys = OFF",
    "PRAGMA defer_foreign_keys = ON",
    "PRAGMA recursive_triggers = ON",
    "PRAGMA data_version",
    "PRAGMA table_xinfo(base)",
    "PRAGMA main.table_info(base)",
    "PRAGMA index_info(i1)",
    "PRAGMA optimize",
    "PRAGMA legacy_alter_table = ON",
    "PRAGMA legacy_alter_table = OFF",
    "PRAGMA case_sensitive_like = ON",
    "PRAGMA ignore_check_constraints = OFF",
    "ANALYZE",
    "REINDEX",
    "SELECT * FROM sqlite_master",
    "WITH x AS (SELECT 1 AS one) SELECT one FROM x",
    "DROP TABLE IF EXISTS nothing_here",
    COMPOUND(5),
    WIDE(100, "wide100"),
    "ALTER TABLE c1 RENAME COLUMN d TO d2",
    "ALTER TABLE c1 RENAME TO c2",
    # refused
    "BEGIN",
    "BEGIN TRANSACTION",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT sp",
    "RELEASE sp",
    "ATTACH DATABASE ':memory:' AS other",
    "DETACH DATABASE other",
    "CREATE TEMP TABLE tt (a)",
    "CREATE TEMPORARY VIEW tv AS SELECT 1",
    "CREATE TABLE temp.tt2 (a)",
    "CREATE TABLE _cf_mine (a)",
    "CREATE INDEX _cf_idx ON base (name)",
    "CREATE VIEW _cf_view AS SELECT 1",
    "PRAGMA journal_mode",
    "PRAGMA writable_schema = ON",
    "PRAGMA cache_size",
    "PRAGMA compile_options",
    "PRAGMA function_list",
    "PRAGMA integrity_check",
    "PRAGMA page_size",
    "PRAGMA user_version",
    "PRAGMA schema_version",
    "VACUUM",
    "SELECT ?1",
    "SELECT sqlite_version()",
    "SELECT sqlite_source_id()",
    "CREATE VIRTUAL TABLE f4 USING fts4(body)",
    "CREATE VIRTUAL TABLE f3 USING fts3(body)",
    "CREATE VIRTUAL TABLE r1 USING rtree(id, x0, x1)",
    "CREATE VIRTUAL TABLE r2 USING rtree_i32(id, x0, x1)",
    "SELECT load_extension('x')",
    COMPOUND(6),
    WIDE(101, "wide101"),
    "SELECT '" + "x" * 100_001 + "'",
]

# hyphae refuses these on purpose although workerd runs them: the `_cf_` prefix is D1's, and a
# table renamed into it can no longer be read or written by the Worker (every access is denied).
STRICTER_ON_PURPOSE = {"ALTER TABLE base RENAME TO _cf_renamed"}


def workerd_verdicts(statements: list[str], functions: list[tuple[str, int]]) -> dict:
    payload = json.dumps({"setup": SETUP, "statements": statements, "functions": functions})
    result = subprocess.run(["node", str(REPO_ROOT / "tests" / "d1" / "workerd_verdicts.mjs")], input=payload,
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def hyphae_verdicts(statements: list[str]) -> list[tuple[bool, str]]:
    """(accepted, why) per statement: the engine under D1's rules plus the static D1 rules."""
    connection = open_d1_database(":memory:")
    for sql in SETUP:
        connection.execute(sql)
    schema = SchemaView(connection)
    verdicts = []
    for index, sql in enumerate(statements):
        context = StatementContext(Statement("corpus", index, sql, 1, 1, ()), schema, frozenset())
        static = [f"{code}: {message}" for code, message in run_static_rules(context) if code.startswith("D1")]
        failure = execute(connection, sql)
        verdicts.append((failure is None and not static, "; ".join(static) or (failure.message if failure else "")))
    return verdicts


@pytest.fixture(scope="module")
def machine_functions() -> list[tuple[str, int]]:
    """Every (function, argument count) this machine's SQLite knows, as the allowlist was derived."""
    connection = sqlite3.connect(":memory:")
    rows = connection.execute("SELECT DISTINCT name, narg FROM pragma_function_list").fetchall()
    return sorted((name, narg) for name, narg in rows if name.isidentifier() or name in ("->", "->>"))


@pytest.fixture(scope="module")
def workerd(machine_functions) -> dict:
    callable_functions = [(name, narg) for name, narg in machine_functions if name.isidentifier()]
    return workerd_verdicts(CORPUS + sorted(STRICTER_ON_PURPOSE), callable_functions)


def test_hyphae_and_workerd_agree_statement_by_statement(workerd):
    theirs = workerd["statements"][: len(CORPUS)]
    ours = hyphae_verdicts(CORPUS)
    disagreements = [
        f"{sql[:80]!r}: workerd {'accepts' if their['ok'] else 'refuses (' + their['error'][:80] + ')'}, "
        f"hyphae {'accepts' if our_ok else 'refuses (' + why[:80] + ')'}"
        for sql, their, (our_ok, why) in zip(CORPUS, theirs, ours) if their["ok"] != our_ok
    ]
    assert disagreements == []
    assert sum(not their["ok"] for their in theirs) >= 25, "the corpus must keep its refused statements"


def test_hyphae_is_stricter_only_where_documented(workerd):
    theirs = workerd["statements"][len(CORPUS):]
    ours = hyphae_verdicts(sorted(STRICTER_ON_PURPOSE))
    assert [their["ok"] for their in theirs] == [True] * len(STRICTER_ON_PURPOSE)
    assert [our_ok for our_ok, _ in ours] == [False] * len(STRICTER_ON_PURPOSE)


def test_function_allowlist_matches_workerd(workerd):
    derived = {name.lower() for name, verdict in workerd["functions"].items() if verdict == "allowed"}
    derived |= {name for name in ("->", "->>") if name in ALLOWED_FUNCTIONS}  # operators, not callable by name
    assert sorted(derived ^ ALLOWED_FUNCTIONS) == []
