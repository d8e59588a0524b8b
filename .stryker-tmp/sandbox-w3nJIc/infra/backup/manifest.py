"""The manifest beside every backup, and the check of a backup file against it.

`backups/<env>/<stamp>.sql.gz` is the export, gzip-compressed; `<stamp>.manifest.json` says
what it is: the sha256 and size of the compressed file and of the SQL inside, the migration
history the backup holds (names and checksums, read from its own ledger), its schema version,
the rows of every table, D1's virtual tables (re-created on restore), the hyphae version that
wrote it, and how it was verified. A backup without a manifest is incomplete: the manifest is
written last, after verification.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from infra.errors import BackupCorrupted, UsageError

FORMAT = "hyphae-backup/1"
SQL_SUFFIX = ".sql.gz"
MANIFEST_SUFFIX = ".manifest.json"
CHUNK = 1 << 20


@dataclass
class VirtualTable:
    """A virtual table D1's export leaves out; restore creates it again (see infra/backup/virtual.py)."""

    name: str
    sql: str
    columns: list[str]
    content: str  # "own" (FTS5 keeps the text: exported from its _content table), "external", "none"
    content_table: str | None = None  # the shadow table exported for "own", the source table for "external"


@dataclass
class BackupManifest:
    environment: str
    source: str  # "local D1 file ..." or "D1 database <id> (account ...)"
    method: str  # "d1-export-api" or "local-file"
    created_at: str
    file: str
    sha256: str
    size: int
    sql_sha256: str
    sql_size: int
    statements: int
    row_counts: dict[str, int]
    history: list[dict] = field(default_factory=list)  # [{"name", "sha256"}], from the backup's own ledger
    schema_version: int = 0
    virtual_tables: list[VirtualTable] = field(default_factory=list)
    bookmark: str | None = None  # D1's Time Travel bookmark the export was taken at
    hyphae_version: str = ""
    verified: dict | None = None
    warnings: list[str] = field(default_factory=list)
    format: str = FORMAT

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def utc_stamp(moment: datetime.datetime | None = None) -> str:
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def manifest_path(backup: Path) -> Path:
    """`<stamp>.manifest.json` beside `<stamp>.sql.gz`."""
    name = backup.name
    stem = name[: -len(SQL_SUFFIX)] if name.endswith(SQL_SUFFIX) else backup.stem
    return backup.with_name(stem + MANIFEST_SUFFIX)


def write_manifest(manifest: BackupManifest, path: Path) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n")
    partial.replace(path)


def read_manifest(backup: Path) -> BackupManifest:
    """The manifest of backup file `backup`. Raises UsageError (no such file) or BackupCorrupted."""
    if not backup.is_file():
        raise UsageError(f"--from-backup {backup}: no such file")
    path = manifest_path(backup)
    if not path.is_file():
        raise BackupCorrupted(f"{backup} has no manifest ({path.name} is missing): the backup is incomplete or was "
                              "copied without it; nothing was restored")
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise BackupCorrupted(f"{path}: format {data.get('format')!r} is not {FORMAT!r}; nothing was restored")
        data["virtual_tables"] = [VirtualTable(**table) for table in data.get("virtual_tables", [])]
        return BackupManifest(**data)
    except json.JSONDecodeError as error:
        raise BackupCorrupted(f"{path}: line {error.lineno}: not valid JSON; nothing was restored") from None
    except TypeError as error:
        raise BackupCorrupted(f"{path}: not a hyphae backup manifest ({error}); nothing was restored") from None


def file_digest(path: Path) -> tuple[str, int]:
    """(sha256, size) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def check_file(backup: Path, manifest: BackupManifest) -> None:
    """The backup file is the one its manifest describes. Raises BackupCorrupted naming what differs."""
    sha256, size = file_digest(backup)
    if size != manifest.size:
        raise BackupCorrupted(f"{backup} is {size:,} bytes but its manifest says {manifest.size:,}: the file is "
                              "truncated or was changed; nothing was restored")
    if sha256 != manifest.sha256:
        raise BackupCorrupted(f"{backup} does not match its manifest (sha256 {sha256[:12]}, expected "
                              f"{manifest.sha256[:12]}): the file is corrupted; nothing was restored")


def hyphae_version() -> str:
    """The package version and the commit it runs from, e.g. `0.1.0 (commit 2a20b2b, clean)`."""
    from importlib import metadata

    from infra.artifact.manifest import read_git_state
    from infra.paths import REPO_ROOT

    try:
        version = metadata.version("hyphae")
    except metadata.PackageNotFoundError:
        version = "unknown"
    git = read_git_state(REPO_ROOT)
    if git["commit"] is None:
        return version
    return f"{version} (commit {git['commit'][:12]}, {'dirty' if git['dirty'] else 'clean'})"
