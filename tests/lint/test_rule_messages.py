"""Every rule's message, compared whole: a user reads it to fix the migration.

Each case is the statement under test in 0002 (after test_rules.BASE) and every finding it gets
there, as (code, line, message). A finding added, lost or reworded fails the case.
"""

from __future__ import annotations

import pytest

from infra.lint import lint_migrations
from tests.lint import test_contract_rule as contract_cases
from tests.lint.conftest import sum_without_baseline
from tests.lint.test_rules import BASE

CASES = [
    # SAFE: destructive or deploy-breaking changes
    ("DROP TABLE spores;", [("SAFE001", 1, "DROP TABLE spores deletes the table and its data")]),
    ("DELETE FROM sessions;", [("SAFE001", 1, "DELETE FROM sessions without WHERE deletes every row")]),
    ("ALTER TABLE sessions DROP COLUMN title;", [("SAFE001", 1, "DROP COLUMN title on sessions deletes that column's data")]),
    ('ALTER TABLE sessions DROP "title";', [("SAFE001", 1, "DROP COLUMN title on sessions deletes that column's data")]),
    ("ALTER TABLE sessions RENAME TO work_sessions;",
     [("SAFE002", 1, "renaming table sessions to work_sessions breaks the Worker still using sessions")]),
    ("ALTER TABLE sessions RENAME COLUMN title TO headline;",
     [("SAFE002", 1, "renaming sessions.title to headline breaks the Worker still using title")]),
    ("CREATE TABLE IF NOT EXISTS __new_sessions (id TEXT NOT NULL PRIMARY KEY, status TEXT, headline TEXT);\n"
     "INSERT INTO __new_sessions (id, status, headline) SELECT id, status, title FROM sessions;\n"
     "DROP TABLE sessions;\nALTER TABLE __new_sessions RENAME TO sessions;",
     [("SAFE002", 3, "the rebuild of sessions renames column(s) title to headline (their values arrive there): "
                     "the Worker still using the old name breaks")]),
    ("UPDATE sessions SET status = 'active';",
     [("SAFE003", 1, "UPDATE sessions without WHERE rewrites every row in one batch (D1 stops a query at 30 s)")]),
    ("-- hyphae: allow SAFE001 rebuild\nDROP TABLE parents;",
     [("SAFE001", 2, "DROP TABLE parents deletes the table and its data"),
      ("SAFE004", 2, "dropping parents runs ON DELETE CASCADE on children: D1 enforces foreign keys even with "
                     "PRAGMA foreign_keys=OFF, so children's rows are lost")]),
    ("CREATE UNIQUE INDEX IF NOT EXISTS u ON sessions (title);",
     [("SAFE005", 1, "UNIQUE index on existing table sessions fails if current rows hold duplicates")]),
    ("UPDATE sessions SET id = NULL WHERE 1 = 1;",
     [("SAFE005", 1, "fails on tables that hold rows (passes on empty ones): NOT NULL constraint failed: sessions.id")]),
    # D1: what D1 refuses although SQLite accepts it
    ("BEGIN;", [("D1001", 1, "BEGIN is transaction control, which D1 refuses")]),
    ("VACUUM;", [("D1001", 1, "VACUUM cannot run on D1 (every statement runs inside a transaction)")]),
    ("ATTACH DATABASE 'other.db' AS other;", [("D1002", 1, "ATTACH is refused by D1 (one database per binding)")]),
    ("DETACH DATABASE other;", [("D1002", 1, "DETACH is refused by D1 (one database per binding)")]),
    ("CREATE TEMP TABLE IF NOT EXISTS scratch (a TEXT);", [("D1002", 1, "TEMP objects are refused by D1")]),
    ("CREATE TABLE IF NOT EXISTS _cf_mine (a TEXT);", [("D1002", 1, "_cf_mine: names starting with _cf_ are reserved by D1")]),
    ("CREATE TABLE IF NOT EXISTS hyphae_ledger (id INTEGER PRIMARY KEY);",
     [("D1002", 1, "hyphae_ledger is a migrations ledger table; only hyphae's runner writes it")]),
    ("PRAGMA journal_mode = WAL;", [("D1003", 1, "PRAGMA journal_mode is denied by D1")]),
    ("CREATE VIRTUAL TABLE IF NOT EXISTS s USING fts4(content);",
     [("D1004", 1, "virtual-table module fts4 is denied by D1 (fts5 and fts5vocab are allowed)")]),
    ("SELECT sqlite_version();",
     [("D1004", 1, "function sqlite_version() is refused by D1 (not authorized to use function: sqlite_version)")]),
    ("SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6;",
     [("D1005", 1, "too many terms in compound SELECT (a D1 limit)")]),
    # SQL: forms SQLite does not have or refuses
    ("ALTER TABLE sessions ADD COLUMN IF NOT EXISTS x TEXT;", [("SQL001", 1, "ADD COLUMN IF NOT EXISTS is not SQLite syntax")]),
    ("-- hyphae: allow SAFE001 test\nALTER TABLE sessions DROP COLUMN IF EXISTS title;",
     [("SAFE001", 2, "DROP COLUMN title on sessions deletes that column's data"),
      ("SQL001", 2, "DROP COLUMN IF EXISTS is not SQLite syntax")]),
    ("ALTER TABLE sessions ALTER COLUMN title TYPE TEXT;",
     [("SQL001", 1, "ALTER COLUMN is not SQLite syntax (rebuild the table to change a column)")]),
    ("ALTER TABLE sessions ADD CONSTRAINT u UNIQUE (title);",
     [("SQL001", 1, "ADD CONSTRAINT is not SQLite syntax (constraints come with CREATE TABLE)")]),
    ("ALTER TABLE sessions ADD COLUMN a TEXT, ADD COLUMN b TEXT;",
     [("SQL001", 1, "one ALTER TABLE with 2 actions; SQLite takes one action per statement")]),
    ("ALTER TABLE sessions ADD COLUMN a INTEGER PRIMARY KEY;",
     [("SQL002", 1, "ADD COLUMN a PRIMARY KEY: SQLite cannot add a primary-key column")]),
    ("ALTER TABLE sessions ADD COLUMN a TEXT UNIQUE;",
     [("SQL002", 1, "ADD COLUMN a UNIQUE: SQLite cannot add a UNIQUE column (create a UNIQUE index)")]),
    ("ALTER TABLE sessions ADD COLUMN a INTEGER NOT NULL;",
     [("SQL002", 1, "ADD COLUMN a NOT NULL without a default fails on every table with rows")]),
    ("ALTER TABLE sessions ADD COLUMN a INTEGER DEFAULT (1 + 1);",
     [("SQL002", 1, "ADD COLUMN a with a non-constant default fails on every table with rows")]),
    ("ALTER TABLE sessions ADD COLUMN a INTEGER AS (length(title)) STORED;",
     [("SQL002", 1, "ADD COLUMN a ... STORED: SQLite cannot add a stored generated column")]),
    ("-- hyphae: allow SAFE001 test\nALTER TABLE spores DROP COLUMN status;",
     [("SAFE001", 2, "DROP COLUMN status on spores deletes that column's data"),
      ("SQL003", 2, "error in index idx_spores_status after drop column: no such column: status")]),
    ("SELEC 1;", [("SQL004", 1, 'near "SELEC": syntax error')]),
    # ORD and IDEM
    ("CREATE INDEX IF NOT EXISTS i ON missing (a);", [("ORD001", 1, "no such table: main.missing (at this point of history)")]),
    ("CREATE INDEX IF NOT EXISTS i ON sessions (missing_column);",
     [("ORD002", 1, "no such column: missing_column (at this point of history)")]),
    ("ALTER TABLE sessions ADD COLUMN status TEXT;", [("ORD003", 1, "duplicate column name: status")]),
    ("CREATE INDEX IF NOT EXISTS idx_spores_status ON spores (tags);",
     [("ORD003", 1, "index idx_spores_status already exists (index made earlier); IF NOT EXISTS skips this definition")]),
    ("CREATE INDEX i ON sessions (title);", [("IDEM001", 1, "CREATE INDEX without IF NOT EXISTS")]),
    # IDEM001 reads past UNIQUE, VIRTUAL, TEMP/TEMPORARY to the kind of object
    ("CREATE UNIQUE INDEX u2 ON sessions (id, title);", [("IDEM001", 1, "CREATE INDEX without IF NOT EXISTS")]),
    ("CREATE VIRTUAL TABLE s2 USING fts5(content);", [("IDEM001", 1, "CREATE TABLE without IF NOT EXISTS")]),
    ("CREATE TEMPORARY TABLE scratch (a TEXT);",
     [("D1002", 1, "TEMP objects are refused by D1"), ("IDEM001", 1, "CREATE TABLE without IF NOT EXISTS")]),
    ("CREATE TEMP VIEW recent AS SELECT id FROM sessions;",
     [("D1002", 1, "TEMP objects are refused by D1"), ("IDEM001", 1, "CREATE VIEW without IF NOT EXISTS")]),
    ("CREATE TRIGGER t AFTER INSERT ON sessions BEGIN SELECT 1; END;", [("IDEM001", 1, "CREATE TRIGGER without IF NOT EXISTS")]),
    ("CREATE TABLE fresh (a TEXT);", [("IDEM001", 1, "CREATE TABLE without IF NOT EXISTS")]),
    # ORD003's IF NOT EXISTS twin reads quoted, bracketed and schema-qualified names, UNIQUE and VIRTUAL
    ('CREATE TABLE IF NOT EXISTS "sessions" (id TEXT);',
     [("ORD003", 1, "table sessions already exists (table made earlier); IF NOT EXISTS skips this definition")]),
    ("CREATE TABLE IF NOT EXISTS main.spores (id TEXT);",
     [("ORD003", 1, "table spores already exists (table made earlier); IF NOT EXISTS skips this definition")]),
    ("CREATE UNIQUE INDEX IF NOT EXISTS idx_spores_status ON spores (status);",
     [("ORD003", 1, "index idx_spores_status already exists (index made earlier); IF NOT EXISTS skips this definition"),
      ("SAFE005", 1, "UNIQUE index on existing table spores fails if current rows hold duplicates")]),
    ("CREATE VIRTUAL TABLE IF NOT EXISTS sessions USING fts5(content);",
     [("ORD003", 1, "table sessions already exists (table made earlier); IF NOT EXISTS skips this definition")]),
    ("CREATE VIEW IF NOT EXISTS [parents] AS SELECT 1;",
     [("ORD003", 1, "view parents: the name is taken by the table parents made earlier")]),
    # D1's rules on qualified, upper-case and limit-sized forms
    ("PRAGMA main.journal_mode = WAL;", [("D1003", 1, "PRAGMA journal_mode is denied by D1")]),
    ("CREATE VIRTUAL TABLE IF NOT EXISTS s3 USING FTS5(content);", []),
    ("CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY, name TEXT);",
     [("D1002", 1, "d1_migrations is a migrations ledger table; only hyphae's runner writes it")]),
    ("END;", [("D1001", 1, "END is transaction control, which D1 refuses")]),
    ("INSERT INTO sessions (id, title) VALUES ('a', '" + "x" * 100_001 + "');",
     [("D1005", 1, "statement is 100,051 bytes; D1 takes at most 100,000")]),
    ("CREATE TABLE IF NOT EXISTS wide (" + ", ".join(f"c{i} TEXT" for i in range(101)) + ");",
     [("D1005", 1, "table has 101 columns; D1 allows at most 100")]),
    # SQL002: a NULL constraint is not NOT NULL; DEFAULT NULL is no default
    ("ALTER TABLE sessions ADD COLUMN a INTEGER NULL CHECK (a > 0);", []),
    ("ALTER TABLE sessions ADD COLUMN a INTEGER NOT NULL DEFAULT NULL CHECK (a > 0);",
     [("SQL002", 1, "ADD COLUMN a NOT NULL without a default fails on every table with rows")]),
    ("ALTER TABLE sessions ADD COLUMN a INTEGER NOT NULL DEFAULT 1 CHECK (a > 0);", []),
    # SQL001 alone where the form is not SQLite's: SQL002 does not judge what SQLite cannot read
    ("ALTER TABLE sessions ADD COLUMN a INTEGER PRIMARY KEY, ADD COLUMN b TEXT;",
     [("SQL001", 1, "one ALTER TABLE with 2 actions; SQLite takes one action per statement")]),
    ("ALTER TABLE sessions ADD COLUMN IF NOT EXISTS x INTEGER NOT NULL;",
     [("SQL001", 1, "ADD COLUMN IF NOT EXISTS is not SQLite syntax")]),
]


