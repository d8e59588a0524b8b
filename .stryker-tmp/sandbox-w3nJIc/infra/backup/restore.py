"""`invoke restore --from-backup FILE`: verify a backup, then restore it into a new database or in place.

Always first, and nothing is written before it passes: the file against its manifest (sha256,
size), then a full load into a scratch SQLite with D1's rules and the verification of its rows,
history and schema (`scratch.py`). Then:
- default, a NEW database: locally a new D1 file beside the environment's own (keyed
  `<d1 name>-restore-<stamp>`); remotely a new D1 database of that name, filled through D1's
  import (`importfile.py`) and checked again there (schema and rows). The environment keeps
  using its own database; the result says how to point it at the new one.
- `--in-place`, after a confirmation: locally a restore point (a file copy) and then the
  scratch database copied over the environment's; remotely a Time Travel bookmark, every table
  dropped and the import run, checked; on any failure the database is put back to the bookmark.
A restore into a new remote database that fails deletes that database. The migration lease in
a backup (a backup taken while `migrate` ran) is never restored.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infra.backup.importfile import LEASE_TABLE, import_statements
from infra.backup.manifest import BackupManifest, check_file, read_manifest, utc_stamp
from infra.backup.scratch import LoadedBackup, load_backup, read_history, verify_loaded
from infra.backup.sqltext import quote_name
from infra.environments import Environment, config_file, load_environment
from infra.errors import BackupUnverified, LockHeld, RestoreFailed, UsageError
from infra.history.files import read_migrations
from infra.paths import DEFAULT_MIGRATIONS_DIR, local_d1_file

Progress = Callable[[str], None]


@dataclass
class RestoreOptions:
    in_place: bool = False
    confirm: Callable[[str], bool] = lambda question: False
    progress: Progress = lambda line: None
    timings: object = None  # TransferTimings for the D1 import; None: the defaults


@dataclass
class RestoreResult:
    summary: str
    next_steps: list[str] = field(default_factory=list)
    database_id: str | None = None  # the database restored into (a new one, or the environment's)


def restore_backup(env_name: str, backup: Path, directory: Path = DEFAULT_MIGRATIONS_DIR,
                   options: RestoreOptions | None = None) -> RestoreResult:
    """Verify `backup` and restore it for `env_name` (see the module doc). Raises BackupCorrupted,
    BackupUnverified, LockHeld, UsageError, RemoteApiError...; nothing is restored when it raises."""
    options = options or RestoreOptions()
    env = load_environment(env_name)
    manifest = read_manifest(backup)
    if manifest.verified is None:
        reason = next((warning for warning in manifest.warnings if warning.startswith("not verified")), "no reason kept")
        raise BackupUnverified(f"{backup} was not verified when it was taken ({reason}); nothing was restored")
    check_file(backup, manifest)
    files = read_migrations(directory)
    with tempfile.TemporaryDirectory(prefix="hyphae-restore-") as scratch_dir:
        loaded = load_backup(backup, Path(scratch_dir) / "scratch.sqlite", manifest.virtual_tables)
        history = read_history(loaded.path)
        _same_history(history, manifest, backup)
        verification = verify_loaded(loaded, manifest.row_counts, history, files, directory, str(backup))
        options.progress(f"verified {backup.name}: {verification.describe()}")
        _drop_lease(loaded.path)
        if env.is_local:
            return _restore_local(env, loaded, manifest, backup, options)
        return _restore_remote(env, loaded, manifest, backup, options, Path(scratch_dir))


def _same_history(history, manifest: BackupManifest, backup: Path) -> None:
    inside = [{"name": entry.name, "sha256": entry.sha256} for entry in history.applied]
    if inside != manifest.history:
        raise BackupUnverified(f"{backup}: the migration history inside differs from its manifest's; nothing was "
                               "restored")


def _drop_lease(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        if connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (LEASE_TABLE,)).fetchone():
            connection.execute(f"DELETE FROM {LEASE_TABLE}")
            connection.commit()
    finally:
        connection.close()


def new_database_name(env: Environment) -> str:
    """`<d1 name>-restore-<utc stamp>`, lower case, at most 63 characters: a valid D1 name and hyphae database id."""
    suffix = f"-restore-{utc_stamp().lower()}"
    return env.d1.name[: 63 - len(suffix)].rstrip("-") + suffix


# -- local -------------------------------------------------------------------------------------
def _restore_local(env: Environment, loaded: LoadedBackup, manifest: BackupManifest, backup: Path,
                   options: RestoreOptions) -> RestoreResult:
    if options.in_place:
        return _restore_local_in_place(env, loaded, manifest, backup, options)
    database_id = new_database_name(env)
    destination = local_d1_file(database_id)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    shutil.copyfile(loaded.path, partial)
    os.replace(partial, destination)
    return RestoreResult(
        f"restored {backup.name} into a new local database {database_id} ({destination})",
        [f"the environment still uses its own database; to point {env.name} at the restored one, set "
         f"`hyphae:d1: {{name: {env.d1.name}, databaseId: {database_id}}}` in {config_file(env.name).name}, then run "
         "`invoke render` (and restart `invoke local`)"], database_id)


def _restore_local_in_place(env: Environment, loaded: LoadedBackup, manifest: BackupManifest, backup: Path,
                            options: RestoreOptions) -> RestoreResult:
    from infra.targets.local import LocalTarget

    target = LocalTarget.for_environment(env)
    try:
        _refuse_while_migrating(target, env)
        _ask(options, env, target.description, manifest, backup)
        point = target.create_restore_point()
    finally:
        target.close()
    source, live = sqlite3.connect(loaded.path), sqlite3.connect(target.path, timeout=30)
    try:
        source.backup(live)  # page by page under a write lock: readers see the old or the new database
    finally:
        source.close()
        live.close()
    return RestoreResult(f"restored {target.path} in place from {backup.name} ({manifest.total_rows:,} rows); "
                         f"undo with: {point.restore_command}", database_id=env.local_database_id)


def _refuse_while_migrating(target, env: Environment) -> None:
    from infra.ledger.lock import is_stale_local_holder
    from infra.ledger.read import read_ledger

    holder = read_ledger(target).lock
    if holder is not None and holder.expires_in > 0 and not is_stale_local_holder(holder):
        raise LockHeld(f"a migration is running on {env.name} ({holder.describe()}); restore after it ends; nothing "
                       "was restored")


def _ask(options: RestoreOptions, env: Environment, description: str, manifest: BackupManifest, backup: Path) -> None:
    origin = "" if manifest.environment == env.name else f" (a backup of {manifest.environment}, not {env.name})"
    question = (f"Replace everything in {description} ({env.name}) with {backup.name}{origin}: "
                f"{manifest.total_rows:,} rows taken {manifest.created_at}? A restore point is taken first.")
    if not options.confirm(question):
        raise UsageError("restore not confirmed; nothing was changed")


# -- remote ------------------------------------------------------------------------------------
def _restore_remote(env: Environment, loaded: LoadedBackup, manifest: BackupManifest, backup: Path,
                    options: RestoreOptions, scratch_dir: Path) -> RestoreResult:
    from infra.targets.d1_transfer_api import D1TransferTarget, TransferTimings

    timings = options.timings or TransferTimings()
    import_file = scratch_dir / "import.sql"
    _write_import_file(loaded, manifest, import_file)
    if options.in_place:
        target = D1TransferTarget.for_environment(env)
        try:
            return _restore_remote_in_place(env, target, loaded, manifest, backup, options, import_file, timings)
        finally:
            target.close()
    account = D1TransferTarget.for_account(env)
    try:
        name = new_database_name(env)
        database_id = account.create_database(name)
        options.progress(f"created D1 database {name} ({database_id})")
        target = account.for_database(database_id)
        try:
            target.import_file(import_file, timings, options.progress)
            check_restored(target, loaded, manifest)
        except BaseException:
            _delete_quietly(account, database_id, options)
            raise
    finally:
        account.close()
    return RestoreResult(f"restored {backup.name} into a new D1 database {name} ({database_id}), checked again in D1",
                         pointing_steps(env, name, database_id), database_id)


def pointing_steps(env: Environment, name: str, database_id: str) -> list[str]:
    """How to make environment `env` use the restored database (docs/backup.md explains each step)."""
    urn = f"urn:pulumi:{env.name}::hyphae::hyphae:index:Environment$cloudflare:index/d1Database:D1Database::{env.name}-database"
    return [
        f"the environment still uses its own database; to point {env.name} at the restored one:",
        f"  1. set `hyphae:d1: {{name: {name}, databaseId: {database_id}}}` in {config_file(env.name).name}",
        f"  2. let the stack forget the old database without deleting it: `pulumi state unprotect '{urn}' --stack "
        f"{env.name}` then `pulumi state delete '{urn}' --stack {env.name}`",
        f"  3. `invoke preview --env {env.name}` (expect: import of the database, update of the Worker's binding), then "
        f"`invoke up --env {env.name}` and `invoke outputs --env {env.name}`",
    ]


def _restore_remote_in_place(env, target, loaded, manifest, backup, options, import_file, timings) -> RestoreResult:
    _refuse_while_migrating(target, env)
    _ask(options, env, target.description, manifest, backup)
    point = target.create_restore_point()
    options.progress(f"Time Travel bookmark {point.reference}; undo with: {point.restore_command}")
    try:
        target.batch(drop_everything_statements(target))
        target.import_file(import_file, timings, options.progress)
        check_restored(target, loaded, manifest)
    except BaseException as failure:  # any failure, Ctrl-C included, puts the database back
        message = str(failure) or type(failure).__name__
        try:
            target.restore(point.reference)
        except Exception as undo:  # noqa: BLE001 - say both, and how to finish the undo by hand
            raise RestoreFailed(f"{message}; putting {target.description} back to bookmark {point.reference} also "
                                f"failed ({undo}): run `{point.restore_command} --yes`") from None
        raise RestoreFailed(f"{message}; {target.description} was put back to bookmark {point.reference}, as "
                            "before the restore") from None
    return RestoreResult(f"restored {target.description} in place from {backup.name} ({manifest.total_rows:,} rows), "
                         f"checked in D1; undo with: {point.restore_command}", database_id=target.database_id)


def drop_everything_statements(target):
    """One batch emptying a database of its objects (foreign keys checked at the end)."""
    from infra.backup.virtual import plan_export, shadow_tables
    from infra.targets import BatchStatement

    plan = plan_export(target.query)
    shadows = {name.lower() for table in plan.virtual_tables for name in shadow_tables(table)}
    rows = target.query("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND sql IS NOT NULL "
                        "ORDER BY rowid DESC")
    statements = [BatchStatement("PRAGMA defer_foreign_keys = ON")]
    for row in rows:
        name = str(row["name"])
        if name.lower().startswith(("_cf_", "sqlite_")) or name.lower() in shadows:
            continue
        statements.append(BatchStatement(f"DROP {'VIEW' if row['type'] == 'view' else 'TABLE'} {quote_name(name)}"))
    views_first = sorted(statements[1:], key=lambda statement: not statement.sql.startswith("DROP VIEW"))
    return statements[:1] + views_first


def check_restored(target, loaded: LoadedBackup, manifest: BackupManifest) -> None:
    """The restored D1 database against the verified scratch copy: schema, and rows per table."""
    from infra.drift.compare import compare_schemas
    from infra.drift.schema import SCHEMA_QUERY, build_schema, read_connection_schema
    from infra.targets import BatchStatement

    connection = sqlite3.connect(f"file:{loaded.path}?mode=ro", uri=True)
    try:
        expected = read_connection_schema(connection)
    finally:
        connection.close()
    differences = compare_schemas(expected, build_schema(target.query(SCHEMA_QUERY)))
    if differences:
        first = differences[0]
        raise BackupUnverified(f"the restored {target.description} differs from the backup: {first.change} "
                               f"{first.object}: {first.detail}")
    wanted = {table: (0 if table == LEASE_TABLE else rows) for table, rows in manifest.row_counts.items()}
    tables = sorted(wanted)
    results = target.batch([BatchStatement(f"SELECT count(*) AS n FROM {quote_name(table)}") for table in tables])
    counted = {table: int(result[0]["n"]) for table, result in zip(tables, results)}
    wrong = [table for table in tables if counted[table] != wanted[table]]
    if wrong:
        table = wrong[0]
        raise BackupUnverified(f"the restored {target.description} has {counted[table]:,} rows in {table}, the backup "
                               f"{wanted[table]:,}")


def _write_import_file(loaded: LoadedBackup, manifest: BackupManifest, path: Path) -> None:
    connection = sqlite3.connect(f"file:{loaded.path}?mode=ro", uri=True)
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as stream:
            for statement in import_statements(connection, manifest.virtual_tables):
                stream.write(statement + "\n")
    finally:
        connection.close()


def _delete_quietly(account, database_id: str, options: RestoreOptions) -> None:
    try:
        account.delete_database(database_id)
        options.progress(f"deleted the new database {database_id} (the restore did not complete)")
    except Exception as error:  # noqa: BLE001 - the restore's own error matters more
        options.progress(f"could not delete the new database {database_id}: {error}; delete it by hand")
