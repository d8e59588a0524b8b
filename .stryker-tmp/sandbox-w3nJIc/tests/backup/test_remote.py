"""Backup and restore of a remote environment through the official SDK, against the loopback D1 API.

The loopback's export writes D1's format (values formatted as D1 does), its import runs the file
under D1's rules in one transaction, and its storage URLs take no API token; faults: a stalled
export, a download cut short, a changed download, a changed upload.
"""

from __future__ import annotations

import pytest
from loopback import point_dev_at_new_database

from infra.backup.manifest import read_manifest
from infra.backup.restore import RestoreOptions, restore_backup
from infra.backup.take import take_backup
from infra.errors import BackupUnverified, LockHeld, RemoteApiError, RestoreFailed, UsageError
from infra.paths import DEFAULT_MIGRATIONS_DIR, backups_dir
from infra.runner.apply import run_migrate
from infra.targets.d1_transfer_api import TransferTimings
from tests.backup.helpers import add_awkward_rows, snapshot

FAST = TransferTimings(poll_interval=0.01, deadline=2.0)


@pytest.fixture
def dev(cloudflare_env, monkeypatch):
    """Environment dev on a fresh loopback database, migrated, with awkward rows; (api, database id)."""
    path = point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    add_awkward_rows(path)
    database_id = path.stem
    return cloudflare_env, database_id


def restore_new(backup, **options):
    return restore_backup("dev", backup, options=RestoreOptions(timings=FAST, **options))


def test_a_remote_backup_restored_into_a_new_d1_database_holds_every_row_d1s_export_keeps(dev):
    api, database_id = dev
    result = take_backup("dev", timings=FAST)
    manifest = read_manifest(result.path)
    assert manifest.method == "d1-export-api" and manifest.bookmark and manifest.verified
    assert result.path.parent == backups_dir() / "dev"

    restored = restore_new(result.path)
    assert restored.database_id != database_id and api.d1.name(restored.database_id).startswith("myco-team-dev-restore-")
    original, copy = snapshot(api.d1.path(database_id)), snapshot(api.d1.path(restored.database_id))
    assert copy["objects"] == original["objects"]
    changed = {table for table in original["rows"] if original["rows"][table] != copy["rows"][table]}
    # D1's export changes exactly the values lossy.py looks for, and the backup said so beforehand.
    assert changed == {"sessions"}
    assert any("row(s) of sessions hold values D1's export does not write back exactly" in warning
               for warning in manifest.warnings)
    assert "Pulumi.dev.yaml" in restored.next_steps[1] and "pulumi state delete" in restored.next_steps[2]


def test_rows_d1_writes_back_exactly_round_trip_unchanged(cloudflare_env, monkeypatch):
    path = point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    from infra.bench.teamsync_rows import fill_team_sync_tables

    fill_team_sync_tables(path, 1_000)
    result = take_backup("dev", timings=FAST)
    assert read_manifest(result.path).warnings == []
    restored = restore_new(result.path)
    assert snapshot(cloudflare_env.d1.path(restored.database_id)) == snapshot(path)


def test_the_signed_urls_never_receive_the_api_token(dev):
    api, _ = dev
    result = take_backup("dev", timings=FAST)
    restore_new(result.path)
    storage = [request for request in api.log if request.route.startswith("storage.")]
    assert {request.route for request in storage} == {"storage.download", "storage.upload"}
    assert all("authorization" not in request.headers for request in storage)
    assert all(api.token.encode() not in request.body for request in storage)


def test_a_stalled_export_gives_up_at_the_deadline_and_keeps_no_file(dev):
    api, _ = dev
    api.d1_transfer.stall_exports = True
    with pytest.raises(RemoteApiError, match=r"the export of D1 database .* did not finish within 2 s \(D1 kept "
                                             r"answering 'in progress'\); hyphae stopped polling"):
        take_backup("dev", timings=FAST)
    assert not list((backups_dir() / "dev").iterdir())
    assert api.requests["d1.export"] > 2  # it kept polling until the deadline


def test_a_download_cut_short_is_fetched_again(dev):
    api, _ = dev
    api.d1_transfer.truncate_downloads = 1
    result = take_backup("dev", timings=FAST)
    assert api.requests["storage.download"] == 2 and read_manifest(result.path).verified


def test_a_download_that_keeps_arriving_cut_short_fails_and_keeps_no_file(dev):
    api, _ = dev
    api.d1_transfer.truncate_downloads = 5
    with pytest.raises(RemoteApiError, match=r"could not be downloaded in 3 attempts \(last: .*truncated|could not be "
                                             r"downloaded in 3 attempts \(last: RemoteProtocolError"):
        take_backup("dev", timings=FAST)
    assert not list((backups_dir() / "dev").iterdir())


