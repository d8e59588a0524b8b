"""D1 on the loopback API, whole databases: create, delete, export and import, with faults.

The flows are D1's (see infra/targets/d1_transfer_api.py and wrangler's `d1 export` / `d1
execute --file`, which drive the same endpoints):
- export: the first `POST .../export` takes the export (D1's format, written by
  `infra.backup.dump` with D1's own lossy value formatting) at a new bookmark and answers "in
  progress"; polling with that bookmark answers `complete` with a signed URL, served without the
  API token, with the md5 as ETag as storage gives one. A virtual table among the exported
  tables is an `error`, as on D1.
- import: `init` gives an upload URL; the PUT answers the md5 as ETag; `ingest` checks the
  stored file against the etag and runs it in ONE transaction with D1's rules (so a statement
  over 100,000 bytes is refused, and nothing of a failed import remains); `poll` answers
  `complete` with the final bookmark.
Faults (`api.d1_transfer`): `stall_exports` (never complete), `truncate_downloads` (the next N
downloads stop half way), `corrupt_downloads` (the next N change a byte, ETag unchanged),
`corrupt_uploads` (the next N uploads arrive changed); `gzip_downloads` serves the export
gzip-encoded, as a storage object with that encoding is served.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from infra.backup.dump import VirtualTableInExport, dump_export
from infra.d1.rules import d1_transaction, open_d1_database

from .server import ApiFailure, LoopbackApi, LoopbackRequest, RawResponse

ACCOUNT = "/accounts/{account_id}/d1/database"
DATABASE = ACCOUNT + "/{database_id}"
SIGNED = "/__signed/{token}"


@dataclass
class _Export:
    database_id: str
    bookmark: str
    content: bytes = b""
    error: str | None = None
    polls: int = 0


@dataclass
class _Upload:
    database_id: str
    etag: str
    content: bytes | None = None


@dataclass
class TransferState:
    """Exports and imports in flight, the faults to inject, and what was seen."""

    api: LoopbackApi
    exports: dict[str, _Export] = field(default_factory=dict)  # by bookmark
    downloads: dict[str, bytes] = field(default_factory=dict)  # by signed token
    uploads: dict[str, _Upload] = field(default_factory=dict)  # by signed token
    imports: dict[str, dict] = field(default_factory=dict)  # by bookmark: the final answer
    stall_exports: bool = False
    truncate_downloads: int = 0
    corrupt_downloads: int = 0
    corrupt_uploads: int = 0
    polls_to_complete: int = 1
    gzip_downloads: bool = False  # serve the export stored gzip-encoded (Content-Encoding: gzip)

    def signed_url(self, kind: str) -> tuple[str, str]:
        token = f"{kind}-{secrets.token_hex(8)}"
        return token, f"{self.api.base_url}/__signed/{token}"


def install(api: LoopbackApi, root: Path) -> TransferState:
    """Register the whole-database routes; needs the D1 area (`api.d1`, installed before this one)."""
    store = api.d1
    state = TransferState(api)

    @api.route("POST", ACCOUNT, "d1.create")
    def create(request: LoopbackRequest):
        name = request.json().get("name")
        if not isinstance(name, str) or not name:
            raise ApiFailure(400, 10001, "name is required")
        database_id = store.add_database(name=name)
        return {"uuid": database_id, "name": name, "version": "production", "created_at": "2026-01-01T00:00:00Z"}

    @api.route("DELETE", DATABASE, "d1.delete")
    def delete(request: LoopbackRequest):
        store.remove_database(request.path_params["database_id"])
        return None

    @api.route("POST", DATABASE + "/export", "d1.export")
    def export(request: LoopbackRequest):
        return _export(state, store, request.path_params["database_id"], request.json())

    @api.route("POST", DATABASE + "/import", "d1.import")
    def import_(request: LoopbackRequest):
        return _import(state, store, request.path_params["database_id"], request.json())

    @api.route("GET", SIGNED, "storage.download", public=True)
    def download(request: LoopbackRequest):
        content = state.downloads.get(request.path_params["token"])
        if content is None:
            return RawResponse(404, b"NoSuchKey", "text/plain")
        headers = {}
        if state.gzip_downloads:
            content = gzip.compress(content)
            headers["Content-Encoding"] = "gzip"
        headers["ETag"] = f'"{hashlib.md5(content).hexdigest()}"'  # of the object as stored
        if state.corrupt_downloads:
            state.corrupt_downloads -= 1
            middle = len(content) // 2
            content = content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1:]
        if state.truncate_downloads:
            state.truncate_downloads -= 1
            return RawResponse(200, content, "application/sql", headers, send_only=len(content) // 2)
        return RawResponse(200, content, "application/sql", headers)

    @api.route("PUT", SIGNED, "storage.upload", public=True)
    def upload(request: LoopbackRequest):
        pending = state.uploads.get(request.path_params["token"])
        if pending is None:
            return RawResponse(404, b"NoSuchUpload", "text/plain")
        content = request.body
        if state.corrupt_uploads:
            state.corrupt_uploads -= 1
            content = content[:-1] + bytes([content[-1] ^ 0x01]) if content else b"x"
        pending.content = content
        return RawResponse(200, b"", "text/plain", {"ETag": f'"{hashlib.md5(content).hexdigest()}"'})

    return state


def _export(state: TransferState, store, database_id: str, body: dict) -> dict:
    if body.get("output_format") != "polling":
        raise ApiFailure(400, 10001, "output_format must be 'polling'")
    bookmark = body.get("current_bookmark")
    if bookmark is None:
        bookmark = store.bookmark(database_id)
        job = _Export(database_id, bookmark)
        tables = (body.get("dump_options") or {}).get("tables") or None
        with store.lock(database_id):  # D1 serves no queries while it exports
            connection = sqlite3.connect(store.path(database_id))
            try:
                job.content = "\n".join(dump_export(connection, tables=tables, exact=False)).encode()
            except VirtualTableInExport as refused:
                job.error = str(refused)
            finally:
                connection.close()
        state.exports[bookmark] = job
        return {"success": True, "type": "export", "at_bookmark": bookmark, "messages": ["Generating SQL dump"]}
    job = state.exports.get(bookmark)
    if job is None or job.database_id != database_id:
        raise ApiFailure(400, 7500, f"No export in progress at bookmark {bookmark}")
    job.polls += 1
    if job.error:
        return {"success": True, "type": "export", "at_bookmark": bookmark, "status": "error", "error": job.error,
                "messages": []}
    if state.stall_exports or job.polls < state.polls_to_complete:
        return {"success": True, "type": "export", "at_bookmark": bookmark, "messages": ["Still exporting"]}
    token, url = state.signed_url("export")
    state.downloads[token] = job.content
    return {"success": True, "type": "export", "at_bookmark": bookmark, "status": "complete",
            "messages": ["Uploaded part 1"], "result": {"filename": f"{database_id}.sql", "signed_url": url}}


def _import(state: TransferState, store, database_id: str, body: dict) -> dict:
    action = body.get("action")
    if action == "init":
        token, url = state.signed_url("import")
        state.uploads[token] = _Upload(database_id, str(body.get("etag")))
        return {"success": True, "type": "import", "filename": token, "upload_url": url}
    if action == "ingest":
        upload = state.uploads.get(str(body.get("filename")))
        if upload is None or upload.database_id != database_id or upload.content is None:
            raise ApiFailure(400, 7500, "No uploaded file by that name")
        if hashlib.md5(upload.content).hexdigest() != body.get("etag"):
            return {"success": True, "type": "import", "status": "error", "messages": [],
                    "error": "Uploaded file does not match the etag"}
        return _ingest(state, store, database_id, upload.content)
    if action == "poll":
        answer = state.imports.get(str(body.get("current_bookmark")))
        if answer is None:
            raise ApiFailure(400, 7500, "No import at that bookmark")
        return answer
    raise ApiFailure(400, 10001, f"unknown action {action!r}")


def _ingest(state: TransferState, store, database_id: str, content: bytes) -> dict:
    statements = list(_statements(content.decode()))
    with store.lock(database_id):
        connection = open_d1_database(store.path(database_id))
        try:
            with d1_transaction(connection):
                for sql in statements:
                    connection.execute(sql)
            error = None
        except (sqlite3.Error, OverflowError) as failure:
            # D1's words for a statement over its 100,000-byte limit (workers-sdk #4510).
            too_long = "too large" in str(failure) or getattr(failure, "sqlite_errorname", "") == "SQLITE_TOOBIG"
            name = getattr(failure, "sqlite_errorname", None) or "SQLITE_ERROR"
            error = "statement too long: SQLITE_TOOBIG" if too_long else f"{failure}: {name}"
        finally:
            connection.close()
    bookmark = store.bookmark(database_id)
    meta = {"duration": 1.0, "rows_read": 0, "rows_written": len(statements), "changes": len(statements),
            "size_after": store.path(database_id).stat().st_size, "changed_db": not error}
    if error:
        answer = {"success": True, "type": "import", "at_bookmark": bookmark, "status": "error", "error": error,
                  "messages": []}
    else:
        answer = {"success": True, "type": "import", "at_bookmark": bookmark, "status": "complete",
                  "messages": [f"Processed {len(statements)} queries."],
                  "result": {"final_bookmark": bookmark, "num_queries": len(statements), "meta": meta}}
    state.imports[bookmark] = answer
    # The first answer says "in progress"; the poll with its bookmark gives the outcome.
    return {"success": True, "type": "import", "at_bookmark": bookmark, "messages": ["Starting import..."]}


def _statements(text: str):
    pending = ""
    for line in text.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()
