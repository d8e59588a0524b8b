"""Where migrations go: one small interface over a local D1 file and a D1 database behind the API.

A `Target` can
- `query(sql, params)`: run one read statement, rows as dicts;
- `batch(statements)`: run statements as ONE transaction (a D1 batch is one), all or nothing;
- `create_restore_point()` / `restore(reference)`: a Time Travel bookmark remotely, a copy of
  the database file locally.

Failures a caller must tell apart:
- `BatchFailed`: the database refused a statement and rolled the whole batch back; `index` is
  the failing statement's position when the target knows it (locally), else None.
- `ResponseLost`: the request may or may not have committed (a dropped connection, a timeout, a
  5xx after sending): the caller must look at the ledger before sending it again.

`created` is False only for a remote environment whose database does not exist yet: opened for
reading, it reads as an empty database (`absent.py`); opened for writing, EnvironmentNotCreated.

`open_target(env)` picks the implementation; only `d1_api.py` imports the `cloudflare` SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from infra.environments import Environment


@dataclass(frozen=True)
class BatchStatement:
    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RestorePoint:
    kind: str  # "bookmark" (D1 Time Travel) or "file" (a copy of the local database file)
    reference: str  # what `invoke restore --bookmark` takes
    environment: str

    @property
    def restore_command(self) -> str:
        return f"invoke restore --env {self.environment} --bookmark {self.reference}"


class BatchFailed(Exception):
    """The database refused statement `index` (None: unknown) of a batch; nothing of it remains."""

    def __init__(self, message: str, index: int | None):
        # On one line: SQLite quotes a failed CHECK's expression as written, line breaks included,
        # and the message ends up in a one-line error.
        message = " ".join(message.split())
        super().__init__(message)
        self.message, self.index = message, index


class ResponseLost(Exception):
    """A write request's outcome is unknown: it may have committed. Check the ledger before resending."""


class Target(Protocol):
    environment: str
    description: str
    requests_made: int
    created: bool

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]: ...

    def batch(self, statements: Sequence[BatchStatement]) -> list[list[dict]]: ...

    def create_restore_point(self) -> RestorePoint: ...

    def restore(self, reference: str) -> str: ...

    def close(self) -> None: ...


def open_target(env: Environment, *, read_only: bool = False) -> Target:
    """The target for `env`: the local D1 file for `local`, the D1 API otherwise.

    `read_only` (plans, status, drift, lint --env): locally, the file is opened read-only and not
    created; remotely, an environment not created yet reads as an empty database.

    Raises MissingCredentials / ConfigError before any request when something is not set, and
    EnvironmentNotCreated when a remote environment to write to has no database yet.
    """
    if env.is_local:
        from infra.targets.local import LocalTarget

        return LocalTarget.for_environment(env, read_only=read_only)
    from infra.errors import EnvironmentNotCreated
    from infra.targets.d1_api import D1ApiTarget

    try:
        return D1ApiTarget.for_environment(env)
    except EnvironmentNotCreated as absent:
        if not read_only:
            raise
        from infra.targets.absent import AbsentDatabase

        return AbsentDatabase(absent)
