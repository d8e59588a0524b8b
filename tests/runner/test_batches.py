"""Packing: whole migrations only, in order, within the request budget."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.mark.parametrize("sql, weight", [
    ("CREATE TABLE t (id INTEGER)", 1),
    ("insert into t values (1)", 1),
    ("REPLACE INTO t VALUES (1)", 1),
    ("  \n ALTER TABLE t ADD COLUMN v TEXT", 1),
    ("CREATE INDEX i ON t (id)", 10),
    ("create unique index i on t (id)", 10),
    ("CREATE UNIQUE\n  INDEX i ON t (id)", 10),
    ("CREATE VIEW v AS SELECT * FROM t", 1),
    ("UPDATE t SET id = id + 1", 20),
    ("delete from t", 20),
    ("INSERT INTO t SELECT * FROM u", 20),
    ("insert into t select * from u", 20),
    ("REPLACE INTO t SELECT * FROM u", 20),
    ("WITH x AS (SELECT 1 AS id) INSERT INTO t SELECT id FROM x", 20),
])
def test_each_kind_of_statement_weighs_what_docs_migrate_md_says(sql, weight):
    """Guards against a statement weighed as another kind (an UPDATE written lower case, a REPLACE
    or a WITH ... INSERT taken for cheap schema work would crowd a request towards D1's 30 s limit)."""
    assert statement_weight(sql) == weight


def test_a_migration_weighs_its_statements_plus_its_two_ledger_rows():
    """Guards against the ledger rows each migration writes being left out of (or overweighed in) the budget."""
    assert migration_weight(_pending(1, "CREATE TABLE a (id INTEGER);\nUPDATE a SET id = 1;")) == 2 + 1 + 20


def test_the_default_budget_is_400_units_and_900_000_bytes_per_request():
    """Guards against the default budgets drifting from the documented ones (400 units, 900 kB of SQL)."""
    # 19 UPDATEs (380) + 2 ledger rows: 382; with 18 more units of CREATE TABLE, exactly 400.
    first = _pending(1, "".join(f"UPDATE t SET v = {n};\n" for n in range(19)))
    exact = _pending(2, "".join(f"CREATE TABLE c{n} (id INTEGER);\n" for n in range(16)))  # 16 + 2 = 18
    assert migration_weight(first) + migration_weight(exact) == 400
    assert pack_requests([first, exact]) == [[first, exact]]
    over = _pending(2, "".join(f"CREATE TABLE c{n} (id INTEGER);\n" for n in range(17)))
    assert pack_requests([first, over]) == [[first], [over]]

    def inserts(number: int, *sizes: int) -> PendingMigration:
        head, tail = "INSERT INTO t VALUES ('", "');"
        return _pending(number, "\n".join(head + "x" * (size - len(head) - len(tail)) + tail for size in sizes))

    half, other_half, one_byte_more = inserts(1, *[90_000] * 5), inserts(2, *[90_000] * 5), inserts(2, *[90_000] * 4, 90_001)
    assert (half.size, other_half.size, one_byte_more.size) == (450_000, 450_000, 450_001)
    assert pack_requests([half, other_half]) == [[half, other_half]]
    assert pack_requests([half, one_byte_more]) == [[half], [one_byte_more]]


def test_a_request_after_a_split_gets_the_whole_budget_again():
    """Guards against a request that starts after a split counting something of the one before (an
    off-by-one that splits migrations filling the budget exactly)."""
    heavy = _pending(1, "\n".join(f"UPDATE t SET v = {n};" for n in range(REQUEST_BUDGET)))
    first, second = _pending(2, "CREATE TABLE a (id INTEGER);"), _pending(3, "UPDATE a SET id = 1;")
    exact = migration_weight(first) + migration_weight(second)
    assert pack_requests([heavy, first, second], budget=exact) == [[heavy], [first, second]]
    big = _pending(1, "INSERT INTO t VALUES ('" + "x" * 1_000 + "');")
    assert pack_requests([big, first, second], max_bytes=first.size + second.size) == [[big], [first, second]]
