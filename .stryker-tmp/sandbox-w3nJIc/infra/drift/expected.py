"""The expected schema: what the migrations build, replayed by the linter's engine.

The engine (infra/lint/engine.py) replays the history in scratch SQLite with D1's rules; the same
one-query reader as the live side then reads its database, so both sides come through the
same lens. One pass yields the schema after the applied migrations and, when some are pending,
after the whole history too. Read-only (in-memory databases; it reads the
linter's replay cache but never writes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.drift.schema import Schema, read_connection_schema
from infra.history.files import MigrationFile
from infra.history.sumfile import chain_digests
from infra.lint.cache import read_checkpoint
from infra.lint.engine import Replay, execute
from infra.lint.splitter import split_statements


@dataclass
class ExpectedSchemas:
    applied: Schema  # after every migration up to the applied version
    latest: Schema | None  # after the whole history; None when nothing is pending


def replay_expected(files: list[MigrationFile], applied_names: set[str]) -> ExpectedSchemas:
    """Replay the applied files in history order and read the schema; when some files are not
    applied, read the schema after the whole history too (continuing the same replay when the
    pending files all come after the applied ones, from scratch otherwise)."""
    ordered = sorted((file for file in files if file.version is not None), key=lambda file: file.name)
    applied = [file for file in ordered if file.name in applied_names]
    replay = _replay_from_checkpoint(applied)
    try:
        applied_schema = read_connection_schema(replay.connection)
        if len(applied) == len(ordered):
            return ExpectedSchemas(applied_schema, None)
        if ordered[: len(applied)] == applied:
            _replay(replay, ordered[len(applied):])
            return ExpectedSchemas(applied_schema, read_connection_schema(replay.connection))
    finally:
        replay.close()
    return ExpectedSchemas(applied_schema, replay_latest(ordered))


def replay_latest(files: list[MigrationFile]) -> Schema:
    """The schema after every file of `files`, in the order given."""
    replay = _replay_from_checkpoint(files)
    try:
        return read_connection_schema(replay.connection)
    finally:
        replay.close()


def _replay_from_checkpoint(files: list[MigrationFile]) -> Replay:
    """A replay advanced through `files`, starting from the linter's cached checkpoint of the
    longest prefix it has (keyed by the chained digests of hyphae.sum); read-only on the cache."""
    digests = [entry.digest for entry in chain_digests(files)]
    checkpoint = read_checkpoint(digests) if files else None
    start, snapshot = (checkpoint[0], checkpoint[1]) if checkpoint else (0, None)
    replay = Replay(snapshot)
    _replay(replay, files[start:])
    return replay


def _replay(replay: Replay, files: list[MigrationFile]) -> None:
    # The engine's own statement runner under D1's rules, without lint's static rules and seeded
    # rows: those judge statements (lint's business, ten times the cost); drift wants the schema.
    # A statement the engine refuses is skipped: lint reports it, and migrate would not apply it.
    for file in files:
        for statement in split_statements(file.text, file.name):
            execute(replay.connection, statement.sql)
