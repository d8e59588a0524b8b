"""The linter over whole folders: the committed history, the upstream ordering bug, history rules,
directives, the replay on tables with rows, and the replay cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.history.files import read_migrations
from infra.history.sumfile import read_baseline, write_sum
from infra.lint import lint_migrations
from infra.lint.cache import cache_dir
from infra.paths import DEFAULT_MIGRATIONS_DIR
from tests.lint.conftest import codes_at, sum_without_baseline, write_history

INDEX_FIRST = "CREATE INDEX IF NOT EXISTS idx_prompt_batches_parent ON prompt_batches (parent_prompt_batch_id);\n"
ALTER = "ALTER TABLE prompt_batches ADD COLUMN parent_prompt_batch_id INTEGER;"


def test_committed_team_sync_history_lints_without_findings():
    report = lint_migrations(DEFAULT_MIGRATIONS_DIR, use_cache=False)
    # 0006's table rebuilds (text ids) copy every column and row: the engine sees it, no SAFE001.
    assert report.findings == [] and report.notes == []
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
    sum_without_baseline(tmp_path)
    report = lint_migrations(tmp_path)
    assert [(Path(finding.file).name, finding.code) for finding in report.errors] == [(bad, "HIS001")]


WRANGLER_HISTORIES = [
    ["0000_init.sql", "0001_users.sql"],  # drizzle's default first number
    ["0001_a.sql", "0004_b.sql", "0004_c.sql"],  # a gap, two files with one number
    ["001_a.sql", "002-add-users.sql", "010_b.sql"],  # 3-digit numbers, hyphens
    ["20240101120000_init.sql", "20240302090000_more.sql"],  # timestamps
]


@pytest.mark.parametrize("names", WRANGLER_HISTORIES)
def test_a_history_wrangler_applies_lints_without_his001_before_the_baseline(tmp_path, names):
    for number, name in enumerate(names):
        (tmp_path / name).write_text(f"CREATE TABLE IF NOT EXISTS t{number} (id INTEGER PRIMARY KEY);\n")
    assert lint_migrations(tmp_path).findings == []  # no sum yet: no numbering rules
    write_sum(tmp_path, read_migrations(tmp_path))  # the first sum sets the baseline to the last file
    assert read_baseline(tmp_path) == names[-1]
    assert lint_migrations(tmp_path).findings == []


def test_files_after_the_baseline_follow_invoke_new_numbering(tmp_path):
    for name in ["001_a.sql", "002-b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    write_sum(tmp_path, read_migrations(tmp_path))
    (tmp_path / "0004_skipped.sql").write_text("SELECT 1;\n")
    (tmp_path / "0005-Bad.sql").write_text("SELECT 1;\n")
    write_sum(tmp_path, read_migrations(tmp_path))  # a rewrite keeps the baseline
    assert read_baseline(tmp_path) == "002-b.sql"
    report = lint_migrations(tmp_path)
    assert [(Path(finding.file).name, finding.code) for finding in report.errors] == [
        ("0004_skipped.sql", "HIS001"), ("0005-Bad.sql", "HIS001")]
    assert "0003 missing" in report.errors[0].message


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
    cold = lint_migrations(folder, enable=["IDEM001"])
    assert [finding.code for finding in cold.findings] == ["IDEM001", "SAFE001"]
    assert [finding.code for finding in lint_migrations(folder).findings] == ["SAFE001"]  # opt-in, same cache
    assert len(list(cache_dir().glob("*.json"))) == 1 and len(list(cache_dir().glob("*.sqlite"))) == 2
    warm = lint_migrations(folder, enable=["IDEM001"])
    assert warm.findings == cold.findings and warm.statements_checked == cold.statements_checked
    (folder / "0004_step_4.sql").write_text("ALTER TABLE t ADD COLUMN b TEXT;\n")
    grown = lint_migrations(folder, enable=["IDEM001"])
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


def test_a_with_rows_failure_caused_only_by_the_sample_value_is_not_reported(lint_history):
    # The seeded row holds plain text; json_extract fails on it ("malformed JSON"), not on '{}'.
    setup = "CREATE TABLE IF NOT EXISTS events (id TEXT NOT NULL PRIMARY KEY, payload TEXT NOT NULL);"
    report = lint_history(setup, "ALTER TABLE events ADD COLUMN kind TEXT;\n"
                                 "UPDATE events SET kind = json_extract(payload, '$.kind') WHERE kind IS NULL;")
    assert report.findings == []
    # ...while one that fails for any row still is (NOT NULL on a column the rows leave NULL)
    report = lint_history(setup + "\nALTER TABLE events ADD COLUMN note TEXT;",
                          "CREATE TABLE IF NOT EXISTS events_new (id TEXT NOT NULL PRIMARY KEY, note TEXT NOT NULL);\n"
                          "INSERT INTO events_new (id, note) SELECT id, note FROM events;")
    assert codes_at(report, "0002_step_2.sql") == [("SAFE005", 2)]


def test_triggers_are_judged_by_firing_them(lint_history):
    setup = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
    fts = ("CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(body, content='notes', content_rowid='id');\n"
           "CREATE TRIGGER IF NOT EXISTS notes_ai AFTER INSERT ON notes BEGIN\n"
           "  INSERT INTO notes_fts(rowid, body) VALUES (new.id, new.body); END;\n"
           "CREATE TRIGGER IF NOT EXISTS notes_ad AFTER DELETE ON notes BEGIN\n"
           "  INSERT INTO notes_fts(notes_fts, rowid, body) VALUES ('delete', old.id, old.body); END;\n"
           "CREATE TRIGGER IF NOT EXISTS notes_au AFTER UPDATE ON notes BEGIN\n"
           "  INSERT INTO notes_fts(notes_fts, rowid, body) VALUES ('delete', old.id, old.body);\n"
           "  INSERT INTO notes_fts(rowid, body) VALUES (new.id, new.body); END;")
    assert lint_history(setup, fts).findings == []  # rowid and the FTS5 command column are the engine's
    broken = lint_history(setup, "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, note_id INTEGER);\n"
                                 "CREATE TRIGGER IF NOT EXISTS notes_log AFTER DELETE ON notes BEGIN\n"
                                 "  INSERT INTO log (note_id, what) VALUES (old.id, 'gone'); END;\n"
                                 "CREATE TRIGGER IF NOT EXISTS notes_version AFTER UPDATE ON notes BEGIN\n"
                                 "  SELECT sqlite_version(); END;")
    assert codes_at(broken, "0002_step_2.sql") == [("ORD002", 2), ("D1004", 4)]
    assert "error in trigger notes_log: table log has no column named what" in broken.errors[0].message


def test_prisma_layout_and_drizzle_breakpoints_lint_as_is(tmp_path):
    for folder, sql in [("20250101000000_init", 'CREATE TABLE "User" ("id" TEXT NOT NULL PRIMARY KEY, "email" TEXT NOT NULL);\n'
                                                 'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n'),
                        ("20250102000000_posts", 'CREATE TABLE `post` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`title` text\n);'
                                                  '\n--> statement-breakpoint\nCREATE INDEX `post_title` ON `post` (`title`);--> statement-breakpoint\n'
                                                  'ALTER TABLE `post` ADD `body` text;')]:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "migration.sql").write_text(sql)
    (tmp_path / "migration_lock.toml").write_text('provider = "sqlite"\n')
    report = lint_migrations(tmp_path)
    assert report.findings == [] and report.files_checked == 2 and report.statements_checked == 5
    assert [file.name for file in read_migrations(tmp_path)] == ["20250101000000_init/migration.sql",
                                                                 "20250102000000_posts/migration.sql"]
