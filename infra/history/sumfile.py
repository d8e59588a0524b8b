"""`hyphae.sum`: a chained integrity file over the migration history.

Each line is `<file name> sha256:<hex>`, where the hash covers that file and every line before it
(hash_n = sha256(hash_{n-1} || name_n || bytes_n)). An edit, insert, removal or reorder of history
therefore changes that line and every later one, which `invoke lint` reports as HIS005. The
per-line digests also key the linter's replay cache: equal digest, equal schema.

An optional `baseline: <file name>` line marks where `invoke new`'s numbering discipline starts
(HIS001 checks only the files after it): a history wrangler applied keeps the names it was applied
with, since they are the ledger's keys. It is set when the sum is first written (to the last file
then present) and by `invoke migrate --adopt` (to the last adopted file); a rewrite keeps it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from infra.history.files import MigrationFile, order_key, read_migrations

SUM_FILE_NAME = "hyphae.sum"
HEADER = "# hyphae.sum: chained sha256 of migrations/; regenerate with `invoke lint --write-sum`\n"
BASELINE_PREFIX = "baseline:"
BASELINE_COMMENT = "# files up to the baseline keep the names they were applied with; numbering rules apply after it\n"


@dataclass(frozen=True)
class SumEntry:
    name: str
    digest: str  # hex


def chain_digests(files: list[MigrationFile]) -> list[SumEntry]:
    """The chained digest of each file, in history order. Read-only."""
    entries, previous = [], b""
    for file in files:
        digest = hashlib.sha256(previous + file.name.encode() + b"\0" + file.text.encode()).digest()
        entries.append(SumEntry(file.name, digest.hex()))
        previous = digest
    return entries


def render_sum(entries: list[SumEntry], baseline: str | None = None) -> str:
    marker = f"{BASELINE_COMMENT}{BASELINE_PREFIX} {baseline}\n" if baseline else ""
    return HEADER + marker + "".join(f"{entry.name} sha256:{entry.digest}\n" for entry in entries)


def read_sum(directory: Path) -> list[SumEntry] | None:
    """The entries of `directory/hyphae.sum`, or None when there is no sum file.

    A line that cannot be read becomes an entry with an empty digest, so it shows as stale.
    """
    path = Path(directory) / SUM_FILE_NAME
    if not path.exists():
        return None
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith(BASELINE_PREFIX):
            continue
        name, _, digest = line.rpartition(" sha256:")  # a name may hold the separator; a digest never
        entries.append(SumEntry(name.strip(), digest.strip()))
    return entries


def read_baseline(directory: Path) -> str | None:
    """The file name of the sum's `baseline:` line, or None (no sum, or a sum without one). Read-only."""
    path = Path(directory) / SUM_FILE_NAME
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(BASELINE_PREFIX):
            return line[len(BASELINE_PREFIX):].strip() or None
    return None


def write_sum(directory: Path, files: list[MigrationFile]) -> Path:
    """Rewrite `directory/hyphae.sum` from `files`, keeping its baseline; a first sum sets the
    baseline to the last file of `files` (if any). Writes one file."""
    path = Path(directory) / SUM_FILE_NAME
    baseline = read_baseline(directory) if path.exists() else (files[-1].name if files else None)
    path.write_text(render_sum(chain_digests(files), baseline), encoding="utf-8")
    return path


def record_baseline(directory: Path, name: str) -> Path:
    """Move the baseline to `name` unless it already lies at or after it (`migrate --adopt`: the
    adopted files keep their names). Writes the sum, first creating it from the files if needed."""
    path = Path(directory) / SUM_FILE_NAME
    files = read_migrations(directory)
    current = read_baseline(directory)
    if current is not None and order_key(current) >= order_key(name):
        return path
    recorded = read_sum(directory)
    entries = recorded if recorded is not None else chain_digests(files)
    path.write_text(render_sum(entries, name), encoding="utf-8")
    return path


def files_after_baseline(files: list[MigrationFile], baseline: str | None) -> list[MigrationFile]:
    """The files numbering rules apply to: those sorting after the baseline (all without one)."""
    if baseline is None:
        return list(files)
    return [file for file in files if order_key(file.name) > order_key(baseline)]


def first_stale_line(recorded: list[SumEntry], files: list[MigrationFile]) -> tuple[int, str] | None:
    """The first (1-based entry number, file name) where the sum disagrees with `files`, or None."""
    expected = chain_digests(files)
    for number, (want, have) in enumerate(zip(expected, recorded), start=1):
        if want != have:
            return number, want.name
    if len(expected) != len(recorded):
        number = min(len(expected), len(recorded)) + 1
        name = expected[number - 1].name if len(expected) > len(recorded) else recorded[number - 1].name
        return number, name
    return None
