"""Reading a ledger: what a database hyphae migrated, one wrangler migrated and one with a foreign
`d1_migrations` read as, and the lease holder as `status` and LockHeld describe it."""

from __future__ import annotations

import sqlite3

import pytest

from infra.errors import LedgerMismatch
from infra.ledger.lock import LockHolder
from infra.ledger.read import LedgerState, read_ledger
from infra.ledger.schema import AppliedMigration
from infra.ledger.verify import read_environment_history
from infra.paths import local_d1_file
from infra.runner.apply import run_migrate
from infra.targets.local import LocalTarget
from tests.ledger.test_adopt import HISTORY, _folder, _wrangler_migrated


def test_a_database_hyphae_migrated_reads_with_checksums_and_its_last_restore_point(tmp_path):
    """Guards against the last restore point (what `status` shows and `restore` offers) not being read."""
    report = run_migrate("local", _folder(tmp_path, HISTORY))
    target = LocalTarget(local_d1_file("myco-team-local"))
    try:
        state = read_ledger(target)
    finally:
        target.close()
    assert [entry.name for entry in state.applied] == list(HISTORY) and state.has_checksum_table and state.lock is None
    assert {key: state.last_restore_point[key] for key in ("kind", "reference")} == {
        "kind": report.restore_point.kind, "reference": report.restore_point.reference}


def test_a_database_only_wrangler_migrated_reads_as_unadopted_rows(tmp_path):
    """Guards against a ledger without hyphae's tables being read as checksummed."""
    database = local_d1_file("myco-team-local")
    _wrangler_migrated(database, HISTORY, list(HISTORY))
    target = LocalTarget(database)
    try:
        state = read_ledger(target)
    finally:
        target.close()
    assert [(entry.name, entry.sha256) for entry in state.applied] == [(name, None) for name in HISTORY]
    assert (state.lock, state.last_restore_point, state.has_checksum_table) == (None, None, False)


def test_a_d1_migrations_table_that_is_not_a_ledger_is_refused_saying_to_rename_it(tmp_path):
    database = tmp_path / "db.sqlite"
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE d1_migrations (title TEXT)")  # someone's own table of that name
    connection.close()
    target = LocalTarget(database)
    try:
        with pytest.raises(LedgerMismatch) as caught:
            read_ledger(target)
    finally:
        target.close()
    assert str(caught.value) == (f"could not read the ledger of local D1 file {database}: no such column: name: SQLITE_ERROR; a table "
                                 "named d1_migrations or hyphae_* that is not hyphae's must be renamed")


def test_an_environments_history_names_the_environment_and_the_folder_in_its_findings(tmp_path):
    run_migrate("local", _folder(tmp_path, HISTORY))
    other = tmp_path / "other"
    other.mkdir()
    (other / "0001_accounts.sql").write_text(HISTORY["0001_accounts.sql"])
    (finding,) = read_environment_history("local", other).findings
    assert finding.code == "HIS003" and finding.file == str(other / "0002_projects.sql")
    assert finding.message == f"migration 0002_projects.sql is recorded as applied in local but {other / '0002_projects.sql'} is missing"


def test_an_expired_lease_is_described_as_ending_in_0_seconds():
    assert LockHolder("ci@runner pid 7", "r1", "h", 7, -40).describe() == "ci@runner pid 7 (run r1, lease ends in 0 s)"
    assert LockHolder("ci@runner pid 7", "r1", "h", 7, 120).describe() == "ci@runner pid 7 (run r1, lease ends in 120 s)"


def test_an_empty_database_reads_as_an_empty_ledger(tmp_path):
    target = LocalTarget(tmp_path / "empty.sqlite")
    try:
        assert read_ledger(target) == LedgerState()
    finally:
        target.close()
    assert LedgerState([AppliedMigration("0001_a.sql", "t", None)]).unadopted[0].name == "0001_a.sql"


def test_each_applied_row_says_when_by_which_run_and_whether_it_was_adopted(tmp_path):
    """Guards against `status` losing when a migration was applied, by which run, or that it was adopted."""
    import re

    from infra.runner.apply import MigrateOptions

    folder = _folder(tmp_path, HISTORY)
    _wrangler_migrated(local_d1_file("myco-team-local"), HISTORY, ["0001_accounts.sql"])
    run_migrate("local", folder, MigrateOptions(adopt=True))
    target = LocalTarget(local_d1_file("myco-team-local"))
    try:
        adopted, applied = read_ledger(target).applied
    finally:
        target.close()
    assert (adopted.name, adopted.adopted, applied.name, applied.adopted) == ("0001_accounts.sql", True, "0002_projects.sql", False)
    assert adopted.run_id == applied.run_id and re.fullmatch(r"[0-9a-f]{16}", applied.run_id)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", entry.applied_at) for entry in (adopted, applied))
