"""Packing: whole migrations only, in order, within the request budget."""

from __future__ import annotations

from pathlib import Path

from infra.history.files import MigrationFile
from infra.lint.splitter import split_statements
from infra.runner.batches import REQUEST_BUDGET, migration_weight, pack_requests, statement_weight
from infra.runner.plan import PendingMigration


def _pending(number: int, text: str) -> PendingMigration:
    file = MigrationFile(Path(f"{number:04d}_m.sql"), text)
    return PendingMigration(file, tuple(split_statements(text, file.name)))


def test_cheap_migrations_share_requests_in_order():
    pending = [_pending(number, f"CREATE TABLE t{number} (id INTEGER);") for number in range(1, 201)]
    requests = pack_requests(pending)
    assert [migration for request in requests for migration in request] == pending
    assert len(requests) <= 2
    assert all(sum(migration_weight(m) for m in request) <= REQUEST_BUDGET for request in requests)


def test_row_work_weighs_more_than_schema_and_literal_inserts():
    assert statement_weight("CREATE TABLE t (id INTEGER)") == 1
    assert statement_weight("INSERT INTO t VALUES (1)") == 1
    assert statement_weight("INSERT INTO t SELECT * FROM u") > statement_weight("CREATE INDEX i ON t (id)") > 1
    assert statement_weight("UPDATE t SET id = id + 1") == statement_weight("DELETE FROM t")


def test_a_migration_over_the_budget_travels_alone_and_whole():
    heavy = _pending(2, "\n".join(f"UPDATE t SET v = {n};" for n in range(REQUEST_BUDGET)))
    pending = [_pending(1, "CREATE TABLE t (v INTEGER);"), heavy, _pending(3, "CREATE TABLE u (id INTEGER);")]
    requests = pack_requests(pending)
    assert requests == [[pending[0]], [heavy], [pending[2]]]
    assert len(heavy.statements) == REQUEST_BUDGET


def test_the_byte_cap_splits_requests_between_migrations():
    big = "INSERT INTO t VALUES ('" + "x" * 90_000 + "');"
    pending = [_pending(number, big) for number in range(1, 21)]
    requests = pack_requests(pending, max_bytes=500_000)
    assert [len(request) for request in requests] == [5, 5, 5, 5]


def test_an_oversized_first_migration_travels_alone_without_an_empty_request_before_it():
    """Guards against packing that closes the (still empty) current request before an oversized
    first migration: an empty batch would be sent, guarded and recorded as a request of nothing."""
    heavy = _pending(1, "\n".join(f"UPDATE t SET v = {n};" for n in range(REQUEST_BUDGET)))
    small = _pending(2, "CREATE TABLE u (id INTEGER);")
    assert pack_requests([heavy, small]) == [[heavy], [small]]
    big = _pending(1, "INSERT INTO t VALUES ('" + "x" * 1_000 + "');")
    assert pack_requests([big], max_bytes=10) == [[big]]


def test_migrations_filling_the_byte_budget_exactly_share_one_request():
    """Guards against an off-by-one byte budget: exactly `max_bytes` of SQL fits in one request."""
    first, second = _pending(1, "CREATE TABLE a (id INTEGER);"), _pending(2, "CREATE TABLE bb (id INTEGER);")
    exact = first.size + second.size
    assert pack_requests([first, second], max_bytes=exact) == [[first, second]]
    assert pack_requests([first, second], max_bytes=exact - 1) == [[first], [second]]


def test_migrations_filling_the_weight_budget_exactly_share_one_request():
    """Guards against an off-by-one weight budget: exactly `budget` units fit in one request."""
    first, second = _pending(1, "CREATE TABLE a (id INTEGER);"), _pending(2, "UPDATE a SET id = 1;")
    exact = migration_weight(first) + migration_weight(second)
    assert pack_requests([first, second], budget=exact) == [[first, second]]
    assert pack_requests([first, second], budget=exact - 1) == [[first], [second]]
