"""Every rule from small SQL fixtures: the expected code at the expected line, and a passing twin.

The first body of each case is an earlier migration (0001); the statement under test is in 0002.
"""

from __future__ import annotations

import pytest

from tests.lint.conftest import codes_at

BASE = """CREATE TABLE IF NOT EXISTS sessions (id TEXT NOT NULL PRIMARY KEY, status TEXT, title TEXT);
CREATE TABLE IF NOT EXISTS spores (id TEXT NOT NULL PRIMARY KEY, status TEXT, tags TEXT, content TEXT);
CREATE INDEX IF NOT EXISTS idx_spores_status ON spores (status);
CREATE TABLE IF NOT EXISTS parents (id TEXT NOT NULL PRIMARY KEY);
CREATE TABLE IF NOT EXISTS children (id TEXT NOT NULL PRIMARY KEY, parent_id TEXT REFERENCES parents (id) ON DELETE CASCADE);
"""

# (code, statements of 0002, line of the finding in 0002)
FAILING = [
    ("ORD001", "SELECT 1;\nCREATE INDEX IF NOT EXISTS i ON missing (a);", 2),
    ("ORD001", "DROP INDEX idx_missing;", 1),
    ("ORD002", "CREATE INDEX IF NOT EXISTS i ON sessions (missing_column);", 1),
    ("ORD002", "UPDATE sessions SET missing_column = 1 WHERE id = 'x';", 1),
    ("ORD002", "INSERT INTO sessions (id, missing_column) VALUES ('a', 1);", 1),
    ("ORD002", "ALTER TABLE sessions RENAME COLUMN missing_column TO other;", 1),
    ("ORD002", "CREATE VIEW IF NOT EXISTS v AS SELECT missing_column FROM sessions;", 1),
    ("ORD002", "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON sessions BEGIN SELECT missing_column FROM sessions; END;", 1),
    ("ORD002", "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON spores BEGIN\n"
               "  UPDATE sessions SET missing_column = 1 WHERE id = new.id;\nEND;", 1),
    ("ORD002", "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON spores BEGIN\n"
               "  INSERT INTO sessions (id, missing_column) VALUES (new.id, 1);\nEND;", 1),
    ("ORD001", "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON spores BEGIN\n"
               "  INSERT INTO missing_table (id) VALUES (new.id);\nEND;", 1),
    ("ORD001", "CREATE VIEW IF NOT EXISTS v AS SELECT * FROM missing_table;", 1),
    ("ORD003", "ALTER TABLE sessions ADD COLUMN status TEXT;", 1),
    ("ORD003", "CREATE TABLE sessions (id TEXT);", 1),
    ("ORD003", "CREATE INDEX IF NOT EXISTS idx_spores_status ON spores (tags);", 1),
    ("ORD003", "CREATE VIEW IF NOT EXISTS idx_spores_status AS SELECT id FROM spores;", 1),
    ("ORD003", "CREATE INDEX spores ON sessions (title);", 1),
    ("SQL001", "ALTER TABLE sessions ADD COLUMN IF NOT EXISTS x TEXT;", 1),
    ("SQL001", "-- hyphae: allow SAFE001 test\nALTER TABLE sessions DROP COLUMN IF EXISTS title;", 2),
    ("SQL001", "ALTER TABLE sessions ALTER COLUMN title TYPE TEXT;", 1),
    ("SQL001", "ALTER TABLE sessions ADD CONSTRAINT u UNIQUE (title);", 1),
    ("SQL001", "ALTER TABLE sessions ADD COLUMN a TEXT, ADD COLUMN b TEXT;", 1),
    ("SQL002", "ALTER TABLE sessions ADD COLUMN a INTEGER PRIMARY KEY;", 1),
    ("SQL002", "ALTER TABLE sessions ADD COLUMN a TEXT UNIQUE;", 1),
    ("SQL002", "ALTER TABLE sessions ADD COLUMN a INTEGER NOT NULL;", 1),
    ("SQL002", "ALTER TABLE sessions ADD COLUMN a INTEGER DEFAULT (1 + 1);", 1),
    ("SQL002", "ALTER TABLE sessions ADD COLUMN a TEXT DEFAULT CURRENT_TIMESTAMP;", 1),
    ("SQL002", "ALTER TABLE sessions ADD COLUMN a INTEGER AS (length(title)) STORED;", 1),
    ("SQL002", "ALTER TABLE children ADD COLUMN other_parent TEXT REFERENCES parents (id) DEFAULT 'x';", 1),
    ("SQL003", "-- hyphae: allow SAFE001 test\nALTER TABLE spores DROP COLUMN status;", 2),
    ("SQL003", "-- hyphae: allow SAFE001 test\nALTER TABLE sessions DROP COLUMN id;", 2),
    ("SQL004", "CREATE INDEX IF NOT EXISTS i sessions (status);", 1),
    ("SQL004", "SELEC 1;", 1),
    ("D1001", "BEGIN;", 1),
    ("D1001", "SAVEPOINT before_change;", 1),
    ("D1001", "RELEASE before_change;", 1),
    ("D1001", "ROLLBACK;", 1),
    ("D1001", "SELECT 1;\nCOMMIT;", 2),
    ("D1002", "ATTACH DATABASE 'other.db' AS other;", 1),
    ("D1002", "DETACH DATABASE other;", 1),
    ("D1002", "CREATE TEMP TABLE IF NOT EXISTS scratch (a TEXT);", 1),
    ("D1002", "CREATE TEMPORARY VIEW IF NOT EXISTS recent AS SELECT id FROM sessions;", 1),
    ("D1002", "CREATE TABLE IF NOT EXISTS _cf_mine (a TEXT);", 1),
    ("D1002", "-- hyphae: allow SAFE002 test\nALTER TABLE sessions RENAME TO _cf_sessions;", 2),
    ("D1002", "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY, name TEXT);", 1),
    ("D1002", "CREATE TABLE IF NOT EXISTS hyphae_ledger (id INTEGER PRIMARY KEY);", 1),
    ("D1003", "PRAGMA journal_mode = WAL;", 1),
    ("D1003", "PRAGMA writable_schema = ON;", 1),
    ("D1004", "SELECT sqlite_version();", 1),
    ("D1004", "CREATE VIRTUAL TABLE IF NOT EXISTS s USING fts4(content);", 1),
    ("D1005", "CREATE TABLE IF NOT EXISTS wide (" + ", ".join(f"c{i} TEXT" for i in range(101)) + ");", 1),
    ("D1005", "INSERT INTO sessions (id, title) VALUES ('a', '" + "x" * 100_001 + "');", 1),
    ("D1005", "SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6;", 1),
    ("SAFE001", "DROP TABLE spores;", 1),
    ("SAFE001", "ALTER TABLE sessions DROP COLUMN title;", 1),
    ("SAFE001", "DELETE FROM sessions;", 1),
    ("SAFE001", "ALTER TABLE sessions DROP title;", 1),
    ("SAFE001", "DELETE FROM sessions -- WHERE status = 'gone'\n;", 1),
    ("SAFE001", "ALTER TABLE sessions DROP \"title\";", 1),
    ("SAFE001", "SELECT 1;\nWITH RECURSIVE n(x) AS (SELECT 1) DELETE FROM sessions;", 2),
    ("SAFE002", "ALTER TABLE sessions RENAME TO work_sessions;", 1),
    ("SAFE002", "ALTER TABLE sessions RENAME COLUMN title TO headline;", 1),
    ("SAFE003", "UPDATE sessions SET status = 'active';", 1),
    ("SAFE003", "SELECT 1;\nWITH ids AS (SELECT id FROM spores) UPDATE sessions SET status = 'active';", 2),
    ("SAFE003", "UPDATE OR REPLACE sessions SET status = 'active';", 1),
    ("SAFE003", "UPDATE sessions SET title = 'keep WHERE it was';", 1),
    ("SAFE003", "UPDATE sessions SET title = (SELECT tags FROM spores WHERE spores.id = sessions.id);", 1),
    ("SAFE003", "-- hyphae: allow SAFE002 the Worker reads both names since v3.4\n"
                "ALTER TABLE sessions RENAME TO work_sessions;\nUPDATE work_sessions SET status = 'active';", 3),
    ("SAFE003", "with ids as (select id from spores)\nupdate or ignore sessions set status = 'active';", 1),
    ("SAFE004", "-- hyphae: allow SAFE001 rebuild\nDROP TABLE parents;", 2),
    ("SAFE005", "CREATE UNIQUE INDEX IF NOT EXISTS u ON sessions (title);", 1),
    ("SAFE005", "UPDATE sessions SET id = NULL WHERE 1 = 1;", 1),
    ("SAFE005", "CREATE TABLE IF NOT EXISTS sessions_new (id TEXT NOT NULL PRIMARY KEY, title TEXT NOT NULL);\n"
                "INSERT INTO sessions_new (id, title) SELECT id, title FROM sessions;", 2),
    ("IDEM001", "CREATE INDEX i ON sessions (title);", 1),
    ("LINT001", "SELECT 1;\n-- hyphae: allow SAFE01 archived\nDROP TABLE spores;", 2),
    ("LINT001", "-- hyphae: allow SAFE001\nDROP TABLE spores;", 1),
    ("LINT001", "-- hyphae: allow D1001 we want a transaction\nBEGIN;", 1),
    ("LINT001", "-- hyphae: allow ORD001 it exists in production\nSELECT * FROM sessions;", 1),
    ("LINT001", "-- hyphae: alow SAFE001 archived\nDROP TABLE spores;", 1),
    ("LINT001", "/* hyphae: allow SAFE001 archived */\nDROP TABLE spores;", 1),
    ("LINT001", "SELECT 1;\n-- hyphae: allow SAFE001 archived\n\nDROP TABLE spores;", 2),
    ("LINT001", "SELECT 1; -- hyphae: allow SAFE001 archived\nDROP TABLE spores;", 1),
    ("LINT001", "SELECT 1;\n-- hyphae: allow SAFE001 archived\n", 2),
    ("LINT002", "SELECT 1;\n-- hyphae: allow SAFE001 archived\nDELETE FROM sessions WHERE status = 'gone';", 2),
    ("IDEM001", "CREATE VIEW v AS SELECT id FROM sessions;", 1),
]

