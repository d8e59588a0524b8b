"""Moving a whole D1 database through the official `cloudflare` SDK: export, import, create, delete.

D1's export and import are long-running jobs driven by polling the same endpoint:
- export: `POST .../export {output_format: polling, dump_options}` answers with `at_bookmark`;
  it is polled with `current_bookmark` until `status` is `complete` (then `result.signed_url`
  is a download valid one hour) or `error`. An export not polled is cancelled; the database
  serves no queries while it runs.
- import: `action: init` with the file's md5 (`etag`) answers with an `upload_url`; the file is
  PUT there (the answer's ETag must be that md5); `action: ingest` starts it; `action: poll`
  with `current_bookmark` until `complete` or `error`. A failed import leaves the database as it was.
The signed URLs are storage URLs, not the API: they are fetched without the API token (which
must never travel to another host), streamed, and checked (length; the md5 ETag storage gives a
single-part object). Retries follow `D1ApiTarget` (this class extends it): reads and polls are
retried on 429/5xx/timeouts; an `ingest` whose answer is lost is not resent.
"""

from __future__ import annotations

import hashlib
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

from infra.credentials import api_base_url, read_account_id, read_api_token
from infra.environments import Environment
from infra.errors import RemoteApiError
from infra.targets import BatchFailed, ResponseLost
from infra.targets.d1_api import D1ApiTarget

DOWNLOAD_TIMEOUT = httpx.Timeout(120.0, connect=15.0)
DOWNLOAD_ATTEMPTS = 3
CHUNK = 1 << 20
_MD5_ETAG = re.compile(r'^"?(?P<md5>[0-9a-f]{32})"?$')


class TransferFailed(RemoteApiError):
    """An export, download, upload or import did not complete; the message says which and why."""


@dataclass(frozen=True)
class TransferTimings:
    """How often to poll, and how long a job may run before hyphae gives up on it."""

    poll_interval: float = 1.0
    deadline: float = 1800.0


@dataclass(frozen=True)
class ExportedFile:
    signed_url: str
    filename: str | None
    bookmark: str | None


@dataclass(frozen=True)
class ImportOutcome:
    final_bookmark: str | None
    queries: int


