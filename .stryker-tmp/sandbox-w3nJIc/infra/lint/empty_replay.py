"""The replay on empty tables: the same history under the same D1 rules, never seeded (a fresh
local database), beside the replay with rows in engine.py.

Its verdicts differ from the replay with rows exactly where a statement depends on data: an
INSERT whose foreign key finds its parent only in production rows fails here; an ADD COLUMN
NOT NULL without default fails only there. On a long history it runs in a child process while
the main process replays with rows and runs the static rules: SQLite's own work dominates a
replay, and the two replays then take the time of one on a two-core machine. The child is
spawned, not forked: the caller may hold SQLite connections to real files (migrate does), and
SQLite connections must not cross a fork. Read-only outside its own in-memory database.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from dataclasses import dataclass, field
from typing import Callable

from infra.d1.rules import open_d1_database, runner_privileges
from infra.lint.execution import EngineFailure, run_batch, serialize
from infra.lint.splitter import split_statements

# Below this many statements a child process costs more than it saves.
BACKGROUND_MIN_STATEMENTS = 2000


@dataclass
class EmptyReplayResult:
    failures: list[list[EngineFailure | None]]  # per file, per statement: why it failed, or None
    snapshots: dict[int, bytes] = field(default_factory=dict)  # file position -> database after it


def replay_on_empty_tables(snapshot: bytes, texts: list[str], snapshot_after: set[int]) -> EmptyReplayResult:
    """Replay `texts` (whole migration files) from `snapshot` (b"" for nothing yet) on tables
    that are never seeded; keep the database after each file position in `snapshot_after`."""
    connection = open_d1_database(":memory:", protect_ledger=True)
    try:
        if snapshot:
            with runner_privileges(connection):
                connection.deserialize(snapshot)
        result = EmptyReplayResult([])
        for position, text in enumerate(texts):
            result.failures.append(run_batch(connection, [statement.sql for statement in split_statements(text)]))
            if position in snapshot_after:
                result.snapshots[position] = serialize(connection)
        return result
    finally:
        connection.close()


def start_empty_replay(snapshot: bytes, texts: list[str], snapshot_after: set[int],
                       *, in_background: bool | None = None) -> Callable[[], EmptyReplayResult]:
    """Start the replay on empty tables; returns a function that waits for its result.

    `in_background=None` decides by size (BACKGROUND_MIN_STATEMENTS); the verdicts are the same
    either way (tests/lint/test_engine.py compares them).
    """
    if in_background is None:
        in_background = sum(text.count(";") for text in texts) >= BACKGROUND_MIN_STATEMENTS
    if not in_background:
        result = replay_on_empty_tables(snapshot, texts, snapshot_after)
        return lambda: result
    try:
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        future = pool.submit(replay_on_empty_tables, snapshot, texts, snapshot_after)
    except OSError:  # no child processes here (a sandbox, a process limit): same replay, inline
        result = replay_on_empty_tables(snapshot, texts, snapshot_after)
        return lambda: result

    def wait() -> EmptyReplayResult:
        try:
            return future.result()
        except concurrent.futures.process.BrokenProcessPool:  # the child died: replay inline instead
            return replay_on_empty_tables(snapshot, texts, snapshot_after)
        finally:
            pool.shutdown()

    return wait