def test_a_download_whose_checksum_differs_from_the_storage_etag_is_fetched_again(dev):
    api, _ = dev
    api.d1_transfer.corrupt_downloads = 1
    result = take_backup("dev", timings=FAST)
    assert api.requests["storage.download"] == 2 and read_manifest(result.path).verified
    api.d1_transfer.corrupt_downloads = 3
    with pytest.raises(RemoteApiError, match=r"differs from the storage ETag"):
        take_backup("dev", timings=FAST)


def test_an_upload_that_arrives_changed_is_not_imported_and_the_new_database_is_deleted(dev):
    api, _ = dev
    result = take_backup("dev", timings=FAST)
    databases = set(api.d1.ids())
    api.d1_transfer.corrupt_uploads = 1
    with pytest.raises(RemoteApiError, match=r"the upload of import\.sql arrived changed \(md5 \w{12}, storage ETag \w{12}\); nothing was imported"):
        restore_new(result.path)
    assert set(api.d1.ids()) == databases and api.requests["d1.delete"] == 1


def test_restore_in_place_takes_a_bookmark_and_replaces_every_table(dev):
    api, database_id = dev
    before = snapshot(api.d1.path(database_id))
    result = take_backup("dev", timings=FAST)
    connection = api.d1.connect(database_id)
    connection.execute("DELETE FROM spores")
    connection.execute("CREATE TABLE out_of_band (x)")
    connection.close()
    restored = restore_new(result.path, in_place=True, confirm=lambda question: True)
    after = snapshot(api.d1.path(database_id))
    assert after["objects"] == before["objects"] and after["rows"]["spores"] == before["rows"]["spores"]
    assert "undo with: invoke restore --env dev --bookmark" in restored.summary
    assert api.requests["d1.bookmark"] >= 1


def test_a_failed_in_place_import_puts_the_database_back_to_its_bookmark(dev):
    api, database_id = dev
    result = take_backup("dev", timings=FAST)
    connection = api.d1.connect(database_id)
    connection.execute("DELETE FROM spores")
    connection.close()
    before = snapshot(api.d1.path(database_id))
    api.d1_transfer.corrupt_uploads = 1
    with pytest.raises(RestoreFailed, match=r"arrived changed.*was put back to bookmark .*, as before the restore$"):
        restore_new(result.path, in_place=True, confirm=lambda question: True)
    assert snapshot(api.d1.path(database_id)) == before


def test_restore_in_place_is_refused_while_a_migration_holds_the_lease(dev):
    api, database_id = dev
    result = take_backup("dev", timings=FAST)
    connection = api.d1.connect(database_id)
    connection.execute("INSERT INTO hyphae_lock VALUES (1, 'someone@elsewhere pid 1', 'r1', 'elsewhere', 1, "
                       "unixepoch(), unixepoch() + 300)")
    connection.close()
    with pytest.raises(LockHeld, match=r"^a migration is running on dev \(someone@elsewhere pid 1 .*nothing was restored$"):
        restore_new(result.path, in_place=True, confirm=lambda question: True)


def test_restore_in_place_asks_first(dev):
    result = take_backup("dev", timings=FAST)
    questions = []
    with pytest.raises(UsageError, match="^restore not confirmed; nothing was changed$"):
        restore_new(result.path, in_place=True, confirm=lambda question: questions.append(question) or False)
    assert questions and "D1 database" in questions[0] and "(dev)" in questions[0]


def test_a_restored_database_that_differs_from_the_backup_is_deleted(dev, monkeypatch):
    api, _ = dev
    result = take_backup("dev", timings=FAST)
    databases = set(api.d1.ids())
    from infra.backup import importfile

    real = importfile.import_statements

    def dropping_the_last_row(connection, virtual_tables):
        statements = list(real(connection, virtual_tables))
        last_insert = max(index for index, sql in enumerate(statements) if sql.startswith('INSERT INTO "sessions"'))
        return statements[:last_insert] + statements[last_insert + 1:]

    monkeypatch.setattr("infra.backup.restore.import_statements", dropping_the_last_row)
    with pytest.raises(BackupUnverified, match=r"has 4 rows in sessions, the backup 5$"):
        restore_new(result.path)
    assert set(api.d1.ids()) == databases


def test_an_export_served_gzip_encoded_is_decoded_and_checked_as_stored(dev):
    api, _ = dev
    plain = take_backup("dev", timings=FAST)
    api.d1_transfer.gzip_downloads = True
    encoded = take_backup("dev", timings=FAST)
    assert read_manifest(encoded.path).sql_sha256 == read_manifest(plain.path).sql_sha256
    api.d1_transfer.truncate_downloads = 5
    with pytest.raises(RemoteApiError, match="could not be downloaded"):
        take_backup("dev", timings=FAST)
