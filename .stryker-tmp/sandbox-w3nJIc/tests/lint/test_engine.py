"""The two replays: on empty tables and with one representative row per table, and how their
answers combine; the empty-table replay gives the same verdicts in a child process as inline."""

from __future__ import annotations

import pytest

from infra.lint.empty_replay import start_empty_replay
from infra.paths import DEFAULT_MIGRATIONS_DIR
from tests.lint.conftest import codes_at

TEAMS = "CREATE TABLE IF NOT EXISTS teams (id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL);\n" \
        "CREATE TABLE IF NOT EXISTS settings (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);"


def test_statement_that_needs_production_rows_fails_on_empty_tables(lint_history):
    report = lint_history(TEAMS, "INSERT INTO settings (key, value) VALUES ('team', (SELECT name FROM teams LIMIT 1));")
    (finding,) = report.errors
    assert (finding.code, finding.line) == ("SAFE005", 1)
    assert finding.message.startswith("fails on empty tables, as in a fresh database (passes with rows): NOT NULL")


def test_statement_that_breaks_on_production_rows_fails_with_rows(lint_history):
    report = lint_history(TEAMS, "UPDATE teams SET name = NULL WHERE id IS NOT NULL;")
    (finding,) = report.errors
    assert finding.code == "SAFE005" and finding.message.startswith("fails on tables that hold rows (passes on empty ones)")


def test_statement_failing_in_both_replays_is_an_ordinary_finding(lint_history):
    report = lint_history(TEAMS, "UPDATE teams SET missing = 1 WHERE id = 'x';")
    assert codes_at(report, "0002_step_2.sql") == [("ORD002", 1)]
    assert "only on" not in report.errors[0].message


@pytest.mark.parametrize("insert", ["INSERT INTO settings (key, value) VALUES ('hyphae', 'x');",
                                    "WITH new (key) AS (SELECT 'hyphae') INSERT INTO settings (key, value) SELECT key, 'x' FROM new;"])
def test_insert_colliding_with_the_representative_row_is_not_a_finding(lint_history, insert):
    report = lint_history(TEAMS, insert)
    assert report.findings == []


def test_empty_table_replay_in_a_child_process_matches_the_inline_one():
    texts = [path.read_text() for path in sorted(DEFAULT_MIGRATIONS_DIR.glob("*.sql"))]
    texts.append("CREATE INDEX IF NOT EXISTS i ON sessions (missing);\nBEGIN;\nSELECT 1;")
    inline = start_empty_replay(b"", texts, {2, len(texts) - 1}, in_background=False)()
    child = start_empty_replay(b"", texts, {2, len(texts) - 1}, in_background=True)()
    assert child.failures == inline.failures
    assert [failure is None for failure in child.failures[-1]] == [False, False, True]
    assert set(child.snapshots) == {2, len(texts) - 1} and all(child.snapshots.values())


def test_rebuild_by_renaming_the_parent_away_still_reports_the_cascade(lint_history):
    """The renamed table still holds the rows: dropping it is SAFE001 (allowed here) and SAFE004."""
    parents = ("CREATE TABLE IF NOT EXISTS parents (id TEXT NOT NULL PRIMARY KEY);\n"
               "CREATE TABLE IF NOT EXISTS children (id TEXT NOT NULL PRIMARY KEY, "
               "parent_id TEXT REFERENCES parents (id) ON DELETE SET NULL);")
    rebuild = ("-- hyphae: allow SAFE002 rebuilt below\nALTER TABLE parents RENAME TO parents_old;\n"
               "CREATE TABLE IF NOT EXISTS parents (id TEXT NOT NULL PRIMARY KEY, name TEXT);\n"
               "INSERT INTO parents (id) SELECT id FROM parents_old;\n"
               "-- hyphae: allow SAFE001 copied into the new parents above\nDROP TABLE parents_old;")
    report = lint_history(parents, rebuild)
    assert [(finding.code, finding.line) for finding in report.errors] == [("SAFE004", 6)]
    assert "children" in report.errors[0].message


FAMILY = ("CREATE TABLE IF NOT EXISTS parents (id TEXT NOT NULL PRIMARY KEY);\n"
          "CREATE TABLE IF NOT EXISTS children (id TEXT NOT NULL PRIMARY KEY, "
          "parent_id TEXT NOT NULL REFERENCES parents (id));")


def test_each_file_runs_as_one_batch_so_a_deferred_foreign_key_can_be_satisfied_later(lint_history):
    report = lint_history(FAMILY, "PRAGMA defer_foreign_keys = ON;\n"
                                  "INSERT INTO children (id, parent_id) VALUES ('c', 'p');\n"
                                  "INSERT INTO parents (id) VALUES ('p');")
    assert report.findings == []


def test_rebuild_under_deferred_foreign_keys_fails_at_commit_when_children_have_rows(lint_history):
    # SQLite counts the violations the DROP makes and only an INSERT into the referenced table
    # takes them back: renaming the copy into place does not, so COMMIT fails although
    # PRAGMA foreign_key_check finds nothing. On D1 that batch fails in production only.
    rebuild = ("PRAGMA defer_foreign_keys = ON;\n"
               "CREATE TABLE IF NOT EXISTS parents_new (id TEXT NOT NULL PRIMARY KEY, name TEXT);\n"
               "INSERT INTO parents_new (id) SELECT id FROM parents;\n"
               "-- hyphae: allow SAFE001 rebuilt as parents_new\nDROP TABLE parents;\n"
               "-- hyphae: allow SAFE002 completes the rebuild\nALTER TABLE parents_new RENAME TO parents;")
    (finding,) = lint_history(FAMILY, rebuild).errors
    assert (finding.code, finding.line) == ("SAFE005", 7)
    assert finding.message.startswith("fails on tables that hold rows") and "batch commits" in finding.message


def test_a_deferred_foreign_key_left_broken_fails_the_batch_at_its_last_statement(lint_history):
    report = lint_history(FAMILY, "PRAGMA defer_foreign_keys = ON;\n"
                                  "INSERT INTO children (id, parent_id) VALUES ('c', 'missing');\nSELECT 1;")
    (finding,) = report.errors
    assert (finding.code, finding.line) == ("SQL004", 3)
    assert "FOREIGN KEY constraint failed when the migration's batch commits" in finding.message


def test_vacuum_is_refused_as_in_a_d1_batch(lint_history):
    assert [finding.code for finding in lint_history("VACUUM;").errors] == ["D1001"]