class D1TransferTarget(D1ApiTarget):
    """A D1 database (as `D1ApiTarget`), plus whole-database export and import."""

    @classmethod
    def for_account(cls, env: Environment) -> "D1TransferTarget":
        """The environment's account and credentials, pointed at no database yet (to create one)."""
        token = read_api_token(f"environment {env.name!r} is remote and needs an API token with D1 edit permission")
        target = cls(env.name, read_account_id(env), "", token, api_base_url())
        target.description = f"D1 account {target.account_id}"
        return target

    # -- export --------------------------------------------------------------------------------
    def export_database(self, tables: list[str] | None, timings: TransferTimings = TransferTimings(),
                        progress: Callable[[str], None] = lambda line: None) -> ExportedFile:
        """Run D1's export to completion and return where to download it (read-only on the database).

        `tables` limits the export (D1's `dump_options.tables`). Raises TransferFailed when D1
        reports an error or the export does not complete within `timings.deadline`.
        """
        options = {"tables": tables} if tables else None
        started, bookmark = time.monotonic(), None
        while True:
            answer = self._call(lambda: self._client.d1.database.export(
                self.database_id, account_id=self.account_id, output_format="polling",
                **({"current_bookmark": bookmark} if bookmark else {}),
                **({"dump_options": options} if options else {})), "the export")
            for message in answer.messages or []:
                progress(f"D1: {message}")
            if answer.success is False or answer.status == "error":
                raise TransferFailed(f"D1 refused to export {self.description}: {answer.error or 'no reason given'}")
            if answer.status == "complete":
                if not answer.result or not answer.result.signed_url:
                    raise TransferFailed(f"D1 finished the export of {self.description} without a download URL")
                return ExportedFile(answer.result.signed_url, answer.result.filename, answer.at_bookmark or bookmark)
            bookmark = answer.at_bookmark or bookmark
            self._wait(started, timings, f"the export of {self.description} (at bookmark {bookmark})")

    def download(self, url: str, write: Callable[[bytes], None], restart: Callable[[], None]) -> int:
        """Stream the signed URL into `write` (no API token sent); returns the bytes received.

        A download cut short (fewer bytes than announced) or whose md5 differs from the storage
        ETag is started again (`restart` discards what was written) up to DOWNLOAD_ATTEMPTS times;
        then TransferFailed.
        """
        problem = ""
        for attempt in range(DOWNLOAD_ATTEMPTS):
            if attempt:
                restart()
            try:
                return self._download_once(url, write)
            except _BadDownload as error:
                problem = str(error)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
        raise TransferFailed(f"the export of {self.description} could not be downloaded in {DOWNLOAD_ATTEMPTS} "
                             f"attempts (last: {problem}); nothing was kept; run the backup again")

    def _download_once(self, url: str, write: Callable[[bytes], None]) -> int:
        """One GET: length and md5 are checked on the bytes as stored; a gzip transfer is decoded."""
        received, digest = 0, hashlib.md5(usedforsecurity=False)
        with httpx.Client(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as storage:
            with storage.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
                if response.status_code != 200:
                    raise _BadDownload(f"the storage answered HTTP {response.status_code}")
                announced = response.headers.get("content-length")
                etag = _MD5_ETAG.match(response.headers.get("etag", ""))
                decoder = _Decoder(response.headers.get("content-encoding", "identity"))
                for chunk in response.iter_raw(CHUNK):
                    received += len(chunk)
                    digest.update(chunk)
                    write(decoder.decode(chunk))
                write(decoder.finish())
        if announced is not None and int(announced) != received:
            raise _BadDownload(f"received {received:,} of {int(announced):,} bytes (truncated)")
        if etag and etag["md5"] != digest.hexdigest():
            raise _BadDownload(f"md5 {digest.hexdigest()[:12]} differs from the storage ETag {etag['md5'][:12]}")
        return received

    # -- import --------------------------------------------------------------------------------
    def import_file(self, path: Path, timings: TransferTimings = TransferTimings(),
                    progress: Callable[[str], None] = lambda line: None) -> ImportOutcome:
        """Upload `path` and run it in this database as one job; D1 rolls a failed import back.

        Raises TransferFailed (the upload's checksum differs, D1 reports an error, the deadline
        passes, or the answer to `ingest` was lost: the job may still be running).
        """
        etag = _md5_of(path)
        started = time.monotonic()
        answer = self._call(lambda: self._client.d1.database.import_(
            self.database_id, account_id=self.account_id, action="init", etag=etag), "the import")
        if answer.upload_url:
            self._upload(path, answer.upload_url, etag)
            try:
                answer = self._call(lambda: self._client.d1.database.import_(
                    self.database_id, account_id=self.account_id, action="ingest", etag=etag,
                    filename=answer.filename or path.name), "the import", write=True)
            except ResponseLost:
                raise TransferFailed(f"the answer to starting the import into {self.description} was lost; the import "
                                     "may still be running: check the database before trying again") from None
        while True:
            for message in answer.messages or []:
                progress(f"D1: {message}")
            if answer.success is False or answer.status == "error":
                raise TransferFailed(f"D1 refused the import into {self.description}: "
                                     f"{answer.error or 'no reason given'}; D1 rolled it back")
            if answer.status == "complete":
                result = answer.result
                return ImportOutcome(result.final_bookmark if result else None,
                                     int(result.num_queries or 0) if result else 0)
            bookmark = answer.at_bookmark
            self._wait(started, timings, f"the import into {self.description}")
            answer = self._call(lambda: self._client.d1.database.import_(
                self.database_id, account_id=self.account_id, action="poll", current_bookmark=bookmark), "the import")

    def _upload(self, path: Path, url: str, etag: str) -> None:
        size = path.stat().st_size
        try:
            with httpx.Client(timeout=DOWNLOAD_TIMEOUT) as storage, open(path, "rb") as stream:
                response = storage.put(url, content=iter(lambda: stream.read(CHUNK), b""),
                                       headers={"Content-Length": str(size)})
        except httpx.HTTPError as error:
            raise TransferFailed(f"the upload of {path.name} for {self.description} failed ({type(error).__name__}); "
                                 "nothing was imported; try again") from None
        if response.status_code != 200:
            raise TransferFailed(f"the storage refused the upload of {path.name} (HTTP {response.status_code}); "
                                 "nothing was imported; try again")
        returned = _MD5_ETAG.match(response.headers.get("etag", ""))
        if not returned or returned["md5"] != etag:
            shown = response.headers.get("etag", "none").strip('"')[:12]
            raise TransferFailed(f"the upload of {path.name} arrived changed (md5 {etag[:12]}, storage ETag {shown}); "
                                 "nothing was imported; try again")

    # -- databases -----------------------------------------------------------------------------
    def create_database(self, name: str) -> str:
        """Create an empty database named `name` in this account; returns its id."""
        answer = self._call(lambda: self._client.d1.database.create(account_id=self.account_id, name=name),
                            f"creating database {name!r}", write=True)
        if not answer or not answer.uuid:
            raise TransferFailed(f"D1 created database {name!r} but returned no id")
        return answer.uuid

    def delete_database(self, database_id: str) -> None:
        self._call(lambda: self._client.d1.database.delete(database_id, account_id=self.account_id),
                   f"deleting database {database_id}")

    def for_database(self, database_id: str) -> "D1TransferTarget":
        """The same account and credentials (one shared client: close only this original), another database."""
        other = object.__new__(D1TransferTarget)
        other.__dict__.update(self.__dict__)
        other.database_id = database_id
        other.description = f"D1 database {database_id} (account {self.account_id})"
        other.requests_made = 0
        return other

    # -- helpers -------------------------------------------------------------------------------
    def _call(self, call, what: str, *, write: bool = False):
        try:
            return self._with_retries(call, write=write)
        except BatchFailed as refused:  # HTTP 400: D1 refused the request itself
            raise TransferFailed(f"D1 refused {what} for {self.description}: {refused.message}") from None

    def _wait(self, started: float, timings: TransferTimings, what: str) -> None:
        if time.monotonic() - started + timings.poll_interval > timings.deadline:
            raise TransferFailed(f"{what} did not finish within {timings.deadline:.0f} s (D1 kept answering "
                                 "'in progress'); hyphae stopped polling, which cancels it; try again later")
        time.sleep(timings.poll_interval)


class _BadDownload(Exception):
    pass


class _Decoder:
    """The stored object's bytes as sent (hyphae asks for `identity`; a gzip-encoded object is decoded)."""

    def __init__(self, encoding: str):
        if encoding.lower() not in ("", "identity", "gzip"):
            raise _BadDownload(f"the storage sent content-encoding {encoding!r}, which hyphae does not decode")
        self._gzip = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding.lower() == "gzip" else None

    def decode(self, chunk: bytes) -> bytes:
        return self._gzip.decompress(chunk) if self._gzip else chunk

    def finish(self) -> bytes:
        if self._gzip is None:
            return b""
        rest = self._gzip.flush()
        if not self._gzip.eof:
            raise _BadDownload("the gzip-encoded download ended early (truncated)")
        return rest


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()

