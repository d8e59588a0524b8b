"""HIS002-HIS004 from the ledger, and the same findings through `invoke lint --env`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from infra.history.files import read_migrations
from infra.ledger.read import LedgerState
from infra.ledger.schema import AppliedMigration
from infra.ledger.verify import ledger_findings_for_environment, verify_ledger
from infra.paths import REPO_ROOT
from infra.runner.apply import run_migrate


def _folder(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in names:
        (folder / name).write_text(f"CREATE TABLE t_{name[:4]} (id INTEGER PRIMARY KEY);\n")
    return folder


def _applied(folder: Path, *names: str, sha256: str | None = "file") -> LedgerState:
    files = {migration.name: migration for migration in read_migrations(folder)}
    rows = []
    for name in names:
        checksum = files[name].sha256 if sha256 == "file" and name in files else sha256
        rows.append(AppliedMigration(name, "2026-11-22 05:00:00", checksum))
    return LedgerState(rows, has_checksum_table=True)


def test_a_matching_history_has_no_findings(tmp_path):
    folder = _folder(tmp_path, ["0001_a.sql", "0002_b.sql", "0003_c.sql"])
    state = _applied(folder, "0001_a.sql", "0002_b.sql")
    assert verify_ledger(read_migrations(folder), state, "staging", folder) == []


def test_his002_names_the_file_both_checksums_and_what_to_do(tmp_path):
    folder = _folder(tmp_path, ["0001_a.sql"])
    state = _applied(folder, "0001_a.sql", sha256="ab" * 32)
    (finding,) = verify_ledger(read_migrations(folder), state, "staging", folder)
    assert (finding.code, finding.severity, finding.file) == ("HIS002", "error", str(folder / "0001_a.sql"))
    assert "0001_a.sql was edited after it was applied to staging (applied sha256 abababababab" in finding.message
    assert "new migration" in finding.hint


def test_his003_names_the_missing_file_and_the_applied_checksum(tmp_path):
    folder = _folder(tmp_path, ["0001_a.sql"])
    state = LedgerState([AppliedMigration("0001_a.sql", "t", None), AppliedMigration("0002_gone.sql", "t", "cd" * 32)])
    (finding,) = [f for f in verify_ledger(read_migrations(folder), state, "production", folder) if f.code == "HIS003"]
    assert finding.message == (f"migration 0002_gone.sql is recorded as applied in production but "
                               f"{folder / '0002_gone.sql'} is missing")
    assert finding.hint == "restore the file from git (it was applied with sha256 cdcdcdcdcdcd)"


def test_his004_flags_every_unapplied_file_sorting_before_the_last_applied(tmp_path):
    folder = _folder(tmp_path, ["0001_a.sql", "0002_b.sql", "0003_c.sql", "0004_d.sql"])
    state = _applied(folder, "0001_a.sql", "0003_c.sql")
    findings = verify_ledger(read_migrations(folder), state, "dev", folder)
    assert [(finding.code, Path(finding.file).name) for finding in findings] == [("HIS004", "0002_b.sql")]
    assert "0005_b.sql" in findings[0].hint


def test_his004_flags_a_file_sorting_before_the_only_applied_migration(tmp_path):
    """Guards against HIS004 being checked only when more than one migration is applied: a late
    0001 merged beside an applied 0002 would run after it."""
    folder = _folder(tmp_path, ["0001_late.sql", "0002_b.sql"])
    findings = verify_ledger(read_migrations(folder), _applied(folder, "0002_b.sql"), "dev", folder)
    assert [(finding.code, Path(finding.file).name) for finding in findings] == [("HIS004", "0001_late.sql")]
    assert "sorts before 0002_b.sql, which is" in findings[0].message


def test_wrangler_rows_without_checksums_are_not_edits(tmp_path):
    folder = _folder(tmp_path, ["0001_a.sql"])
    assert verify_ledger(read_migrations(folder), _applied(folder, "0001_a.sql", sha256=None), "dev", folder) == []


def test_findings_for_an_environment_read_its_database_without_writing(tmp_path):
    folder = _folder(tmp_path, ["0001_a.sql", "0002_b.sql"])
    run_migrate("local", folder)
    (folder / "0001_a.sql").write_text("CREATE TABLE t_0001 (id INTEGER PRIMARY KEY, extra TEXT);\n")
    findings = ledger_findings_for_environment("local", folder)
    assert [finding.code for finding in findings] == ["HIS002"]


def test_lint_with_env_shows_ledger_findings_and_fails(tmp_path):
    folder = _folder(tmp_path, ["0001_a.sql"])
    run_migrate("local", folder)
    (folder / "0001_a.sql").write_text("CREATE TABLE t_0001 (id INTEGER PRIMARY KEY, extra TEXT);\n")
    result = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "invoke"), "lint", "--path", str(folder), "--env", "local"],
                            cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 1
    assert "HIS002" in result.stdout and "was edited after it was applied to local" in result.stdout


def test_each_finding_is_an_error_at_line_1_column_1_of_the_file_to_fix(tmp_path):
    """Guards against a finding that CI would render at the wrong place, or not as an error (the
    runner refuses on errors only)."""
    folder = _folder(tmp_path, ["0001_a.sql", "0002_b.sql", "0003_c.sql"])
    state = LedgerState([AppliedMigration("0001_a.sql", "t", "ab" * 32), AppliedMigration("0003_c.sql", "t", None),
                         AppliedMigration("0004_gone.sql", "t", None)])
    findings = verify_ledger(read_migrations(folder), state, "staging", folder)
    assert [(f.code, f.severity, Path(f.file).name, f.line, f.column) for f in findings] == [
        ("HIS002", "error", "0001_a.sql", 1, 1), ("HIS003", "error", "0004_gone.sql", 1, 1),
        ("HIS004", "error", "0002_b.sql", 1, 1)]
    edited, missing, out_of_order = findings
    files = {migration.name: migration for migration in read_migrations(folder)}
    assert edited.message == (f"0001_a.sql was edited after it was applied to staging (applied sha256 {'ab' * 6}, "
                              f"file now {files['0001_a.sql'].sha256[:12]})")
    assert edited.hint == "revert the edit (`git checkout` the applied version) and put the change in a new migration"
    assert missing.hint == "restore the file from git (it was applied by wrangler)"
    assert out_of_order.message == ("0002_b.sql is not applied to staging but sorts before 0004_gone.sql, which is: "
                                    "it would run out of order")
    assert out_of_order.hint == f"renumber it after the applied history, e.g. `git mv {folder / '0002_b.sql'} {folder / '0004_b.sql'}`"


def test_reading_an_environments_history_opens_it_read_only_and_keeps_what_it_read(tmp_path):
    """Guards against `lint --env local` creating the local database, or losing what it read."""
    from infra.ledger.verify import read_environment_history
    from infra.paths import local_d1_file

    folder = _folder(tmp_path, ["0001_a.sql"])
    history = read_environment_history("local", folder)
    assert not local_d1_file("myco-team-local").exists()
    assert history.target_description.startswith("local D1 file ")
    assert [migration.name for migration in history.files] == ["0001_a.sql"]
    assert history.state.applied == [] and history.findings == []
    run_migrate("local", folder)
    assert [entry.name for entry in read_environment_history("local", folder).state.applied] == ["0001_a.sql"]


def test_his004_suggests_the_next_free_number_keeping_the_whole_name(tmp_path):
    """Guards against the suggested `git mv` cutting a name with several words (0002_add_users_table.sql
    would become 0005_table.sql) or failing on a file without a number."""
    folder = _folder(tmp_path, ["0001_a.sql", "0002_add_users_table.sql", "0004_d.sql"])
    (finding,) = verify_ledger(read_migrations(folder), _applied(folder, "0001_a.sql", "0004_d.sql"), "dev", folder)
    assert finding.hint == (f"renumber it after the applied history, e.g. `git mv {folder / '0002_add_users_table.sql'} "
                            f"{folder / '0005_add_users_table.sql'}`")
    (tmp_path / "unnumbered").mkdir()
    folder = _folder(tmp_path / "unnumbered", ["0001_a.sql", "seed.sql", "zz.sql"])
    (finding,) = verify_ledger(read_migrations(folder), _applied(folder, "0001_a.sql", "zz.sql"), "dev", folder)
    assert finding.hint == f"renumber it after the applied history, e.g. `git mv {folder / 'seed.sql'} {folder / '0002_seed.sql'}`"


def test_his004_reads_the_last_applied_in_wranglers_order_past_9999(tmp_path):
    """Guards against the last applied migration being found by text order: after 10000_c.sql was
    applied, 9999_a.sql sorts last as text, and a late 10000_b.sql would not be flagged."""
    folder = _folder(tmp_path, ["9999_a.sql", "10000_b.sql", "10000_c.sql"])
    findings = verify_ledger(read_migrations(folder), _applied(folder, "9999_a.sql", "10000_c.sql"), "dev", folder)
    assert [(finding.code, Path(finding.file).name) for finding in findings] == [("HIS004", "10000_b.sql")]
    assert "sorts before 10000_c.sql, which is" in findings[0].message
