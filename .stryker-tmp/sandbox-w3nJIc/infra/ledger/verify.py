"""The migration files against a database's ledger: HIS002 edited, HIS003 missing, HIS004 out of order.

Each is an error: the runner refuses to apply while any is present, and `invoke lint --env ENV`
shows them next to the lint findings. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.history.files import MigrationFile, latest_version, read_migrations
from infra.ledger.read import LedgerState, read_ledger
from infra.lint.findings import ERROR, Finding


def verify_ledger(files: list[MigrationFile], state: LedgerState, environment: str, directory: Path) -> list[Finding]:
    """Findings for every disagreement between `files` and the applied migrations of `state`."""
    by_name = {migration.name: migration for migration in files}
    findings: list[Finding] = []
    for entry in state.applied:
        migration = by_name.get(entry.name)
        if migration is None:
            findings.append(_missing(entry.name, entry.sha256, environment, directory))
        elif entry.sha256 is not None and entry.sha256 != migration.sha256:
            findings.append(_edited(migration, entry.sha256, environment))
    if state.applied:
        last_applied = max(entry.name for entry in state.applied)
        for migration in files:
            if migration.name not in state.applied_names and migration.name < last_applied:
                findings.append(_out_of_order(migration, last_applied, files, environment))
    return findings


def _missing(name: str, sha256: str | None, environment: str, directory: Path) -> Finding:
    applied_with = f"it was applied with sha256 {sha256[:12]}" if sha256 else "it was applied by wrangler"
    return Finding("HIS003", ERROR, str(Path(directory) / name), 1, 1,
                   f"migration {name} is recorded as applied in {environment} but {Path(directory) / name} is missing",
                   f"restore the file from git ({applied_with})")


def _edited(migration: MigrationFile, applied_sha256: str, environment: str) -> Finding:
    return Finding("HIS002", ERROR, str(migration.path), 1, 1,
                   f"{migration.name} was edited after it was applied to {environment} "
                   f"(applied sha256 {applied_sha256[:12]}, file now {migration.sha256[:12]})",
                   "revert the edit (`git checkout` the applied version) and put the change in a new migration")


def _out_of_order(migration: MigrationFile, last_applied: str, files: list[MigrationFile], environment: str) -> Finding:
    next_free = f"{latest_version(files) + 1:04d}"
    return Finding("HIS004", ERROR, str(migration.path), 1, 1,
                   f"{migration.name} is not applied to {environment} but sorts before {last_applied}, which is: "
                   "it would run out of order",
                   f"renumber it after the applied history, e.g. `git mv {migration.path} "
                   f"{migration.path.with_name(next_free + migration.name[4:])}`")


@dataclass(frozen=True)
class EnvironmentHistory:
    """One environment's ledger read against the files of a folder."""

    target_description: str
    files: list[MigrationFile]
    state: LedgerState
    findings: list[Finding]


def read_environment_history(env_name: str, directory: Path) -> EnvironmentHistory:
    """Read `env_name`'s ledger and verify the files of `directory` against it (read-only).

    Raises UsageError / ConfigError / MissingCredentials / RemoteApiError as the target does.
    """
    from infra.environments import load_environment
    from infra.targets import open_target

    env = load_environment(env_name)
    files = read_migrations(directory)
    target = open_target(env, read_only=True)
    try:
        state = read_ledger(target)
    finally:
        target.close()
    return EnvironmentHistory(target.description, files, state, verify_ledger(files, state, env_name, directory))


def ledger_findings_for_environment(env_name: str, directory: Path) -> list[Finding]:
    """HIS002-HIS004 for the files of `directory` against `env_name`'s database (read-only)."""
    return read_environment_history(env_name, directory).findings
