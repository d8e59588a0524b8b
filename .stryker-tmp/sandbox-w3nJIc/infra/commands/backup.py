"""`invoke backup` and `invoke destroy`: thin skins over infra.backup (restore from a backup is
`invoke restore --from-backup`, in migrate.py beside the restore to a bookmark).

Exit codes: 0 done, 1 refused (unverified or corrupted backup, protected environment, not
confirmed), 2 could not run (usage, configuration, credentials, the API).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from invoke import task

from infra.commands import reports_errors
from infra.errors import UsageError
from infra.paths import DEFAULT_MIGRATIONS_DIR


@task(help={"env": "environment: local (default), dev, staging or production",
            "path": "migrations folder the backup's history is checked against (default: migrations/)",
            "to": "folder to write into (default: $HYPHAE_BACKUP_DIR, else backups/); files go to <folder>/<env>/"})
@reports_errors
def backup(c, env="local", path=None, to=None):
    """Export ENV's database to backups/<env>/<UTC stamp>.sql.gz + manifest; verified before it is reported."""
    from infra.backup.take import take_backup

    print(f"backup {env}", flush=True)
    result = take_backup(env, _folder(path), destination=Path(to) if to else None, progress=_progress)
    print(render_backup(result))


def render_backup(result) -> str:
    manifest = result.manifest
    lines = [f"  file      {shown(result.path)} ({manifest.size:,} bytes; {manifest.sql_size:,} bytes of SQL, "
             f"sha256 {manifest.sha256[:12]})",
             f"  manifest  {shown(result.manifest_path)}",
             f"  verified  {result.verification.describe()}"]
    lines += [f"  warning   {warning}" for warning in manifest.warnings]
    lines.append(f"  took {result.seconds:.1f} s")
    return "\n".join(lines)


@task(help={"env": "the environment to destroy: an unprotected one (local, dev)",
            "yes-destroy": "confirm without a terminal by naming the environment: --yes-destroy dev",
            "path": "migrations folder (default: migrations/)"})
@reports_errors
def destroy(c, env="", yes_destroy="", path=None):
    """Back up ENV (verified), then destroy it (pulumi destroy; locally, the local state). Refused when protected."""
    from infra.backup.destroy import destroy_environment

    if not env:
        raise UsageError("--env is required: the environment to destroy (protected ones are refused)")
    print(f"destroy {env}", flush=True)
    result = destroy_environment(env, yes_destroy=yes_destroy, ask_name=_ask_name, directory=_folder(path),
                                 progress=_progress)
    print(f"  backup    {shown(result.backup.path)}\n  {result.summary}")


def _ask_name(question: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    screen = sys.stdout if sys.stdout.isatty() else sys.stderr
    screen.write(f"{question} ")
    screen.flush()
    return sys.stdin.readline()


def _progress(line: str) -> None:
    print(f"  {line}", flush=True)


def _folder(path: str | None) -> Path:
    directory = Path(path) if path else DEFAULT_MIGRATIONS_DIR
    if not directory.is_dir():
        raise UsageError(f"--path {directory}: no such migrations folder")
    return directory


def shown(path: Path) -> str:
    """A path relative to the working folder when under it (what a person would type)."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)
