"""`invoke backup`: export a database into `backups/<env>/<stamp>.sql.gz`, verify it, write its manifest.

1. Export, streamed to disk through gzip (never the whole file in memory):
   - local: the environment's D1 file, read in one read transaction and written in D1's export
     format by `dump.py` (exact values; see sqltext.py);
   - remote: D1's export API through the SDK (`infra/targets/d1_transfer_api.py`): start, poll,
     download the signed URL; then the live database is asked which values that file cannot
     carry exactly (`lossy.py`), reported as warnings.
   Either way `virtual.py` keeps virtual tables out of the export and records them.
2. Verify: load the file into a scratch SQLite with D1's rules and compare its rows, its
   history and its schema (`scratch.py`).
3. Write the manifest last. A backup that fails verification is kept for inspection, with a
   manifest that says why; `restore` refuses it. A failed export leaves no file behind.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infra.backup.dump import VirtualTableInExport, dump_export
from infra.backup.manifest import (
    BackupManifest,
    file_digest,
    hyphae_version,
    manifest_path,
    utc_stamp,
    write_manifest,
)
from infra.backup.scratch import Verification, load_backup, read_history, verify_loaded
from infra.backup.virtual import ExportPlan, plan_export
from infra.environments import Environment, load_environment
from infra.errors import BackupCorrupted, BackupUnverified, HyphaeError, UsageError
from infra.history.files import read_migrations
from infra.paths import DEFAULT_MIGRATIONS_DIR, backups_dir, local_d1_file
from infra.targets import BatchFailed, ResponseLost

Progress = Callable[[str], None]


@dataclass
class BackupResult:
    path: Path
    manifest_path: Path
    manifest: BackupManifest
    verification: Verification
    seconds: float


@dataclass
class _Export:
    source: str
    method: str
    plan: ExportPlan
    bookmark: str | None = None
    warnings: list[str] = field(default_factory=list)


class _SqlSink:
    """Bytes of SQL in, gzip on disk out; the sha256 and size of the SQL counted on the way.

    Level 3: within a quarter of level 6's size at three times its speed on exported SQL
    (`invoke bench --only backup` shows both). Writes are gathered into 1 MiB pieces."""

    LEVEL = 3
    PIECE = 1 << 20

    def __init__(self, path: Path):
        self.path = path
        self._open()

    def _open(self) -> None:
        self._file = gzip.GzipFile(self.path, "wb", compresslevel=self.LEVEL, mtime=0)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.sha256, self.size = hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= self.PIECE:
            self._flush()

    def _flush(self) -> None:
        self._file.write(b"".join(self._pending))
        self._pending, self._pending_size = [], 0

    def restart(self) -> None:
        self._file.close()
        self._open()

    def close(self) -> None:
        if not self._file.closed:
            self._flush()
            self._file.close()


def take_backup(env_name: str, directory: Path = DEFAULT_MIGRATIONS_DIR, *, destination: Path | None = None,
                timings=None, progress: Progress = lambda line: None) -> BackupResult:
    """Back up `env_name`'s database and verify it. Raises BackupUnverified (file kept, marked so),
    BackupCorrupted, UsageError, ConfigError, MissingCredentials or RemoteApiError (no file kept)."""
    started = time.perf_counter()
    env = load_environment(env_name)
    files = read_migrations(directory)
    folder = (destination or backups_dir()) / env.name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _free_stamp(folder)
    final, partial = folder / f"{stamp}.sql.gz", folder / f".{stamp}.sql.gz.partial"
    sink = _SqlSink(partial)
    try:
        export = _export_local(env, sink) if env.is_local else _export_remote(env, sink, timings, progress)
        sink.close()
    except BaseException:
        sink.close()
        partial.unlink(missing_ok=True)
        raise
    progress(f"exported {sink.size:,} bytes of SQL from {export.source}")
    manifest = BackupManifest(
        environment=env.name, source=export.source, method=export.method,
        created_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), file=final.name,
        sha256="", size=0, sql_sha256=sink.sha256.hexdigest(), sql_size=sink.size, statements=0, row_counts={},
        virtual_tables=export.plan.virtual_tables, bookmark=export.bookmark, hyphae_version=hyphae_version(),
        warnings=export.plan.warnings + export.warnings)
    failure, verification = None, None
    try:
        verification = _verify(partial, manifest, files, directory, str(final))
    except (BackupUnverified, BackupCorrupted) as error:
        failure = error
    manifest.sha256, manifest.size = file_digest(partial)
    os.replace(partial, final)
    write_manifest(manifest, manifest_path(final))
    if failure is not None:
        raise BackupUnverified(f"{failure} (the backup is kept as {final}, marked unverified: restore refuses it)")
    return BackupResult(final, manifest_path(final), manifest, verification, time.perf_counter() - started)


def _verify(sql_gz: Path, manifest: BackupManifest, files, directory: Path, label: str) -> Verification:
    """Load into a scratch database, fill in the manifest's rows and history, and check them."""
    with tempfile.TemporaryDirectory(prefix="hyphae-backup-") as scratch:
        try:
            loaded = load_backup(sql_gz, Path(scratch) / "scratch.sqlite", manifest.virtual_tables)
        except BackupCorrupted as error:
            manifest.verified = None
            manifest.warnings.append(f"not verified: {error}")
            raise
        manifest.statements, manifest.row_counts = loaded.statements, dict(loaded.file_rows)
        history = read_history(loaded.path)
        manifest.history = [{"name": entry.name, "sha256": entry.sha256} for entry in history.applied]
        manifest.schema_version = max((entry.version or 0 for entry in history.applied), default=0)
        try:
            verification = verify_loaded(loaded, manifest.row_counts, history, files, directory, label)
        except BackupUnverified as error:
            manifest.warnings.append(f"not verified: {error}")
            raise
    manifest.verified = {"at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                         "tables": verification.tables, "rows": verification.rows, "objects": verification.objects,
                         "schema_version": verification.schema_version}
    return verification


