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
from infra.history.sumfile import SUM_FILE_NAME, chain_digests, read_baseline
from infra.lint import cache
from infra.lint.engine import Replay, lint_files
from infra.lint.findings import Finding, LintReport
from infra.lint.rules import OPT_IN_CODES
from infra.lint.rules.history import his001_file_naming, his005_stale_sum


def lint_migrations(directory: Path, *, extra_findings: Iterable[Finding] = (), use_cache: bool = True,
                    enable: Iterable[str] = ()) -> LintReport:
    """Lint every migration of `directory` in wrangler's order (infra/history/files.py); opt-in
    rules (IDEM001) report only when named in `enable`. Raises UsageError if it is not a folder."""
    directory = relative_to_working_directory(Path(directory))
    files = read_migrations(directory)
    report = LintReport(files_checked=len(files))
    if (directory / SUM_FILE_NAME).exists():  # numbering rules start with the sum (docs/rules.md, HIS001)
        report.findings.extend(his001_file_naming(files, lambda file: str(file.path), read_baseline(directory)))
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
    # Opt-in rules always run (an allow directive for one must not read as stale, LINT002) and are
    # dropped here unless asked for; the cache then serves every choice of rules alike.
    hidden = OPT_IN_CODES - set(enable)
    report.findings = [finding for finding in report.findings if finding.code not in hidden]
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
