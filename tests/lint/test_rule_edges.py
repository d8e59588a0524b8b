"""Edges of the rules a plain fixture does not reach: quoted and upper-case names, tables without a
key, the sum's baseline line, every field of a history finding. Each test names the bug it guards
against (found by `invoke mutate --module lint-rules`, docs/mutation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.history.files import read_migrations
from infra.history.sumfile import chain_digests, render_sum, write_sum
from infra.lint import lint_migrations
from infra.lint.rules import RULES
from infra.lint.rules import contract as contract_rule
from tests.lint import test_contract_rule as contract_cases
from tests.lint.conftest import sum_without_baseline
from tests.lint.test_rules import BASE


def _findings(report):
    return [(finding.code, finding.line, finding.message) for finding in report.findings]


def test_his005_points_at_the_stale_entry_when_the_sum_has_a_baseline_line(tmp_path):
    """Guards against the stale entry's line counted with the `baseline:` line as an entry (one line early)."""
    for name in ["001_a.sql", "002_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    write_sum(tmp_path, read_migrations(tmp_path))  # header, baseline comment, baseline line, two entries
    (tmp_path / "002_b.sql").write_text("SELECT 2;\n")
    lines = (tmp_path / "hyphae.sum").read_text().splitlines()
    (finding,) = lint_migrations(tmp_path).findings
    assert (finding.code, lines[finding.line - 1].split()[0]) == ("HIS005", "002_b.sql")


def test_history_findings_carry_column_1_and_the_rule_s_hint(tmp_path):
    """Guards against HIS001/HIS005 findings losing the column or the hint CI shows with them."""
    for name in ["0001_a.sql", "0003_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    sum_without_baseline(tmp_path)
    (tmp_path / "0001_a.sql").write_text("SELECT 2;\n")
    findings = lint_migrations(tmp_path).findings
    assert [(finding.code, finding.line, finding.column, finding.hint) for finding in findings] == [
        ("HIS001", 1, 1, RULES["HIS001"].hint), ("HIS005", 2, 1, RULES["HIS005"].hint)]


def test_an_empty_sum_is_stale_at_its_first_line(tmp_path):
    """Guards against the stale line of a sum without entries pointing past the file."""
    (tmp_path / "0001_a.sql").write_text("SELECT 1;\n")
    (tmp_path / "hyphae.sum").write_text("")
    assert [(finding.code, finding.line) for finding in lint_migrations(tmp_path).findings] == [("HIS005", 1)]


def test_a_sum_with_bytes_that_are_not_utf8_is_stale_at_that_entry(tmp_path):
    """Guards against a damaged sum crashing the linter instead of showing where it is stale."""
    for name in ["0001_a.sql", "0002_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    text = render_sum(chain_digests(read_migrations(tmp_path)))
    damaged = text.replace("0002_b.sql", "0002_\xff.sql").encode("latin-1")
    Path(tmp_path / "hyphae.sum").write_bytes(damaged)
    report = lint_migrations(tmp_path)
    assert [(finding.code, finding.line) for finding in report.findings] == [("HIS005", 3)]


def test_without_a_contract_file_the_fingerprint_is_empty(monkeypatch, tmp_path):
    """Guards against a repository without contract/myco-client.yaml failing to build the lint cache key."""
    monkeypatch.setattr(contract_rule, "CONTRACT_PATH", tmp_path / "missing.yaml")
    assert contract_rule.contract_fingerprint() == b""


# A parent with a cascading child, and a table, whose names start with an upper-case X (a character
# a wrong strip() would remove along with the quotes).
X_TABLES = """CREATE TABLE IF NOT EXISTS parents (id TEXT NOT NULL PRIMARY KEY);
CREATE TABLE IF NOT EXISTS "XLinks" (id TEXT NOT NULL PRIMARY KEY, parent_id TEXT REFERENCES parents (id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS "Xnotes" (id TEXT NOT NULL PRIMARY KEY, "Xbody" TEXT);
"""


def _blocking(report):
    return [(finding.code, finding.line) for finding in report.findings if finding.allowed_reason is None]


def test_safe004_sees_a_copy_of_the_child_that_names_it_in_another_case(lint_history):
    """Guards against a copy reading CHILDREN (upper case) after the parent's drop counting as no
    read, so that dropping the child later passes as "retired together" and the cascade loses rows."""
    report = lint_history(BASE, "CREATE TABLE IF NOT EXISTS children_copy (id TEXT PRIMARY KEY, parent_id TEXT);\n"
                                "-- hyphae: allow SAFE001 rebuild\nDROP TABLE parents;\n"
                                "INSERT INTO children_copy SELECT id, parent_id FROM CHILDREN;\n"
                                "-- hyphae: allow SAFE001 retired\nDROP TABLE children;")
    assert _blocking(report) == [("SAFE004", 3)]


def test_safe004_still_fires_when_another_table_is_dropped_after_the_parent(lint_history):
    """Guards against SAFE004 going silent when the parent's drop is followed by a drop of an unrelated table."""
    report = lint_history(BASE, "-- hyphae: allow SAFE001 retired\nDROP TABLE parents;\n"
                                "-- hyphae: allow SAFE001 retired\nDROP TABLE spores;")
    assert _blocking(report) == [("SAFE004", 2)]


def test_a_child_retired_under_a_quoted_name_with_the_parent_is_not_safe004(lint_history):
    """Guards against `DROP TABLE "XLinks"` not being recognised as the child's drop (quotes kept, or
    the leading X stripped with them), which reports a cascade on rows meant to go."""
    report = lint_history(X_TABLES, '-- hyphae: allow SAFE001 retired\nDROP TABLE parents;\n'
                                    '-- hyphae: allow SAFE001 retired\nDROP TABLE "XLinks";')
    assert _blocking(report) == []


def test_safe005_on_an_expression_index_of_an_existing_table(lint_history):
    """Guards against a UNIQUE index on an expression passing as already guaranteed."""
    report = lint_history(BASE, "CREATE UNIQUE INDEX IF NOT EXISTS u ON sessions (lower(title));")
    assert _blocking(report) == [("SAFE005", 1)]


def test_safe005_on_a_table_renamed_earlier_in_the_migration(lint_history):
    """Guards against a UNIQUE index on a table the same migration renamed (it still holds the rows)
    passing unflagged because the renamed table had no keys recorded when the migration began."""
    report = lint_history(BASE, "-- hyphae: allow SAFE002 renamed for the new Worker\n"
                                "ALTER TABLE sessions RENAME TO work_sessions;\n"
                                "CREATE UNIQUE INDEX IF NOT EXISTS u ON work_sessions (title);")
    assert _blocking(report) == [("SAFE005", 3)]


def test_a_unique_index_over_a_key_made_earlier_in_the_migration_is_guaranteed(lint_history):
    """Guards against ignoring the keys a table holds now (only those it held when the migration began)."""
    report = lint_history(BASE, "-- hyphae: allow SAFE005 titles checked unique in production\n"
                                "CREATE UNIQUE INDEX IF NOT EXISTS u_title ON sessions (title);\n"
                                "CREATE UNIQUE INDEX IF NOT EXISTS u_title_status ON sessions (title, status);")
    assert _blocking(report) == []


def test_a_unique_index_on_a_column_added_under_quoted_names_is_guaranteed(lint_history):
    """Guards against a column added by `ALTER TABLE "Xnotes" ADD COLUMN "Xslug"` (all NULL) not being
    matched to the index on it: quotes kept, or the leading X stripped with them."""
    report = lint_history(X_TABLES, 'ALTER TABLE "Xnotes" ADD COLUMN "Xslug" TEXT;\n'
                                    "CREATE UNIQUE INDEX IF NOT EXISTS u ON Xnotes (Xslug);")
    assert _blocking(report) == []


def test_a_negative_default_with_a_check_is_a_constant_default(lint_history):
    """Guards against `DEFAULT -1.5` read as a non-constant default (SQL002) when the statement is
    not a plain ADD COLUMN (here: a CHECK), which sends it through sqlglot."""
    report = lint_history(BASE, "ALTER TABLE sessions ADD COLUMN weight REAL DEFAULT -1.5 CHECK (weight < 10);")
    assert report.findings == []


def test_d1002_names_a_reserved_name_read_by_a_select(lint_history):
    """Guards against D1002 missing a `_cf_` table that a statement only reads."""
    report = lint_history(BASE, "SELECT * FROM _cf_KV;")
    assert _findings(report) == [
        ("D1002", 1, "_cf_KV: names starting with _cf_ are reserved by D1"),
        ("ORD001", 1, "no such table: _cf_KV (at this point of history)")]


def test_d1002_names_a_reserved_index_name(lint_history):
    """Guards against D1002's own message lost for `CREATE INDEX _cf_...` (the index name is not a table)."""
    report = lint_history(BASE, "CREATE INDEX IF NOT EXISTS _cf_idx ON sessions (title);")
    assert _findings(report) == [("D1002", 1, "_cf_idx: names starting with _cf_ are reserved by D1")]


ENGINE_DENIALS = [
    # Statements only the engine's authorizer refuses (no static rule reads them): its message names what.
    ("EXPLAIN BEGIN;", ("D1001", 1, "transaction control is refused by D1 (not authorized)")),
    ("SELECT * FROM pragma_journal_mode;", ("D1003", 1, "PRAGMA journal_mode is refused by D1 (not authorized)")),
    ("EXPLAIN ATTACH DATABASE 'other.db' AS other;", ("D1002", 1, "ATTACH/DETACH is refused by D1 (not authorized)")),
    ("EXPLAIN CREATE TEMP TABLE t (a TEXT);", ("D1002", 1, "a TEMP object is refused by D1 (not authorized)")),
    ("EXPLAIN CREATE VIRTUAL TABLE v USING fts4(a);",
     ("D1004", 1, "virtual-table module fts4 is refused by D1 (not authorized)")),
    ("CREATE TRIGGER IF NOT EXISTS _cf_trigger AFTER INSERT ON sessions BEGIN SELECT 1; END;",
     ("D1002", 1, "_cf_trigger is refused by D1 (not authorized)")),
]


@pytest.mark.parametrize(("body", "expected"), ENGINE_DENIALS, ids=[expected[0] + "-" + body.split()[1] for body, expected in ENGINE_DENIALS])
def test_a_denial_only_the_engine_sees_names_what_d1_refuses(body, expected, lint_history):
    """Guards against an authorizer refusal described as the wrong kind of thing, or as nothing."""
    assert _findings(lint_history(BASE, body)) == [expected]


def test_drop_constraint_is_a_syntax_error_not_a_dropped_column(lint_history):
    """Guards against ALTER TABLE ... DROP CONSTRAINT (which SQLite does not have) reported as a column's data lost."""
    assert _findings(lint_history(BASE, "ALTER TABLE sessions DROP CONSTRAINT u;")) == [
        ("SQL004", 1, 'near "CONSTRAINT": syntax error')]


def test_a_contract_finding_points_at_the_statement_naming_the_table_in_any_case(lint_history):
    """Guards against CON001 blamed on the file's last statement when the first one, naming the
    table in upper case, is the one that drops the field."""
    report = lint_history(contract_cases.BASE, "-- hyphae: allow SAFE001 test\nALTER TABLE SPORES DROP COLUMN tags;\n"
                                               "CREATE INDEX IF NOT EXISTS i ON knowledge_release_state (state);")
    assert [(finding.code, finding.line) for finding in report.findings if finding.code == "CON001"] == [("CON001", 2)]


def test_safe001_names_a_column_dropped_without_the_column_keyword_whole(lint_history):
    """Guards against `DROP "Xbody"` (no COLUMN keyword, read from sqlglot's raw text) named without
    its leading X, and `DROP` with no name at all reported as a column lost."""
    report = lint_history(X_TABLES, 'ALTER TABLE "Xnotes" DROP "Xbody";')
    assert _findings(report) == [("SAFE001", 1, "DROP COLUMN Xbody on Xnotes deletes that column's data")]
    assert _findings(lint_history(BASE, "ALTER TABLE sessions DROP;")) == [("SQL004", 1, 'near ";": syntax error')]


def test_con001_judges_a_synced_table_that_has_only_machine_id_and_synced_at(lint_history):
    """Guards against a contract table holding exactly machine_id and synced_at not counting as synced."""
    report = lint_history("CREATE TABLE IF NOT EXISTS spores (machine_id TEXT NOT NULL, synced_at INTEGER);",
                          "-- hyphae: allow SAFE001 test\nDROP TABLE spores;")
    assert [finding.code for finding in report.findings if finding.allowed_reason is None] == ["CON001"]


def test_his005_message_whole(tmp_path):
    """Guards against HIS005's message losing the entry, the file or what may have happened."""
    for name in ["0001_a.sql", "0002_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    sum_without_baseline(tmp_path)
    (tmp_path / "0002_b.sql").write_text("SELECT 2;\n")
    assert _findings(lint_migrations(tmp_path)) == [
        ("HIS005", 3, "hyphae.sum is stale from entry 2 (0002_b.sql): history was edited, inserted, removed or reordered")]


UNKEYED_SPORES = ("CREATE TABLE IF NOT EXISTS spores (id TEXT, machine_id TEXT, content TEXT NOT NULL, tags TEXT, "
                  "synced_at INTEGER);")


def _rebuilt_spores(columns: str) -> str:
    return (f"CREATE TABLE IF NOT EXISTS spores_new ({columns});\n"
            "INSERT INTO spores_new (id, machine_id, content, tags, synced_at) "
            "SELECT id, machine_id, content, tags, synced_at FROM spores;\n"
            "-- hyphae: allow SAFE001 rebuilt\nDROP TABLE spores;\nALTER TABLE spores_new RENAME TO spores;")


def _contract_findings(report):
    return [(finding.code, finding.message) for finding in report.findings if finding.code.startswith("CON")]


def test_con002_does_not_count_the_row_s_key_becoming_not_null(lint_history):
    """Guards against CON002 on id or machine_id made NOT NULL by a rebuild: the client always sends the key."""
    report = lint_history(UNKEYED_SPORES, _rebuilt_spores(
        "id TEXT NOT NULL, machine_id TEXT NOT NULL, content TEXT NOT NULL, tags TEXT, synced_at INTEGER"))
    assert _contract_findings(report) == []


def test_con002_names_every_column_that_becomes_not_null(lint_history):
    """Guards against CON002's message joining two tightened columns wrongly."""
    report = lint_history(UNKEYED_SPORES, _rebuilt_spores(
        "id TEXT, machine_id TEXT, content TEXT NOT NULL, tags TEXT NOT NULL, synced_at INTEGER NOT NULL"))
    assert _contract_findings(report) == [
        ("CON002", "spores.tags, synced_at becomes NOT NULL without a default: a record without it (or a Worker of "
                   "the previous release) fails to write")]


def test_dropping_a_table_that_cascades_onto_itself_is_safe001_only(lint_history):
    """Guards against SAFE004 for a table whose foreign key points at itself: its rows go with the table anyway."""
    report = lint_history("CREATE TABLE IF NOT EXISTS tree (id TEXT NOT NULL PRIMARY KEY, "
                          "parent_id TEXT REFERENCES tree (id) ON DELETE CASCADE);",
                          "-- hyphae: allow SAFE001 retired\nDROP TABLE tree;")
    assert [(finding.code, finding.allowed_reason is not None) for finding in report.findings] == [("SAFE001", True)]


def test_a_drop_table_with_a_comment_after_it_is_still_safe001(lint_history):
    """Guards against a DROP TABLE the rebuild trace does not read (a comment after the name) losing
    SAFE001, or gaining a wrong "where the rows went" suffix: the table and its rows are gone."""
    for body in ["DROP TABLE spores -- gone for good\n;", "DROP TABLE spores /* gone */;"]:
        assert _findings(lint_history(BASE, body)) == [("SAFE001", 1, "DROP TABLE spores deletes the table and its data")]


def test_safe002_names_the_rebuilt_table_as_dropped_and_every_renamed_column(lint_history):
    """Guards against the rebuild's SAFE002 naming the table otherwise than the DROP TABLE does, or
    joining two renamed columns wrongly."""
    report = lint_history(BASE, "CREATE TABLE IF NOT EXISTS __new_sessions (id TEXT NOT NULL PRIMARY KEY, state TEXT, "
                                "headline TEXT);\nINSERT INTO __new_sessions (id, state, headline) SELECT id, status, title "
                                "FROM sessions;\nDROP TABLE Sessions;\nALTER TABLE __new_sessions RENAME TO sessions;")
    assert _findings(report) == [
        ("SAFE002", 3, "the rebuild of Sessions renames column(s) status to state, title to headline (their values "
                       "arrive there): the Worker still using the old name breaks")]


@pytest.mark.parametrize("ghost", ["", "CREATE VIEW IF NOT EXISTS ghost AS SELECT 1 AS id;\n"], ids=["missing", "a-view"])
def test_safe004_only_for_a_table_that_exists(ghost, lint_history):
    """Guards against SAFE004 for a DROP TABLE of a name that is no table (missing, or a view) which a
    child's foreign key happens to name."""
    report = lint_history(BASE, ghost + "CREATE TABLE IF NOT EXISTS haunted (id TEXT PRIMARY KEY, "
                                        "ghost_id TEXT REFERENCES ghost (id) ON DELETE CASCADE);\nDROP TABLE IF EXISTS ghost;")
    assert "SAFE004" not in [finding.code for finding in report.findings]


def test_ord003_reads_a_quoted_name_that_starts_with_x(lint_history):
    """Guards against the IF NOT EXISTS twin of ORD003 stripping more than the quotes off the name."""
    report = lint_history(X_TABLES, 'CREATE TABLE IF NOT EXISTS "Xnotes" (id TEXT);')
    assert _findings(report) == [
        ("ORD003", 1, "table Xnotes already exists (table made earlier); IF NOT EXISTS skips this definition")]
