"""The replay cache: the scratch databases and findings after each checkpoint of history, keyed by
that file's line in `hyphae.sum` (its chained digest covers the file and every one before it).

The two scratch databases after a checkpoint (with rows, with empty tables) are stored as plain
SQLite files. A pull request that
adds one migration to a long history finds the checkpoint of the history it builds on and
replays only the new file. Entries live in `$HYPHAE_STATE_DIR/cache/lint/<rules>/`, where
`<rules>` fingerprints the linter's own code and the SQLite and sqlglot versions, so a changed
rule never reads an old verdict. Writes are atomic (write, then rename); a damaged entry is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from infra.lint.findings import Finding
from infra.paths import state_dir

KEEP_CHECKPOINTS = 24
CHECKPOINT_EVERY = 100  # files between snapshots of a cold run (plus one after the last file)


@dataclass
class CachedResult:
    name: str
    statements: int
    findings: list[dict]


def rules_fingerprint() -> str:
    """A digest of what decides verdicts: infra/lint, infra/d1, the client contract, SQLite's and sqlglot's versions."""
    import sqlglot

    from infra.lint.rules.contract import contract_fingerprint

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{sqlite3.sqlite_version} {sqlglot.__version__}".encode())
    for folder in ("lint", "d1"):
        for path in sorted((package / folder).rglob("*.py")):
            digest.update(path.name.encode() + path.read_bytes())
    digest.update(contract_fingerprint())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    return state_dir() / "cache" / "lint" / rules_fingerprint()


def read_checkpoint(digests: list[str]) -> tuple[int, tuple[bytes, bytes], list[CachedResult]] | None:
    """The longest cached prefix of history: (files covered, (database with rows, database with
    empty tables), their results)."""
    folder = cache_dir()
    if not folder.is_dir():
        return None
    for count in range(len(digests), 0, -1):
        digest = digests[count - 1]
        try:
            results = [CachedResult(**result) for result in json.loads((folder / f"{digest}.json").read_text())]
            rows = (folder / f"{digest}.rows.sqlite").read_bytes()
            empty = (folder / f"{digest}.empty.sqlite").read_bytes()
        except (OSError, ValueError, TypeError):  # missing or damaged: replay instead
            continue
        if len(results) == count and _is_database(rows) and _is_database(empty):
            return count, (rows, empty), results
    return None


def _is_database(data: bytes) -> bool:
    """True for a readable SQLite image (b"" is a database with no tables yet)."""
    if not data:
        return True
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(data)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        connection.close()


def record_checkpoint(digest: str, snapshot: tuple[bytes, bytes], results: list[CachedResult]) -> None:
    """Store the state after the file whose chained digest is `digest`; prunes old checkpoints."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / f"{digest}.rows.sqlite", snapshot[0])
    _write_atomically(folder / f"{digest}.empty.sqlite", snapshot[1])
    payload = [result.__dict__ for result in results]
    _write_atomically(folder / f"{digest}.json", json.dumps(payload).encode())
    _prune(folder)


def to_cached(name: str, statements: int, findings: list[Finding]) -> CachedResult:
    return CachedResult(name, statements, [finding.to_json() | {"file": name} for finding in findings])


def from_cached(result: CachedResult, display: str) -> list[Finding]:
    return [Finding(**(finding | {"file": display})) for finding in result.findings]


def _write_atomically(path: Path, data: bytes) -> None:
    # pid and thread: two lint runs in one process (migrate's concurrency tests) must not share it.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in entries[KEEP_CHECKPOINTS:]:
        digest = stale.name.removesuffix(".json")
        for suffix in (".json", ".rows.sqlite", ".empty.sqlite"):
            (folder / f"{digest}{suffix}").unlink(missing_ok=True)
