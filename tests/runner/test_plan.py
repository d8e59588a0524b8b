"""Planning: `--to` read strictly (a number of any length, as migration names have), the pending
files up to it and the ones held back, and a statement over D1's size limit refused before anything
runs. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.d1.rules import STATEMENT_MAX_BYTES
from infra.errors import MigrationFailed, UsageError
from infra.history.files import MigrationFile
from infra.ledger.read import LedgerState
from infra.ledger.schema import AppliedMigration
from infra.runner.plan import parse_target_version, plan_pending, read_held_back


def files(*names: str, text: str = "CREATE TABLE t (id INTEGER);\n") -> list[MigrationFile]:
    return [MigrationFile(Path("migrations") / name, text) for name in names]


def applied(*names: str) -> LedgerState:
    return LedgerState([AppliedMigration(name, "t", "x") for name in names])


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("7", 7), ("0007", 7), ("9999", 9999),
                                             ("10000", 10000), ("20240101120000", 20240101120000)])
def test_to_takes_a_migration_number(value, expected):
    assert parse_target_version(value) == expected


@pytest.mark.parametrize("value", ["07a", "-1", "1e3", "7.0", "seven"])
def test_to_refuses_anything_but_a_migration_number(value):
    with pytest.raises(UsageError) as caught:
        parse_target_version(value)
    assert str(caught.value) == f"--to {value!r}: expected a migration number such as 0007"


def test_pending_stops_at_to_and_the_rest_is_held_back():
    """A file without a number runs in wrangler's order after the numbered ones, so `--to` holds it back."""
    history = files("0001_a.sql", "0002_b.sql", "0003_c.sql", "0004_d.sql", "notes.sql")
    state = applied("0001_a.sql")
    # wrangler applies a file without a number too (last): pending without --to, held back with it
    assert [m.name for m in plan_pending(history, state, 3)] == ["0002_b.sql", "0003_c.sql"]
    assert read_held_back(history, state, 3) == ["0004_d.sql", "notes.sql"]
    assert [m.name for m in plan_pending(history, state)] == ["0002_b.sql", "0003_c.sql", "0004_d.sql", "notes.sql"]
    assert read_held_back(history, state, None) == []
    assert read_held_back(history, applied("0001_a.sql", "0004_d.sql"), 2) == ["0003_c.sql", "notes.sql"]


def test_each_pending_statement_keeps_its_file_and_line():
    (pending,) = plan_pending(files("0001_a.sql", text="CREATE TABLE a (id INTEGER);\n\nCREATE TABLE b (id INTEGER);\n"),
                              LedgerState())
    assert [(statement.file, statement.line) for statement in pending.statements] == [
        ("migrations/0001_a.sql", 1), ("migrations/0001_a.sql", 3)]
    assert pending.size == len(b"CREATE TABLE a (id INTEGER);") + len(b"CREATE TABLE b (id INTEGER);")


def insert_of(size: int) -> str:
    head, tail = "INSERT INTO t VALUES ('", "');"
    return head + "x" * (size - len(head) - len(tail)) + tail


def test_a_statement_of_exactly_d1s_limit_is_planned_and_one_byte_more_is_refused():
    """Guards against an off-by-one at D1's 100,000-byte statement limit."""
    assert plan_pending(files("0001_a.sql", text=insert_of(STATEMENT_MAX_BYTES)), LedgerState())
    with pytest.raises(MigrationFailed) as caught:
        plan_pending(files("0001_a.sql", text="SELECT 1;\n" + insert_of(STATEMENT_MAX_BYTES + 1)), LedgerState())
    assert str(caught.value) == ("migrations/0001_a.sql:2: statement is 100,001 bytes, over D1's 100,000-byte limit; "
                                 "split it (nothing was applied)")
