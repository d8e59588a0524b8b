"""Discovering the migration files of a folder, their order, and naming the next one.

The order is wrangler's, since the names are the ledger's keys and wrangler may have applied
them: every `*.sql` file of the folder, sorted by the integer its name starts with (wrangler
parses the text before the first `_` with JavaScript's parseInt), then by name. So `0000_init.sql`,
gaps, two files with one number, 3-digit numbers and `0001-init.sql` all run in the order
`wrangler d1 migrations apply` runs them (workers-sdk, src/d1/migrations/helpers.ts). A folder in
prisma's layout (`<timestamp>_name/migration.sql`, no `*.sql` of its own) is read as-is.

Read-only, except `create_migration`, which writes one new file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from infra.errors import UsageError

# The discipline `invoke new` keeps (HIS001, for files after the baseline in hyphae.sum): a number
# of at least four digits, one more than the previous file's, and a lower-case slug.
MIGRATION_NAME = re.compile(r"^(?P<version>\d{4,})_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")
SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
# JavaScript's parseInt: optional leading white space and sign, then digits.
_LEADING_INTEGER = re.compile(r"^\s*[+-]?(\d+)")
PRISMA_FILE_NAME = "migration.sql"


def leading_number(name: str) -> int | None:
    """The number wrangler orders `name` by (parseInt of the text before the first `_`), or None."""
    match = _LEADING_INTEGER.match(name.split("_")[0])
    return int(match[1]) if match else None


def order_key(name: str) -> tuple:
    """Sort key giving wrangler's order: by leading number, then by name; files without a number
    last, by name (where wrangler keeps them, after the numbered ones, for any name starting with
    a letter)."""
    number = leading_number(name)
    return (0, number, name) if number is not None else (1, 0, name)


@dataclass(frozen=True)
class MigrationFile:
    """One migration of the history, as read from disk."""

    path: Path
    text: str
    label: str | None = None  # prisma's layout: "<folder>/migration.sql" (path.name is the same for all)

    @property
    def name(self) -> str:
        """The name the ledger records and the history is ordered by."""
        return self.label or self.path.name

    @property
    def version(self) -> int | None:
        """The leading number wrangler orders by (see `leading_number`), or None."""
        return leading_number(self.name)

    @property
    def sha256(self) -> str:
        """Hex sha256 of the file's bytes as UTF-8: the checksum the ledger records."""
        return hashlib.sha256(self.text.encode()).hexdigest()


def read_migrations(directory: Path) -> list[MigrationFile]:
    """Every migration of `directory` in wrangler's order. Raises UsageError if no folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such migrations folder (pass --path DIR)")
    files = [_read(path) for path in directory.glob("*.sql") if path.is_file()]
    if not files:  # prisma's layout: one folder per migration
        files = [_read(path, f"{path.parent.name}/{PRISMA_FILE_NAME}")
                 for path in directory.glob(f"*/{PRISMA_FILE_NAME}") if path.is_file()]
    return sorted(files, key=lambda migration: order_key(migration.name))


def is_prisma_layout(directory: Path) -> bool:
    return any(Path(directory).glob(f"*/{PRISMA_FILE_NAME}")) and not any(Path(directory).glob("*.sql"))


def _read(path: Path, label: str | None = None) -> MigrationFile:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return MigrationFile(path=path, text=text, label=label)


def latest_version(files: list[MigrationFile]) -> int:
    """The highest leading number of the history; 0 for an empty history."""
    return max((file.version for file in files if file.version is not None), default=0)


def check_new_migration(directory: Path, slug: str) -> None:
    """Raise UsageError unless `create_migration(directory, slug)` can write its file. Read-only."""
    if not SLUG.match(slug):
        raise UsageError(f"migration slug {slug!r} must be lower-case letters, digits and single underscores")
    if is_prisma_layout(directory):
        raise UsageError(f"{directory} holds prisma's layout (<timestamp>_name/migration.sql), which wrangler does "
                         "not apply; `invoke new` writes NNNN_slug.sql files: use a wrangler migrations folder")


def create_migration(directory: Path, slug: str) -> Path:
    """Write the next-numbered empty migration `NNNN_slug.sql` and return its path."""
    check_new_migration(directory, slug)
    files = read_migrations(directory)
    version = latest_version(files) + 1
    path = Path(directory) / f"{version:04d}_{slug}.sql"
    path.write_text(f"-- {version:04d} {slug.replace('_', ' ')}\n")
    return path
