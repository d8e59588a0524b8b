"""Packing pending migrations into as few requests as D1 allows. Pure.

Rules, in order of importance:
1. A migration is never split: its statements and its ledger rows travel in one batch (one
   transaction), so the schema and the ledger commit together.
2. Several whole migrations share a request while it stays within a conservative budget:
   - D1 bounds a call at 30 s. We can't know a statement's duration in advance, so we weigh it:
     schema statements and INSERTs of literal rows are cheap (1); building an index reads a
     table (10); UPDATE, DELETE and INSERT ... SELECT touch an unknown number of existing rows
     (20). A request holds at most `REQUEST_BUDGET` units, far below what would take D1 near its
     limit on the table sizes D1 allows.
   - `REQUEST_MAX_BYTES` of SQL per request (each statement is separately capped at 100,000
     bytes by D1; plan.py refuses larger ones).
3. A migration bigger than the budget on its own gets a request to itself.
"""

from __future__ import annotations

from infra.runner.plan import PendingMigration

REQUEST_BUDGET = 400
REQUEST_MAX_BYTES = 900_000
_ROW_WORK = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH")
_ROW_WORK_WEIGHT = 20
_INDEX_WEIGHT = 10
_LEDGER_WEIGHT = 2  # the two ledger rows each migration writes


def statement_weight(sql: str) -> int:
    first = sql.lstrip().split(None, 3)
    head = " ".join(first[:3]).upper()
    if first and first[0].upper() in ("INSERT", "REPLACE") and "SELECT" not in sql.upper():
        return 1  # literal rows: cost grows with the statement's size, which REQUEST_MAX_BYTES bounds
    if first and first[0].upper() in _ROW_WORK:
        return _ROW_WORK_WEIGHT
    if head.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")):
        return _INDEX_WEIGHT
    return 1


def migration_weight(migration: PendingMigration) -> int:
    return _LEDGER_WEIGHT + sum(statement_weight(statement.sql) for statement in migration.statements)


def pack_requests(pending: list[PendingMigration], budget: int = REQUEST_BUDGET,
                  max_bytes: int = REQUEST_MAX_BYTES) -> list[list[PendingMigration]]:
    """Consecutive groups of whole migrations, in order, each within the budget (or alone)."""
    requests: list[list[PendingMigration]] = []
    current: list[PendingMigration] = []
    weight = size = 0
    for migration in pending:
        migration_cost, migration_size = migration_weight(migration), migration.size
        if current and (weight + migration_cost > budget or size + migration_size > max_bytes):
            requests.append(current)
            current, weight, size = [], 0, 0
        current.append(migration)
        weight += migration_cost
        size += migration_size
    if current:
        requests.append(current)
    return requests
