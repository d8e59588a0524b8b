"""D1 on the loopback API: databases listed (by name) and created, query/raw with batches, database
get, Time Travel bookmark and restore.

Each database is a real SQLite file opened with hyphae's D1 rules (`infra.d1.rules`), so what
D1 refuses is refused here too. One request is one transaction, as on D1: a `batch` list, or
several `;`-joined statements in one `sql`, commit together or not at all. Requests to one
database are serialised (D1 runs one query at a time per database).

Time Travel: `GET .../time_travel/bookmark` snapshots the current state under a new bookmark
(or returns the last bookmark if nothing changed since); `POST .../time_travel/restore` copies a
kept snapshot back in place and returns `previous_bookmark`, as D1 does.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from infra.d1.rules import d1_transaction, open_d1_database

from .server import ApiFailure, LoopbackApi, LoopbackRequest

DATABASES = "/accounts/{account_id}/d1/database"
DATABASE = DATABASES + "/{database_id}"

# Cloudflare's error codes for D1 (as the API returns them).
D1_QUERY_ERROR = 7500
D1_NOT_FOUND = 7404
D1_NAME_TAKEN = 7502


@dataclass
class _Database:
    database_id: str
    name: str
    path: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    snapshots: dict[str, Path] = field(default_factory=dict)
    last_bookmark: tuple[str, str] | None = None  # (bookmark, content hash)


class D1Store:
    """The loopback API's D1 databases, as SQLite files under `root`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._databases: dict[str, _Database] = {}
        self._sequence = itertools.count(1)
        self.statements_executed = 0

    def add_database(self, database_id: str | None = None, name: str = "loopback-db") -> str:
        """Create an empty database and return its id."""
        database_id = database_id or str(uuid.uuid4())
        path = self.root / f"{database_id}.sqlite"
        connection = sqlite3.connect(path)
        # Every D1 database carries this internal table; tools must ignore it (see cloudflare-facts.md).
        connection.execute("CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
        connection.commit()
        connection.close()
        self._databases[database_id] = _Database(database_id, name, path)
        return database_id

    def list(self, name: str | None, page: int, per_page: int) -> list[dict]:
        """Databases whose name contains `name` (the API's search), one page of them, oldest first."""
        found = [self.describe(database_id) for database_id, database in self._databases.items()
                 if not name or name in database.name]
        return found[(page - 1) * per_page: page * per_page]

    def create(self, name: str) -> dict:
        if any(database.name == name for database in self._databases.values()):
            raise ApiFailure(400, D1_NAME_TAKEN, f"A database with name '{name}' already exists")
        return self.describe(self.add_database(name=name))

    def path(self, database_id: str) -> Path:
        return self._get(database_id).path

    def name(self, database_id: str) -> str:
        return self._get(database_id).name

    def ids(self) -> list[str]:
        return list(self._databases)

    def lock(self, database_id: str) -> threading.Lock:
        """The lock that serialises requests to one database (a whole export or import holds it)."""
        return self._get(database_id).lock

    def remove_database(self, database_id: str) -> None:
        database = self._get(database_id)
        with database.lock:
            del self._databases[database_id]
            database.path.unlink(missing_ok=True)

    def connect(self, database_id: str) -> sqlite3.Connection:
        """A plain connection to inspect a database from a test (no D1 rules: tests read `_cf_` too)."""
        return sqlite3.connect(self._get(database_id).path, isolation_level=None)

    def _get(self, database_id: str) -> _Database:
        database = self._databases.get(database_id)
        if database is None:
            raise ApiFailure(404, D1_NOT_FOUND, f"The database {database_id} could not be found")
        return database

    # -- queries --------------------------------------------------------------------------------
    def run(self, database_id: str, body: dict, raw: bool) -> list[dict]:
        """Run one request's statements as one transaction; a list of per-statement results."""
        database = self._get(database_id)
        statements = _statements_of(body)
        with database.lock:
            connection = open_d1_database(database.path)
            try:
                with d1_transaction(connection):
                    results = [_execute(connection, sql, params, raw) for sql, params in statements]
            except (sqlite3.Error, OverflowError) as error:
                raise ApiFailure(400, D1_QUERY_ERROR, _d1_message(error)) from None
            finally:
                connection.close()
            self.statements_executed += len(statements)
            size = database.path.stat().st_size
        for result in results:
            result["meta"]["size_after"] = size
        return results

    # -- Time Travel ----------------------------------------------------------------------------
    def bookmark(self, database_id: str) -> str:
        database = self._get(database_id)
        with database.lock:
            return self._snapshot(database)

    def restore(self, database_id: str, bookmark: str) -> dict:
        database = self._get(database_id)
        with database.lock:
            snapshot = database.snapshots.get(bookmark)
            if snapshot is None:
                raise ApiFailure(400, D1_QUERY_ERROR, f"Bookmark {bookmark} is not valid or is out of the retention window")
            previous = self._snapshot(database)
            _copy_database(snapshot, database.path)
            database.last_bookmark = None
            current = self._snapshot(database)
        return {"bookmark": current, "previous_bookmark": previous,
                "message": "Database restored successfully to the requested bookmark"}

    def _snapshot(self, database: _Database) -> str:
        digest = hashlib.sha256(database.path.read_bytes()).hexdigest()
        if database.last_bookmark and database.last_bookmark[1] == digest:
            return database.last_bookmark[0]
        bookmark = f"{next(self._sequence):08x}-{int(time.time()) & 0xFFFFFFFF:08x}-00000000-{digest[:32]}"
        target = self.root / "snapshots" / database.database_id / f"{bookmark}.sqlite"
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_database(database.path, target)
        database.snapshots[bookmark] = target
        database.last_bookmark = (bookmark, digest)
        return bookmark

    def describe(self, database_id: str) -> dict:
        database = self._get(database_id)
        connection = self.connect(database_id)
        try:
            tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            connection.close()
        return {"uuid": database.database_id, "name": database.name, "version": "production",
                "num_tables": tables, "file_size": database.path.stat().st_size,
                "created_at": "2026-01-01T00:00:00Z"}


def _statements_of(body: dict) -> list[tuple[str, list]]:
    """The request's statements in order: `{batch: [...]}` or `{sql, params}`; `;`-joined SQL splits."""
    if not isinstance(body, dict):
        raise ApiFailure(400, 10001, "Request body must be a JSON object")
    items = body.get("batch") if "batch" in body else [body]
    if not isinstance(items, list) or not items:
        raise ApiFailure(400, 10001, "batch must be a non-empty list of {sql, params}")
    statements: list[tuple[str, list]] = []
    for item in items:
        sql, params = item.get("sql"), item.get("params") or []
        if not isinstance(sql, str) or not sql.strip():
            raise ApiFailure(400, D1_QUERY_ERROR, "No SQL statements detected.")
        parts = _split(sql)
        if params and len(parts) > 1:
            raise ApiFailure(400, D1_QUERY_ERROR, "Wrong number of parameter bindings for SQL query.")
        statements.extend((part, params) for part in parts)
    if not statements:
        raise ApiFailure(400, D1_QUERY_ERROR, "No SQL statements detected.")
    return statements


def _split(sql: str) -> list[str]:
    """Statements of `sql`, cut where SQLite's tokenizer says a statement is complete."""
    parts, start = [], 0
    for position, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start:position + 1]):
            parts.append(sql[start:position + 1])
            start = position + 1
    parts.append(sql[start:])
    return [part for part in parts if _has_code(part)]


