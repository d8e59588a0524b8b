"""Discovering the migration files of a folder and naming the next one.

Read-only, except `create_migration`, which writes one new file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from infra.errors import UsageError

# NNNN_slug.sql: four digits (sorting by name is sorting by version), a lower-case slug.
MIGRATION_NAME = re.compile(r"^(?P<version>\d{4})_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")
SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


@dataclass(frozen=True)
class MigrationFile:
    """One `.sql` file of the history, as read from disk."""

    path: Path
    text: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def version(self) -> int | None:
        """The NNNN prefix, or None when the name does not follow the pattern (HIS001)."""
        match = MIGRATION_NAME.match(self.name)
        return int(match["version"]) if match else None

    @property
    def sha256(self) -> str:
        """Hex sha256 of the file's bytes as UTF-8: the checksum the ledger records."""
        return hashlib.sha256(self.text.encode()).hexdigest()


def read_migrations(directory: Path) -> list[MigrationFile]:
    """Every `*.sql` file directly in `directory`, sorted by name. Raises UsageError if no folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such migrations folder (pass --path DIR)")
    files = []
    for path in sorted(directory.glob("*.sql")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise UsageError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
        files.append(MigrationFile(path=path, text=text))
    return files


def latest_version(files: list[MigrationFile]) -> int:
    """The highest NNNN among well-named files; 0 for an empty history."""
    return max((file.version for file in files if file.version is not None), default=0)


def create_migration(directory: Path, slug: str) -> Path:
    """Write the next-numbered empty migration `NNNN_slug.sql` and return its path."""
    if not SLUG.match(slug):
        raise UsageError(f"migration slug {slug!r} must be lower-case letters, digits and single underscores")
    files = read_migrations(directory)
    version = latest_version(files) + 1
    if version > 9999:
        raise UsageError(f"{directory}: history is full (9999 migrations)")
    path = Path(directory) / f"{version:04d}_{slug}.sql"
    path.write_text(f"-- {version:04d} {slug.replace('_', ' ')}\n")
    return path
