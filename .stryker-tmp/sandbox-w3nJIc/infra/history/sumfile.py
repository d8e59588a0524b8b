"""`hyphae.sum`: a chained integrity file over the migration history.

Each line is `<file name> sha256:<hex>`, where the hash covers that file and every line before it
(hash_n = sha256(hash_{n-1} || name_n || bytes_n)). An edit, insert, removal or reorder of history
therefore changes that line and every later one, which `invoke lint` reports as HIS005. The
per-line digests also key the linter's replay cache: equal digest, equal schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from infra.history.files import MigrationFile

SUM_FILE_NAME = "hyphae.sum"
HEADER = "# hyphae.sum: chained sha256 of migrations/; regenerate with `invoke lint --write-sum`\n"


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


def render_sum(entries: list[SumEntry]) -> str:
    return HEADER + "".join(f"{entry.name} sha256:{entry.digest}\n" for entry in entries)


def read_sum(directory: Path) -> list[SumEntry] | None:
    """The entries of `directory/hyphae.sum`, or None when there is no sum file.

    A line that cannot be read becomes an entry with an empty digest, so it shows as stale.
    """
    path = Path(directory) / SUM_FILE_NAME
    if not path.exists():
        return None
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, digest = line.partition(" sha256:")
        entries.append(SumEntry(name.strip(), digest.strip()))
    return entries


def write_sum(directory: Path, files: list[MigrationFile]) -> Path:
    """Rewrite `directory/hyphae.sum` from `files`. Writes one file."""
    path = Path(directory) / SUM_FILE_NAME
    path.write_text(render_sum(chain_digests(files)), encoding="utf-8")
    return path


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
