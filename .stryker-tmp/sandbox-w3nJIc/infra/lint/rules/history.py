"""HIS: the history as a whole. HIS001 file names and numbering; HIS005 a stale `hyphae.sum`.
(HIS002-HIS004 compare the history with an environment's ledger: infra/ledger/verify.py.)"""

from __future__ import annotations

from pathlib import Path

from infra.history.files import MigrationFile
from infra.history.sumfile import SUM_FILE_NAME, first_stale_line, read_sum
from infra.lint.findings import Finding
from infra.lint.rules import RULES


def _finding(code: str, file: str, line: int, message: str) -> Finding:
    rule = RULES[code]
    return Finding(code, rule.severity, file, line, 1, message, rule.hint)


def his001_file_naming(files: list[MigrationFile], display) -> list[Finding]:
    """Names that break NNNN_slug.sql, two files with one number, and gaps in the numbering."""
    findings, seen = [], {}
    expected = 1
    for file in files:
        version = file.version
        if version is None:
            message = f"{file.name} does not match NNNN_slug.sql (four digits, lower-case slug)"
            findings.append(_finding("HIS001", display(file), 1, message))
            continue
        if version in seen:
            message = f"{file.name} reuses number {version:04d} of {seen[version]}"
            findings.append(_finding("HIS001", display(file), 1, message))
            continue
        if version != expected:
            missing = f"{expected:04d}" if version == expected + 1 else f"{expected:04d}-{version - 1:04d}"
            findings.append(_finding("HIS001", display(file), 1, f"{file.name} leaves a gap: {missing} missing"))
        seen[version] = file.name
        expected = version + 1
    return findings


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
    """1-based line in the sum file of the `number`-th entry (comments and blank lines skipped);
    its last line when the sum has fewer entries (a file was added without updating it)."""
    count = 0
    lines = sum_path.read_text(encoding="utf-8", errors="replace").splitlines()
    for line_number, line in enumerate(lines, start=1):
        if line.strip() and not line.startswith("#"):
            count += 1
            if count == number:
                return line_number
    return max(len(lines), 1)
