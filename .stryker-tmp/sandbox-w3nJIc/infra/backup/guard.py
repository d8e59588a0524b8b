"""The backup `migrate` takes before it applies an allowed destructive change to a remote database.

A pending migration whose statement carries an allowed SAFE001 (DROP TABLE, DROP COLUMN, DELETE
without WHERE) or SAFE004 (a rebuild that cascades into child tables) loses data on purpose.
The Time Travel bookmark undoes it for 30 days (7 on the Free plan) and only in place; so, for a
remote environment, the runner first takes a verified backup (`take.py`), says where it is, and
applies nothing if the backup fails. Local runs keep their file-copy restore point only, and a
database nothing was applied to yet (a new environment's first migrate) holds no data to lose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

DESTRUCTIVE_CODES = ("SAFE001", "SAFE004")


def destructive_allowances(report) -> list:
    """The allowed SAFE001/SAFE004 findings of the report's pending migrations. Pure."""
    pending = {migration.name for migration in report.pending}
    return [finding for finding in report.lint_findings
            if finding.code in DESTRUCTIVE_CODES and finding.allowed_reason is not None
            and Path(finding.file).name in pending]


def backup_before_destructive(report, directory: Path, progress: Callable[[str], None]) -> None:
    """Take a verified backup when a remote run is about to apply an allowed destructive change.

    Adds a note with the backup's path to `report`. Raises what `take_backup` raises: the run
    then applies nothing.
    """
    from infra.backup.take import take_backup

    findings = destructive_allowances(report)
    if report.environment == "local" or not findings:
        return
    if report.applied_before == 0:
        progress("no backup before the allowed destructive change(s): nothing was applied to this database yet")
        return
    first = findings[0]
    progress(f"backup first: {Path(first.file).name}:{first.line} allows {first.code} ({first.allowed_reason})")
    result = take_backup(report.environment, directory, progress=lambda line: progress(f"  {line}"))
    note = (f"verified backup before {len(findings)} allowed destructive change(s): {result.path} "
            f"(restore with `invoke restore --env {report.environment} --from-backup {result.path}`)")
    progress(note)
    report.notes.append(note)
