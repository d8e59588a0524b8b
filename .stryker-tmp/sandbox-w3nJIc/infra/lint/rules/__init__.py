"""The rule catalog (code, severity, summary, hint) and the static rules, one module per family.

A rule's module, function and code match: `ordering.ord003_created_twice` reports ORD003. Each
module has STATIC rules, which read one statement (its sqlglot tree, when sqlglot could read it)
and the scratch schema just before it and yield `(code, message)` pairs, and ENGINE rules, which
name an engine error (`(code, rule)`: the rule returns the message, or None when it does not
apply). infra/lint/engine.py runs both; SQL004 is the fallback for any other engine error.
docs/rules.md documents every code here (a test fails when one is missing).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.lint.findings import ERROR, WARNING


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    summary: str
    hint: str


RULES: dict[str, Rule] = {rule.code: rule for rule in (
    Rule("ORD001", ERROR, "reference to a table (or index, view) that does not exist at that point of history",
         "create the object in an earlier statement or migration, or fix the name"),
    Rule("ORD002", ERROR, "reference to a column that does not exist at that point of history",
         "add the column (ALTER TABLE ... ADD COLUMN) before the statement that uses it"),
    Rule("ORD003", ERROR, "object or column created twice",
         "remove the second definition; change an existing object with a new migration"),
    Rule("SQL001", ERROR, "syntax SQLite rejects although other dialects accept it",
         "SQLite's ALTER TABLE takes one action: ADD COLUMN, DROP COLUMN, RENAME COLUMN or RENAME TO"),
    Rule("SQL002", ERROR, "an ADD COLUMN form SQLite refuses",
         "add the column nullable or with a constant default; UNIQUE needs a separate index"),
    Rule("SQL003", ERROR, "a DROP COLUMN SQLite refuses",
         "drop the index, view or trigger that uses the column first, or rebuild the table"),
    Rule("SQL004", ERROR, "a statement the SQLite engine rejects", "fix the statement; the engine's message says why"),
    Rule("D1001", ERROR, "transaction control (D1 runs each migration as one batch)",
         "remove BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE: hyphae applies each file atomically"),
    Rule("D1002", ERROR, "ATTACH/DETACH, TEMP objects, `_cf_` names or the migrations ledger",
         "D1 has one database and reserves `_cf_*`; never write the ledger from a migration"),
    Rule("D1003", ERROR, "a PRAGMA D1 denies", "only the PRAGMAs D1 allows run there (see docs/rules.md)"),
    Rule("D1004", ERROR, "a function or virtual-table module D1 denies",
         "use an allowed function; virtual tables: fts5 and fts5vocab"),
    Rule("D1005", ERROR, "a D1 limit exceeded", "statements up to 100,000 bytes, tables up to 100 columns, "
         "compound SELECT up to 5 terms, 100 bound parameters"),
    Rule("SAFE001", ERROR, "destructive change (DROP TABLE, DROP COLUMN, DELETE without WHERE)",
         "keep the data, or allow it: `-- hyphae: allow SAFE001 <reason>` above the statement"),
    Rule("SAFE002", ERROR, "rename of a table or column (breaks the Worker still running during a deploy)",
         "add the new name, backfill, switch the Worker, drop the old name in a later release"),
    Rule("SAFE003", ERROR, "UPDATE without WHERE on an existing table (a backfill can exceed D1's 30 s)",
         "backfill in bounded batches (WHERE rowid BETWEEN ...), or allow it with a reason"),
    Rule("SAFE004", ERROR, "table rebuild of a parent whose children have ON DELETE CASCADE / SET NULL",
         "D1 always enforces foreign keys (PRAGMA foreign_keys=OFF is a no-op): dropping the parent "
         "deletes or nulls child rows; copy the children first or avoid the rebuild"),
    Rule("SAFE005", ERROR, "data-dependent change: fails with rows and not on empty tables, or the reverse",
         "give new NOT NULL columns a constant default; check existing rows before a UNIQUE index; "
         "don't depend on rows a fresh database lacks"),
    Rule("HIS001", ERROR, "migration file name or numbering wrong (pattern NNNN_slug.sql, duplicates, gaps)",
         "rename the file to the next free NNNN_slug.sql (`invoke new SLUG` does it)"),
    Rule("HIS002", ERROR, "applied migration edited (checksum differs from the ledger)",
         "restore the applied file from git; change the schema with a new migration"),
    Rule("HIS003", ERROR, "applied migration missing from the folder", "restore the file from git"),
    Rule("HIS004", ERROR, "pending migration sorts before an applied one (out-of-order merge)",
         "renumber the pending file after the last applied one (`invoke new SLUG`)"),
    Rule("HIS005", ERROR, "hyphae.sum is stale (history edited, inserted, removed or reordered)",
         "if the change is intended, run `invoke lint --write-sum` and commit hyphae.sum"),
    Rule("IDEM001", WARNING, "CREATE without IF NOT EXISTS", "write CREATE ... IF NOT EXISTS"),
    Rule("CON001", ERROR, "a field the Myco client sends (contract/myco-client.yaml) is dropped or renamed",
         "keep the column (expand-only); if the client no longer sends the field, remove it from the contract first"),
    Rule("CON002", ERROR, "a contract table gains a NOT NULL column without a default",
         "give the column a constant DEFAULT, or leave it nullable"),
    Rule("LINT001", ERROR, "an allow directive that cannot take effect (unknown or unallowable code, no reason, "
         "not directly above a statement)", "write `-- hyphae: allow CODE <reason>` directly above the statement"),
    Rule("LINT002", WARNING, "an allow directive that allows nothing on its statement",
         "remove the directive"),
)}
