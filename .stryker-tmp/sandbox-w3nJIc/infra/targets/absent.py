"""A remote environment whose D1 database does not exist yet, read as an empty database.

A new environment gets its database from its first `invoke up` (docs/environments.md), so before
that a plan, `status` or `drift` of it is not an error: every migration is pending and will be
applied by that first deploy. Reads run on an empty in-memory SQLite with D1's rules; nothing is
sent anywhere. Restore points and restores refuse with the EnvironmentNotCreated they came from.
"""

from __future__ import annotations

from typing import Any, Sequence

from infra.errors import EnvironmentNotCreated
from infra.targets import BatchStatement, RestorePoint
from infra.targets.local import LocalTarget


class AbsentDatabase:
    created = False

    def __init__(self, absent: EnvironmentNotCreated):
        self.absent = absent
        self.environment = absent.environment
        self.description = f"D1 database {absent.database_name} (not created yet)"
        self.requests_made = 0
        # An empty, never-written local database answers the reads exactly as an empty D1 would.
        self._empty = LocalTarget(":memory:", absent.environment)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        return self._empty.query(sql, params)

    def batch(self, statements: Sequence[BatchStatement]) -> list[list[dict]]:
        return self._empty.batch(statements)

    def create_restore_point(self) -> RestorePoint:
        raise self.absent

    def restore(self, reference: str) -> str:
        raise self.absent

    def close(self) -> None:
        self._empty.close()
