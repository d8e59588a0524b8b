"""The local target: the SQLite file the locally running Worker (workerd) uses, with D1's rules.

A batch is one SQLite transaction (`BEGIN IMMEDIATE`, so two local runs queue instead of
interleaving). A restore point is a consistent copy of the file (SQLite's backup API, safe while
workerd holds it open) under `$HYPHAE_STATE_DIR/restore-points/<env>/`.

A file SQLite cannot read (not a database, or malformed) raises DatabaseDamaged, which names the
file and the restore point to put back; `restore` then replaces the file whole.
"""

from __future__ import annotations

import datetime
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Sequence

from infra.d1.rules import d1_transaction, install_d1_rules, open_d1_database
from infra.environments import Environment
from infra.errors import DatabaseDamaged, UsageError
from infra.paths import local_d1_file, state_dir
from infra.targets import BatchFailed, BatchStatement, RestorePoint

# SQLite's result codes for a file it cannot read as a database (any extended CORRUPT code too).
_DAMAGE_CODES = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def restore_points_dir(environment: str) -> Path:
    return state_dir() / "restore-points" / environment


def read_restore_points(environment: str) -> list[str]:
    """The local restore points of `environment`, oldest first (their names sort by time)."""
    return sorted(path.stem for path in restore_points_dir(environment).glob("*.sqlite"))


class LocalTarget:
    def __init__(self, path: Path, environment: str = "local", *, read_only: bool = False):
        self.path = Path(path)
        self.environment = environment
        self.description = f"local D1 file {self.path}"
        self.created = True  # a missing file reads as empty locally, and `migrate` creates it
        self.requests_made = 0
        self._created = not self.path.exists()  # opening for writing creates the file (empty)
        self._connection = _open_read_only(self.path) if read_only else _open_for_writing(self.path)

    @classmethod
    def for_environment(cls, env: Environment, *, read_only: bool = False) -> "LocalTarget":
        return cls(local_d1_file(env.local_database_id), env.name, read_only=read_only)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """Run one statement outside any batch (reads). Raises BatchFailed(index=0) on refusal."""
        self.requests_made += 1
        try:
            cursor = self._connection.execute(sql, tuple(params))
            return _rows(cursor)
        except sqlite3.Error as error:
            self._refuse_if_damaged(error)
            raise BatchFailed(_message(error), 0) from None

    def batch(self, statements: Sequence[BatchStatement]) -> list[list[dict]]:
        """Run `statements` in one transaction; on refusal roll back and raise BatchFailed(index)."""
        self.requests_made += 1
        results: list[list[dict]] = []
        try:
            with d1_transaction(self._connection):
                for statement in statements:
                    results.append(_rows(self._connection.execute(statement.sql, tuple(statement.params))))
        except (sqlite3.Error, OverflowError) as error:
            self._refuse_if_damaged(error)
            raise BatchFailed(_message(error), len(results)) from None
        return results

    def _refuse_if_damaged(self, error: Exception) -> None:
        """Raise DatabaseDamaged when SQLite says the file is not a (readable) database."""
        if not str(getattr(error, "sqlite_errorname", "")).startswith(_DAMAGE_CODES):
            return
        points = read_restore_points(self.environment)
        if points:
            advice = (f"put back a restore point with `invoke restore --env {self.environment} --bookmark {points[-1]}` "
                      f"(the latest of {len(points)})")
        else:
            advice = "no restore point exists: move it away and `invoke migrate` builds a new one (its data is lost)"
        raise DatabaseDamaged(f"local D1 file {self.path} is damaged ({error}); nothing was written; {advice}")

    def create_restore_point(self) -> RestorePoint:
        """Copy the database file; the copy's name is the bookmark `invoke restore` takes."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        reference = f"{stamp}-{secrets.token_hex(3)}"
        folder = restore_points_dir(self.environment)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{reference}.partial"
        _copy_database(self._connection, partial)
        os.replace(partial, folder / f"{reference}.sqlite")  # a killed run never leaves a half copy
        return RestorePoint("file", reference, self.environment)

    def restore(self, reference: str) -> str:
        """Put a restore point's copy back in place of the database. Raises UsageError if unknown."""
        copy = restore_points_dir(self.environment) / f"{reference}.sqlite"
        if "/" in reference or not copy.is_file():
            known = read_restore_points(self.environment)
            hint = f" (known: {', '.join(known[-5:])})" if known else ""
            if self._created and self.path.stat().st_size == 0:  # refused: leave no empty database behind
                self._connection.close()
                self.path.unlink()
                self._connection = open_d1_database(":memory:")
            raise UsageError(f"no restore point {reference!r} for environment {self.environment!r}{hint}")
        if self.is_damaged():
            self._replace_file_with(copy)
            return f"restored {self.path} from {copy} (the damaged file was replaced)"
        source = sqlite3.connect(copy)
        try:
            source.backup(self._connection)
        finally:
            source.close()
        return f"restored {self.path} from {copy}"

    def is_damaged(self) -> bool:
        try:
            self._connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError as error:
            return str(getattr(error, "sqlite_errorname", "")).startswith(_DAMAGE_CODES)
        return False

    def _replace_file_with(self, copy: Path) -> None:
        # SQLite's backup cannot write into a file it cannot read: swap the whole file instead.
        self._connection.close()
        partial = self.path.with_name(f".{self.path.name}.restoring")
        _copy_database(sqlite3.connect(copy), partial, close_source=True)
        for leftover in (self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-shm", "-journal")):
            leftover.unlink(missing_ok=True)
        os.replace(partial, self.path)
        self._connection = _open_for_writing(self.path)

    def close(self) -> None:
        self._connection.close()


def _open_for_writing(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open_d1_database(path)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Plans and status never create or change the file: read-only, or an empty database if absent."""
    if not path.exists():
        return open_d1_database(":memory:")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False,
                                 timeout=30)
    return install_d1_rules(connection)


def _rows(cursor: sqlite3.Cursor) -> list[dict]:
    columns = [column[0] for column in cursor.description or []]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _message(error: Exception) -> str:
    """SQLite's message with its result code name, as D1 words its errors."""
    name = getattr(error, "sqlite_errorname", None)
    if not name:
        name = "SQLITE_TOOBIG" if "too large" in str(error) else "SQLITE_ERROR"
    return f"{error}: {name}"


def _copy_database(connection: sqlite3.Connection, target: Path, *, close_source: bool = False) -> None:
    destination = sqlite3.connect(target)
    try:
        connection.backup(destination)
    finally:
        destination.close()
        if close_source:
            connection.close()