def _has_code(sql: str) -> bool:
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return bool("".join(lines).strip().strip(";").strip())


def _execute(connection: sqlite3.Connection, sql: str, params: list, raw: bool) -> dict:
    started = time.perf_counter()
    before = connection.total_changes
    cursor = connection.execute(sql, params)
    rows = cursor.fetchall()
    columns = [column[0] for column in cursor.description or []]
    changes = connection.total_changes - before
    duration = (time.perf_counter() - started) * 1000
    meta = {"changed_db": changes > 0 or not rows and not columns, "changes": changes, "duration": duration,
            "last_row_id": cursor.lastrowid or 0, "rows_read": len(rows), "rows_written": changes,
            "served_by_primary": True, "served_by_region": "WEUR", "timings": {"sql_duration_ms": duration}}
    if raw:
        results = {"columns": columns, "rows": [list(row) for row in rows]}
    else:
        results = [dict(zip(columns, row)) for row in rows]
    return {"results": results, "success": True, "meta": meta}


def _d1_message(error: Exception) -> str:
    """D1's error text: SQLite's message and its result code name."""
    name = getattr(error, "sqlite_errorname", None) or ("SQLITE_TOOBIG" if "too large" in str(error) else "SQLITE_ERROR")
    return f"{error}: {name}"


def _copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database with the backup API (consistent even while others hold it open)."""
    source_connection = sqlite3.connect(source)
    target_connection = sqlite3.connect(target)
    try:
        source_connection.backup(target_connection)
    finally:
        source_connection.close()
        target_connection.close()


def install(api: LoopbackApi, root: Path) -> D1Store:
    """Register D1's routes on `api`; the store is reachable as `api.d1`."""
    store = D1Store(root / "d1")

    @api.route("GET", DATABASES, "d1.list")
    def list_databases(request: LoopbackRequest):
        page = int(request.query.get("page", ["1"])[0])
        per_page = int(request.query.get("per_page", ["100"])[0])
        return store.list(request.query.get("name", [None])[0], page, per_page)

    @api.route("POST", DATABASES, "d1.create")
    def create(request: LoopbackRequest):
        body = request.json()
        if not body.get("name"):
            raise ApiFailure(400, 10001, "name is required")
        return store.create(body["name"])

    @api.route("POST", DATABASE + "/query", "d1.query")
    def query(request: LoopbackRequest):
        return store.run(request.path_params["database_id"], request.json(), raw=False)

    @api.route("POST", DATABASE + "/raw", "d1.raw")
    def raw(request: LoopbackRequest):
        return store.run(request.path_params["database_id"], request.json(), raw=True)

    @api.route("GET", DATABASE, "d1.get")
    def get(request: LoopbackRequest):
        return store.describe(request.path_params["database_id"])

    @api.route("GET", DATABASE + "/time_travel/bookmark", "d1.bookmark")
    def bookmark(request: LoopbackRequest):
        return {"bookmark": store.bookmark(request.path_params["database_id"])}

    @api.route("POST", DATABASE + "/time_travel/restore", "d1.restore")
    def restore(request: LoopbackRequest):
        bookmark = request.query.get("bookmark", [None])[0] or request.json().get("bookmark")
        if not bookmark:
            raise ApiFailure(400, 10001, "bookmark or timestamp is required")
        return store.restore(request.path_params["database_id"], bookmark)

    return store