PASSING = [
    "CREATE INDEX IF NOT EXISTS idx_sessions_title ON sessions (title);",
    "ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'initial';",
    "ALTER TABLE sessions ADD COLUMN weight REAL DEFAULT -1.5;",
    "ALTER TABLE sessions ADD COLUMN score INTEGER AS (length(title)) VIRTUAL;",
    "UPDATE sessions SET status = 'active' WHERE status IS NULL;",
    "DELETE FROM sessions WHERE status = 'gone';",
    "DELETE FROM sessions WHERE id IN (SELECT id FROM spores WHERE status = 'gone');",
    "WITH gone AS (SELECT id FROM spores WHERE status = 'gone') DELETE FROM sessions WHERE id IN (SELECT id FROM gone);",
    "WITH ids AS (SELECT id FROM spores) UPDATE OR IGNORE sessions SET status = 'active' WHERE id IN (SELECT id FROM ids);",
    "CREATE TABLE IF NOT EXISTS fresh (id TEXT NOT NULL PRIMARY KEY, n INTEGER);\n"
    "WITH one AS (SELECT 1 AS v) UPDATE fresh SET n = (SELECT v FROM one);\nWITH one AS (SELECT 1) DELETE FROM fresh;",
    "-- an ordinary comment mentioning hyphae: allow nothing here\nINSERT INTO sessions (id, title) VALUES ('a', '\n-- hyphae: allow SAFE01 in a string');",
    "INSERT INTO sessions (id, status) VALUES ('a', 'active');",
    "CREATE TABLE IF NOT EXISTS fresh (id TEXT NOT NULL PRIMARY KEY);\nALTER TABLE fresh ADD COLUMN n INTEGER NOT NULL;\n"
    "ALTER TABLE fresh RENAME COLUMN n TO m;\nUPDATE fresh SET m = 1;\nDROP TABLE fresh;",
    "CREATE TRIGGER IF NOT EXISTS touch AFTER UPDATE ON sessions BEGIN\n  UPDATE sessions SET status = CASE WHEN new.status IS NULL THEN 'x' ELSE new.status END, title = 'a;b' WHERE id = new.id;\nEND;",
    "CREATE TRIGGER IF NOT EXISTS copy AFTER INSERT ON spores BEGIN\n"
    "  INSERT INTO sessions (id, status) VALUES (new.id, new.status);\n  UPDATE spores SET tags = '' WHERE id = new.id;\nEND;",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(content);",
    "PRAGMA foreign_key_check;",
    "SELECT json_extract('{\"a\": 1}', '$.a'), unixepoch();",
    "-- hyphae: allow SAFE001 emptied and archived in release 41\nDROP TABLE spores;",
    # twins of the failing cases above, at the limits or with the risk removed
    "UPDATE sessions SET title = 'BEGIN; COMMIT; ATTACH' WHERE id = 'x';",
    "CREATE TABLE IF NOT EXISTS cf_notes (a TEXT);\nCREATE VIEW IF NOT EXISTS recent AS SELECT id FROM sessions;",
    "CREATE TABLE IF NOT EXISTS wide (" + ", ".join(f"c{i} TEXT" for i in range(100)) + ");",
    "SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5;",
    "-- hyphae: allow SAFE001 archived\nDROP TABLE children;\n-- hyphae: allow SAFE001 archived\nDROP TABLE parents;",
    "CREATE TABLE IF NOT EXISTS fresh (id TEXT NOT NULL PRIMARY KEY, title TEXT);\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS u ON fresh (title);",
    "-- hyphae: allow SAFE002 the Worker reads both names since v3.4\nALTER TABLE sessions RENAME COLUMN title TO headline;",
]


