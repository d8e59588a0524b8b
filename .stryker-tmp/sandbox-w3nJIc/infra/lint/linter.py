"""`lint_migrations`: the whole linter over one folder of migrations. Read-only, except the
replay cache under `$HYPHAE_STATE_DIR/cache/`.

Order of work: history checks (HIS001 names, HIS005 the sum), then the two replays of every file
in order (static rules and the engine, statement by statement, engine.py), resumed from the
cache's longest matching prefix of history when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from infra.history.files import read_migrations
from infra.history.sumfile import chain_digests
from infra.lint import cache
from infra.lint.engine import Replay, lint_files
from infra.lint.findings import Finding, LintReport
from infra.lint.rules.history import his001_file_naming, his005_stale_sum


def lint_migrations(directory: Path, *, extra_findings: Iterable[Finding] = (), use_cache: bool = True) -> LintReport:
    """Lint every `*.sql` file of `directory` in name order. Raises UsageError if it is not a folder."""
    directory = relative_to_working_directory(Path(directory))
    files = read_migrations(directory)
    report = LintReport(files_checked=len(files))
    report.findings.extend(his001_file_naming(files, lambda file: str(file.path)))
    sum_findings, notes = his005_stale_sum(directory, files)
    report.findings.extend(sum_findings)
    report.notes.extend(notes)

    digests = [entry.digest for entry in chain_digests(files)]
    checkpoint = cache.read_checkpoint(digests) if use_cache else None
    start, snapshot, results = checkpoint if checkpoint else (0, None, [])
    pending = files[start:]
    snapshot_after = {position for position, index in enumerate(range(start, len(files)))
                      if use_cache and (index == len(files) - 1 or (index + 1) % cache.CHECKPOINT_EVERY == 0)}
    replay = Replay(snapshot)
    try:
        file_results, snapshots = lint_files(replay, pending, snapshot_after)
    finally:
        replay.close()
    for position, result in enumerate(file_results):
        results.append(cache.to_cached(result.name, result.statements, result.findings))
        if position in snapshots:
            cache.record_checkpoint(digests[start + position], snapshots[position], results)

    for file, result in zip(files, results):
        report.findings.extend(cache.from_cached(result, str(file.path)))
        report.statements_checked += result.statements
    report.findings.extend(extra_findings)
    report.findings.sort(key=lambda finding: (finding.file, finding.line, finding.column, finding.code))
    return report


def relative_to_working_directory(directory: Path) -> Path:
    """`directory` relative to the working directory when it lies inside it: findings then name
    files as a reviewer sees them, and GitHub annotations (paths from the repository root) attach
    to the pull request's diff."""
    try:
        return directory.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return directory
