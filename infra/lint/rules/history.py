"""HIS: the history as a whole. HIS001 file names and numbering (after the sum's baseline); HIS005 a
stale `hyphae.sum`.
(HIS002-HIS004 compare the history with an environment's ledger: infra/ledger/verify.py.)"""

from __future__ import annotations

from pathlib import Path

from infra.history.files import MIGRATION_NAME, MigrationFile
from infra.history.sumfile import BASELINE_PREFIX, SUM_FILE_NAME, files_after_baseline, first_stale_line, read_sum
from infra.lint.findings import Finding
from infra.lint.rules import RULES


def _finding(code: str, file: str, line: int, message: str) -> Finding:
    rule = RULES[code]
    return Finding(code, rule.severity, file, line, 1, message, rule.hint)


def his001_file_naming(files: list[MigrationFile], display, baseline: str | None = None) -> list[Finding]:
    """Names that break NNNN_slug.sql, two files with one number, and gaps in the numbering, for
    the files after `baseline` (all files without one). The first file may be 0000 or 0001."""
    checked = {file.name for file in files_after_baseline(files, baseline)}
    findings: list[Finding] = []
    previous: MigrationFile | None = None
    for file in files:
        if file.name in checked:
            message = _naming_problem(file, previous)
            if message:
                findings.append(_finding("HIS001", display(file), 1, message))
        previous = file
    return findings


def _naming_problem(file: MigrationFile, previous: MigrationFile | None) -> str | None:
    if not MIGRATION_NAME.match(file.name):
        return f"{file.name} does not match NNNN_slug.sql (four or more digits, lower-case slug)"
    version = file.version
    if previous is None:
        return None if version in (0, 1) else f"{file.name} leaves a gap: the first migration is 0000 or 0001"
    if previous.version is None:
        return None  # after a grandfathered name without a number, any number continues the history
    if version == previous.version:
        return f"{file.name} reuses number {version:04d} of {previous.name}"
    if version != previous.version + 1:
        expected = previous.version + 1
        missing = f"{expected:04d}" if version == expected + 1 else f"{expected:04d}-{version - 1:04d}"
        return f"{file.name} leaves a gap after {previous.name}: {missing} missing"
    return None


def his005_stale_sum(directory: Path, files: list[MigrationFile]) -> tuple[list[Finding], list[str]]:
    """A finding when hyphae.sum disagrees with the files; a note when there is no sum file."""
    recorded = read_sum(directory)
    sum_path = Path(directory) / SUM_FILE_NAME
    if recorded is None:
        note = f"{sum_path} does not exist: history integrity not checked; create it with `invoke lint --write-sum`"
        return [], [note]
    stale = first_stale_line(recorded, files)
    if stale is None:
        return [], []
    number, name = stale
    line = _line_of_entry(sum_path, number)
    message = (f"{SUM_FILE_NAME} is stale from entry {number} ({name}): "
               "history was edited, inserted, removed or reordered")
    return [_finding("HIS005", str(sum_path), line, message)], []


def _line_of_entry(sum_path: Path, number: int) -> int:
    """1-based line in the sum file of the `number`-th entry (comments, blank lines and the
    `baseline:` line skipped, as read_sum skips them); its last line when the sum has fewer entries
    (a file was added without updating it)."""
    count = 0
    lines = sum_path.read_text(encoding="utf-8", errors="replace").splitlines()
    for line_number, line in enumerate(lines, start=1):
        if line.strip() and not line.startswith(("#", BASELINE_PREFIX)):
            count += 1
            if count == number:
                return line_number
    return max(len(lines), 1)