@pytest.mark.parametrize(("code", "body", "line"), FAILING, ids=[f"{code}-{n}" for n, (code, _, _) in enumerate(FAILING)])
def test_failing_fixture_reports_code_at_line(code, body, line, lint_history):
    report = lint_history(BASE, body)
    assert (code, line) in codes_at(report, "0002_step_2.sql"), report.findings


@pytest.mark.parametrize("body", PASSING, ids=[f"passing-{n}" for n in range(len(PASSING))])
def test_passing_fixture_has_no_error_or_warning(body, lint_history):
    report = lint_history(BASE, body)
    assert [finding for finding in report.findings if finding.allowed_reason is None] == []


def test_statement_of_exactly_100_000_bytes_passes(lint_history):
    head, tail = "INSERT INTO sessions (id, title) VALUES ('a', '", "');"
    statement = head + "x" * (100_000 - len(head) - len(tail)) + tail
    assert len(statement.encode()) == 100_000
    assert lint_history(BASE, statement).findings == []


def test_a_name_taken_by_another_kind_of_object_is_one_ord003_with_the_kind(lint_history):
    report = lint_history(BASE, "CREATE VIEW IF NOT EXISTS idx_spores_status AS SELECT id FROM spores;")
    (finding,) = report.findings
    assert finding.code == "ORD003"
    assert finding.message == "view idx_spores_status: the name is taken by the index idx_spores_status made earlier"