def _free_stamp(folder: Path) -> str:
    stamp = utc_stamp()
    candidate, number = stamp, 1
    while (folder / f"{candidate}.sql.gz").exists() or (folder / f".{candidate}.sql.gz.partial").exists():
        number += 1
        candidate = f"{stamp}-{number}"
    return candidate


# -- local -------------------------------------------------------------------------------------
def _export_local(env: Environment, sink: _SqlSink) -> _Export:
    path = local_d1_file(env.local_database_id)
    if not path.is_file():
        raise UsageError(f"environment {env.name!r} has no database yet ({path} does not exist); `invoke migrate` "
                         "creates it")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN")  # one snapshot: the dump is consistent while workerd writes
        plan = plan_export(lambda sql: _rows(connection, sql))
        try:
            for statement in dump_export(connection, tables=plan.tables, exact=True):
                sink.write(statement.encode() + b"\n")
        except VirtualTableInExport as refused:  # plan_export leaves them out; reaching one is a bug
            raise AssertionError(str(refused)) from None
        connection.execute("COMMIT")
    finally:
        connection.close()
    return _Export(f"local D1 file {path}", "local-file", plan)


def _rows(connection: sqlite3.Connection, sql: str) -> list[dict]:
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# -- remote ------------------------------------------------------------------------------------
def _export_remote(env: Environment, sink: _SqlSink, timings, progress: Progress) -> _Export:
    from infra.backup.lossy import find_lossy_values
    from infra.targets.d1_transfer_api import D1TransferTarget, TransferTimings

    target = D1TransferTarget.for_environment(env)
    try:
        plan = plan_export(target.query)
        progress(f"exporting {target.description}"
                 + (f" ({len(plan.virtual_tables)} virtual table(s) left out, recorded)" if plan.virtual_tables else ""))
        exported = target.export_database(plan.tables, timings or TransferTimings(), progress)
        target.download(exported.signed_url, sink.write, sink.restart)
        export = _Export(target.description, "d1-export-api", plan, exported.bookmark)
        try:
            export.warnings += find_lossy_values(target.query, _data_tables(plan, target))
        except (HyphaeError, BatchFailed, ResponseLost) as error:
            export.warnings.append(f"could not check for values D1's export changes: {error}")
        return export
    finally:
        target.close()


def _data_tables(plan: ExportPlan, target) -> list[str]:
    if plan.tables is not None:
        names = set(plan.tables)
        rows = target.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        return [row["name"] for row in rows if row["name"] in names and not row["name"].startswith("sqlite_")]
    rows = target.query("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT NULL AND name NOT LIKE "
                        "'\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid")
    return [row["name"] for row in rows]