@pytest.mark.parametrize(("body", "expected"), CASES, ids=[f"{expected[0][0] if expected else 'clean'}-{n}" for n, (_, expected) in enumerate(CASES)])
def test_each_rule_reports_its_whole_message(body, expected, lint_history):
    """Guards against a rule whose message is reworded, loses the object it names, or comes twice."""
    report = lint_history(BASE, body)
    found = [(finding.code, finding.line, finding.message) for finding in report.findings
             if finding.file.endswith("0002_step_2.sql")]
    assert found == expected


@pytest.mark.parametrize(("names", "message"), [
    (["0001_a.sql", "0003_b.sql"], "0003_b.sql leaves a gap after 0001_a.sql: 0002 missing"),
    (["0001_a.sql", "0005_b.sql"], "0005_b.sql leaves a gap after 0001_a.sql: 0002-0004 missing"),
    (["0001_a.sql", "0001_b.sql"], "0001_b.sql reuses number 0001 of 0001_a.sql"),
    (["0001_a.sql", "0002-Bad.sql"], "0002-Bad.sql does not match NNNN_slug.sql (four or more digits, lower-case slug)"),
    (["0002_a.sql"], "0002_a.sql leaves a gap: the first migration is 0000 or 0001"),
])
def test_his001_message_names_the_file_and_what_is_wrong(tmp_path, names, message):
    """Guards against a HIS001 message that names the wrong number, range or neighbour."""
    for name in names:
        (tmp_path / name).write_text("SELECT 1;\n")
    sum_without_baseline(tmp_path)
    assert [(finding.code, finding.line, finding.message) for finding in lint_migrations(tmp_path).findings] == [
        ("HIS001", 1, message)]


