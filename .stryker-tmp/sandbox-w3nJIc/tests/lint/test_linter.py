"""The linter over whole folders: the committed history, the upstream ordering bug, history rules,
directives, the replay on tables with rows, and the replay cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.history.files import read_migrations
from infra.history.sumfile import write_sum
from infra.lint import lint_migrations
from infra.lint.cache import cache_dir
from infra.paths import DEFAULT_MIGRATIONS_DIR
from tests.lint.conftest import codes_at, write_history

INDEX_FIRST = "CREATE INDEX IF NOT EXISTS idx_prompt_batches_parent ON prompt_batches (parent_prompt_batch_id);\n"
ALTER = "ALTER TABLE prompt_batches ADD COLUMN parent_prompt_batch_id INTEGER;"


def test_committed_team_sync_history_lints_without_findings():
    report = lint_migrations(DEFAULT_MIGRATIONS_DIR, use_cache=False)
    # Only the table rebuilds of 0006 (text ids) are findings: allowed, each with its reason.
    allowed = [finding for finding in report.findings if finding.allowed_reason]
    assert report.findings == allowed and report.notes == []
    assert {(Path(finding.file).name, finding.code) for finding in allowed} == {("0006_text_ids.sql", "SAFE001")}
    assert all(finding.allowed_reason.startswith("table rebuild: every row was copied") for finding in allowed)
    assert report.files_checked == len(read_migrations(DEFAULT_MIGRATIONS_DIR)) and report.statements_checked > 50


@pytest.fixture
def history_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(DEFAULT_MIGRATIONS_DIR, folder)
    return folder


def test_upstream_bug_index_before_its_column_is_ord002_at_the_index_line(history_copy):
    skills = history_copy / "0002_skills.sql"
    text = skills.read_text().replace(INDEX_FIRST, "").replace(ALTER, INDEX_FIRST + ALTER)
    skills.write_text(text)
    write_sum(history_copy, read_migrations(history_copy))
    line = text.splitlines().index(INDEX_FIRST.strip()) + 1
    report = lint_migrations(history_copy)
    assert [(finding.code, finding.line) for finding in report.errors] == [("ORD002", line)]
    assert "parent_prompt_batch_id" in report.errors[0].message


def test_edited_history_is_his005_at_the_first_stale_sum_line(history_copy):
    (history_copy / "0003_project_scoping.sql").write_text(
        (history_copy / "0003_project_scoping.sql").read_text() + "\n-- edited\n")
    report = lint_migrations(history_copy)
    assert [(finding.code, finding.line) for finding in report.errors] == [("HIS005", 4)]
    assert report.errors[0].file.endswith("hyphae.sum") and "0003_project_scoping.sql" in report.errors[0].message


def test_folder_without_sum_is_linted_with_a_note(tmp_path):
    write_history(tmp_path / "m", "CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY);")
    report = lint_migrations(tmp_path / "m")
    assert report.ok and "invoke lint --write-sum" in report.notes[0]


@pytest.mark.parametrize(("names", "bad"), [
    (["0001_a.sql", "0003_b.sql"], "0003_b.sql"),
    (["0001_a.sql", "0001_b.sql"], "0001_b.sql"),
    (["0001_a.sql", "0002-Bad.sql"], "0002-Bad.sql"),
    (["0002_a.sql"], "0002_a.sql"),
])
def test_his001_names_numbering_duplicates_and_gaps(tmp_path, names, bad):
    for name in names:
        (tmp_path / name).write_text("SELECT 1;\n")
    report = lint_migrations(tmp_path)
    assert [(Path(finding.file).name, finding.code) for finding in report.errors] == [(bad, "HIS001")]


def test_allow_directive_needs_a_reason_and_marks_the_finding(lint_history):
    report = lint_history("CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS b (id INTEGER PRIMARY KEY);",
                          "-- hyphae: allow SAFE001 archived to R2 in release 12\nDROP TABLE a;\n\n-- hyphae: allow SAFE001\nDROP TABLE b;")
    allowed, no_reason, blocking = report.findings
    assert (allowed.code, allowed.allowed_reason, allowed.blocks) == ("SAFE001", "archived to R2 in release 12", False)
    assert (no_reason.code, no_reason.line, no_reason.blocks) == ("LINT001", 4, True)
    assert "has no reason" in no_reason.message and "allow SAFE001 <why" in no_reason.hint
    assert (blocking.code, blocking.blocks, blocking.line) == ("SAFE001", True, 5)
    assert "needs a reason" in blocking.hint
    assert report.summary()["allowed"] == 1 and report.summary()["errors"] == 2


def test_a_statement_d1_refuses_cannot_be_allowed(lint_history):
    report = lint_history("-- hyphae: allow D1001 we really want a transaction\nBEGIN;")
    directive, finding = report.findings
    assert (directive.code, directive.line, directive.blocks) == ("LINT001", 1, True)
    assert "D1001 cannot be allowed" in directive.message and "SAFE001" in directive.hint
    assert (finding.code, finding.line) == ("D1001", 2)
    assert finding.blocks and finding.allowed_reason is None and "cannot be allowed" in finding.hint


def test_directive_separated_by_a_blank_line_does_not_apply_and_is_reported(lint_history):
    report = lint_history("CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY);", "-- hyphae: allow SAFE001 reason\n\nDROP TABLE a;")
    assert [(finding.code, finding.line) for finding in report.errors] == [("LINT001", 1), ("SAFE001", 3)]
    assert "applies to no statement" in report.errors[0].message


@pytest.mark.parametrize(("typo", "closest"), [("SAFE01", "SAFE001"), ("SAFE0001", "SAFE001"), ("safe003", None),
                                               ("IDEM01", "IDEM001"), ("SAFE009", "SAFE00")])
def test_directive_with_an_unknown_code_names_the_closest_code(lint_history, typo, closest):
    report = lint_history("CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, t TEXT);",
                          f"SELECT 1;\n-- hyphae: allow {typo} backfill of 20 rows\nUPDATE a SET t = 'x';")
    codes = [(finding.code, finding.line) for finding in report.findings]
    if closest is None:  # codes are read case-insensitively: this one is valid and allows SAFE003
        assert codes == [("SAFE003", 3)] and report.findings[0].allowed_reason == "backfill of 20 rows"
        return
    assert codes == [("LINT001", 2), ("SAFE003", 3)]
    directive = report.findings[0]
    assert f"names {typo}, which is no rule code" in directive.message
    assert directive.hint.startswith(f"did you mean {closest}")


def test_directive_that_allows_nothing_is_a_warning_and_changes_no_verdict(lint_history):
    report = lint_history("CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, t TEXT);",
                          "-- hyphae: allow SAFE003 backfill of 20 rows\nUPDATE a SET t = 'x' WHERE id = 1;")
    (finding,) = report.findings
    assert (finding.code, finding.severity, finding.line) == ("LINT002", "warning", 1)
    assert report.ok


def test_an_allowed_warning_counts_as_allowed_only(lint_history):
    report = lint_history("-- hyphae: allow IDEM001 the first migration runs once on an empty database\n"
                          "CREATE TABLE t (id INTEGER PRIMARY KEY);")
    (finding,) = report.findings
    assert (finding.code, finding.allowed_reason) == ("IDEM001", "the first migration runs once on an empty database")
    assert report.summary() | {"files": 0, "statements": 0} == {"files": 0, "statements": 0, "errors": 0, "warnings": 0,
                                                                  "allowed": 1}


def test_not_null_without_default_fails_only_on_tables_that_existed_before(lint_history):
    report = lint_history("CREATE TABLE IF NOT EXISTS old (id INTEGER PRIMARY KEY);",
                          "CREATE TABLE IF NOT EXISTS new (id INTEGER PRIMARY KEY);\n"
                          "ALTER TABLE new ADD COLUMN n INTEGER NOT NULL;\nALTER TABLE old ADD COLUMN n INTEGER NOT NULL;")
    assert codes_at(report, "0002_step_2.sql") == [("SQL002", 3)]


def test_data_dependent_failure_found_by_the_replay_with_rows(lint_history):
    # Static rules cannot see this: the rebuilt table makes a nullable column NOT NULL.
    report = lint_history("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, note TEXT);",
                          "CREATE TABLE IF NOT EXISTS t2 (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\n"
                          "INSERT INTO t2 (id, note) SELECT id, note FROM t;")
    assert codes_at(report, "0002_step_2.sql") == [("SAFE005", 2)]
    assert "NOT NULL constraint failed" in report.errors[0].message


def test_replay_continues_after_a_failing_statement(lint_history):
    report = lint_history("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);",
                          "ALTER TABLE missing ADD COLUMN a TEXT;\nALTER TABLE t ADD COLUMN b TEXT;\nCREATE INDEX IF NOT EXISTS i ON t (b);\n"
                          "CREATE INDEX IF NOT EXISTS j ON t (nope);")
    assert codes_at(report, "0002_step_2.sql") == [("ORD001", 1), ("ORD002", 4)]


def test_statement_positions_are_file_line_and_column(lint_history):
    report = lint_history("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);", "SELECT 1;   DROP TABLE t;")
    (finding,) = report.errors
    assert (Path(finding.file).name, finding.line, finding.column) == ("0002_step_2.sql", 1, 13)


def test_warm_cache_gives_the_same_findings_and_replays_only_new_files(tmp_path):
    folder = tmp_path / "m"
    write_history(folder, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT);",
                  "CREATE INDEX i ON t (a);", "DROP TABLE t;")
    cold = lint_migrations(folder)
    assert [finding.code for finding in cold.findings] == ["IDEM001", "SAFE001"]
    assert len(list(cache_dir().glob("*.json"))) == 1 and len(list(cache_dir().glob("*.sqlite"))) == 2
    warm = lint_migrations(folder)
    assert warm.findings == cold.findings and warm.statements_checked == cold.statements_checked
    (folder / "0004_step_4.sql").write_text("ALTER TABLE t ADD COLUMN b TEXT;\n")
    grown = lint_migrations(folder)
    assert [finding.code for finding in grown.findings] == ["IDEM001", "SAFE001", "ORD001"]


def test_warm_run_reads_the_checkpoint_instead_of_replaying(tmp_path):
    folder = tmp_path / "m"
    write_history(folder, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);", "DROP TABLE t;")
    lint_migrations(folder)
    (checkpoint,) = cache_dir().glob("*.json")
    checkpoint.write_text(checkpoint.read_text().replace("deletes the table and its data", "CACHED VERDICT"))
    (finding,) = lint_migrations(folder).findings
    assert finding.message == "DROP TABLE t CACHED VERDICT"
    assert lint_migrations(folder, use_cache=False).findings[0].message == "DROP TABLE t deletes the table and its data"


def _last(folder: Path) -> Path:
    return read_migrations(folder)[-1].path


def test_removed_file_makes_the_sum_stale_at_its_entry(history_copy):
    count = len(read_migrations(history_copy))
    _last(history_copy).unlink()
    report = lint_migrations(history_copy)
    assert [(finding.code, finding.line) for finding in report.errors] == [("HIS005", count + 1)]


def test_inserted_file_makes_the_sum_stale_at_its_entry(history_copy):
    last = _last(history_copy)
    number = int(last.name[:4])
    last.rename(history_copy / f"{number + 1:04d}{last.name[4:]}")
    (history_copy / f"{number:04d}_inserted.sql").write_text("CREATE TABLE IF NOT EXISTS inserted (id INTEGER PRIMARY KEY);\n")
    report = lint_migrations(history_copy)
    assert [(finding.code, finding.line) for finding in report.errors] == [("HIS005", number + 1)]
    assert f"entry {number} ({number:04d}_inserted.sql)" in report.errors[0].message


def test_file_added_without_updating_the_sum_is_stale_at_the_sum_s_last_line(history_copy):
    number = len(read_migrations(history_copy)) + 1
    (history_copy / f"{number:04d}_added.sql").write_text("CREATE TABLE IF NOT EXISTS added (id INTEGER PRIMARY KEY);\n")
    report = lint_migrations(history_copy)
    assert [(finding.code, finding.line) for finding in report.errors] == [("HIS005", number)]
    assert f"entry {number} ({number:04d}_added.sql)" in report.errors[0].message
    write_sum(history_copy, read_migrations(history_copy))
    assert [finding.code for finding in lint_migrations(history_copy).findings if not finding.allowed_reason] == []


def test_sum_with_a_damaged_line_is_stale_there(history_copy):
    sum_file = history_copy / "hyphae.sum"
    lines = sum_file.read_text().splitlines()
    lines[2] = lines[2].replace(" sha256:", " sha265:")
    sum_file.write_text("\n".join(lines) + "\n")
    assert [(finding.code, finding.line) for finding in lint_migrations(history_copy).errors] == [("HIS005", 3)]


def test_edit_of_an_early_file_invalidates_the_cache_for_everything_after_it(tmp_path):
    folder = tmp_path / "m"
    write_history(folder, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);", "CREATE INDEX IF NOT EXISTS i ON t (a);")
    assert [finding.code for finding in lint_migrations(folder).findings] == ["ORD002"]
    (folder / "0001_step_1.sql").write_text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, a TEXT);")
    assert lint_migrations(folder).findings == []


def test_damaged_cache_entry_is_ignored(tmp_path):
    folder = tmp_path / "m"
    write_history(folder, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY);", "DROP TABLE t;")
    first = lint_migrations(folder)
    for damage in ("{not json", "[1, 2]", '[{"name": "x"}]'):
        for entry in cache_dir().glob("*.json"):
            entry.write_text(damage)
        assert lint_migrations(folder).findings == first.findings
    for entry in cache_dir().glob("*.sqlite"):
        entry.write_bytes(b"not a database" * 100)
    assert lint_migrations(folder).findings == first.findings


def test_missing_folder_is_a_usage_error(tmp_path):
    from infra.errors import UsageError

    with pytest.raises(UsageError, match="no such migrations folder"):
        lint_migrations(tmp_path / "absent")


def test_findings_name_files_relative_to_the_working_directory(tmp_path, monkeypatch):
    write_history(tmp_path / "migrations", "BEGIN;")
    monkeypatch.chdir(tmp_path)
    report = lint_migrations(tmp_path / "migrations")
    assert [finding.file for finding in report.findings] == ["migrations/0001_step_1.sql"]
    assert report.notes == ["migrations/hyphae.sum does not exist: history integrity not checked; "
                            "create it with `invoke lint --write-sum`"]