def test_directive_findings_point_at_the_directive_s_line_and_column(lint_history):
    report = lint_history(BASE, "SELECT 1;  -- hyphae: allow SAFE001 archived\nDROP TABLE spores;\n"
                                "  -- hyphae: allow SAFE01 archived\nDROP TABLE sessions;")
    assert [(finding.code, finding.line, finding.column) for finding in report.findings] == [
        ("LINT001", 1, 12), ("SAFE001", 2, 1), ("LINT001", 3, 3), ("SAFE001", 4, 1)]


def test_adding_a_101st_column_is_d1005_naming_the_table(lint_history):
    wide = "CREATE TABLE IF NOT EXISTS wide (" + ", ".join(f"c{i} TEXT" for i in range(100)) + ");"
    report = lint_history(wide, "ALTER TABLE wide ADD COLUMN c100 TEXT;")
    assert [(finding.code, finding.line, finding.message) for finding in report.findings] == [
        ("D1005", 1, "too many columns on wide (a D1 limit)")]


def test_base_fixture_is_clean(lint_history):
    assert lint_history(BASE).findings == []


def test_rename_to_reserved_name_is_caught_statically_although_the_engine_allows_it(lint_history):
    report = lint_history(BASE, "-- hyphae: allow SAFE002 test\nALTER TABLE sessions RENAME TO _CF_Sessions;")
    assert [finding.code for finding in report.errors] == ["D1002"]