def test_a_history_starting_at_0000_has_no_his001(tmp_path):
    """Guards against HIS001 refusing drizzle's first number, 0000."""
    for name in ["0000_a.sql", "0001_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    sum_without_baseline(tmp_path)
    assert lint_migrations(tmp_path).findings == []


def test_a_folder_without_a_sum_gets_the_note_naming_the_command(lint_history):
    """Guards against a missing hyphae.sum passing without the note that says how to create it."""
    report = lint_history("SELECT 1;")
    (note,) = report.notes
    assert note.endswith("/hyphae.sum does not exist: history integrity not checked; "
                         "create it with `invoke lint --write-sum`")


CONTRACT_CASES = [
    (contract_cases.ALLOW + "DROP TABLE spores;",
     [("CON001", 2, "table spores is gone: contract field(s) id, content, tags, machine_id, synced_at of the Myco "
                    "client would fail every write"),
      ("SAFE001", 2, "DROP TABLE spores deletes the table and its data")]),
    (contract_cases.ALLOW + "ALTER TABLE spores DROP COLUMN tags;",
     [("CON001", 2, "spores loses tags: contract field(s) tags of the Myco client would fail every write"),
      ("SAFE001", 2, "DROP COLUMN tags on spores deletes that column's data")]),
    (contract_cases.REBUILD.format(
        columns="id TEXT NOT NULL, machine_id TEXT NOT NULL, content TEXT NOT NULL, tags TEXT NOT NULL, synced_at INTEGER",
        copied="id, machine_id, content, tags, synced_at", allow=""),
     [("SAFE005", 2, "fails on tables that hold rows (passes on empty ones): NOT NULL constraint failed: spores_new.tags"),
      ("SAFE001", 3, "DROP TABLE spores deletes the table and its data; its rows do not reach the table named spores "
                     "at the end of the migration (line 2 fails with rows)"),
      ("CON002", 4, "spores.tags becomes NOT NULL without a default: a record without it (or a Worker of the "
                    "previous release) fails to write")]),
]


@pytest.mark.parametrize(("body", "expected"), CONTRACT_CASES, ids=["table-gone", "field-dropped", "tightened"])
def test_contract_findings_report_their_whole_message(body, expected, lint_history):
    """Guards against a CON message that names the wrong table, fields or statement."""
    report = lint_history(contract_cases.BASE, body)
    assert [(finding.code, finding.line, finding.message) for finding in report.findings] == expected
