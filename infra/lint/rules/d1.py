"""D1: what Cloudflare's D1 refuses although SQLite accepts it (workerd's authorizer and limits).

The scratch engine runs with the same authorizer (infra/d1/rules.py) and reports which action it
denied; the static part catches what the authorizer cannot see, such as `ALTER TABLE t RENAME TO
_cf_x` (the new name is not passed to the authorizer) and statements over D1's byte limit.
"""

from __future__ import annotations

import re
import sqlite3

from sqlglot import exp

from infra.d1.rules import (
    ALLOWED_PRAGMAS,
    ALLOWED_VIRTUAL_TABLE_MODULES,
    MAX_COLUMNS,
    STATEMENT_MAX_BYTES,
    Denial,
    is_ledger_table,
    is_reserved_name,
)
from infra.lint.context import StatementContext

TRANSACTION_KEYWORDS = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)", re.IGNORECASE)
_VIRTUAL_MODULE = re.compile(r"^\s*CREATE\s+VIRTUAL\s+TABLE\s+.*?\bUSING\s+(\w+)", re.IGNORECASE | re.DOTALL)
_LIMIT_MESSAGES = re.compile(r"too many columns|too many terms in compound|string or blob too big|"
                             r"statement too long|too many SQL variables|too many arguments", re.IGNORECASE)
_TEMP_ACTIONS = {getattr(sqlite3, name) for name in dir(sqlite3)
                 if name.startswith(("SQLITE_CREATE_TEMP_", "SQLITE_DROP_TEMP_"))}


def d1001_transaction_control(context: StatementContext):
    if context.keyword in TRANSACTION_KEYWORDS:
        yield "D1001", f"{context.keyword} is transaction control, which D1 refuses"
    elif context.keyword == "VACUUM":
        # SQLite refuses VACUUM inside a transaction, and D1 runs every statement inside one.
        yield "D1001", "VACUUM cannot run on D1 (every statement runs inside a transaction)"


def d1002_reserved_objects(context: StatementContext):
    words = context.words
    if context.keyword in ("ATTACH", "DETACH"):
        yield "D1002", f"{context.keyword} is refused by D1 (one database per binding)"
        return
    if words[:1] == ["CREATE"] and words[1:2] in (["TEMP"], ["TEMPORARY"]):
        yield "D1002", "TEMP objects are refused by D1"
        return
    lowered = context.statement.sql.lower()
    if "_cf_" not in lowered and "d1_migrations" not in lowered and "hyphae_" not in lowered:
        return  # no reserved name can appear: skip reading the statement
    for name in sorted(_object_names(context.tree)):
        if is_reserved_name(name):
            yield "D1002", f"{name}: names starting with _cf_ are reserved by D1"
        elif is_ledger_table(name):
            yield "D1002", f"{name} is a migrations ledger table; only hyphae's runner writes it"


def _object_names(tree: exp.Expression | None) -> set[str]:
    if tree is None or isinstance(tree, exp.Command):
        return set()
    names = {table.name for table in tree.find_all(exp.Table) if table.name}
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Index) and tree.this.name:
        names.add(tree.this.name)  # CREATE INDEX name
    return names


def d1003_denied_pragma(context: StatementContext):
    match = _PRAGMA.match(context.statement.sql)
    if match and match[1].lower() not in ALLOWED_PRAGMAS:
        yield "D1003", f"PRAGMA {match[1]} is denied by D1"


def d1004_denied_module(context: StatementContext):
    match = _VIRTUAL_MODULE.match(context.statement.sql)
    if match and match[1].lower() not in ALLOWED_VIRTUAL_TABLE_MODULES:
        yield "D1004", f"virtual-table module {match[1]} is denied by D1 (fts5 and fts5vocab are allowed)"


def d1005_limit_exceeded(context: StatementContext):
    size = len(context.statement.sql.encode("utf-8", "replace"))
    if size > STATEMENT_MAX_BYTES:
        yield "D1005", f"statement is {size:,} bytes; D1 takes at most {STATEMENT_MAX_BYTES:,}"
    if "TABLE" not in context.words[1:3]:
        return  # only CREATE [TEMP] TABLE declares columns
    tree = context.tree_if("CREATE")
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        columns = [column for column in tree.this.expressions if isinstance(column, exp.ColumnDef)]
        if len(columns) > MAX_COLUMNS:
            yield "D1005", f"table has {len(columns)} columns; D1 allows at most {MAX_COLUMNS}"


def code_for_denial(denial: Denial) -> str:
    """The D1 rule an authorizer refusal belongs to."""
    action = denial.action
    if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
        return "D1001"
    if action == sqlite3.SQLITE_PRAGMA:
        return "D1003"
    if action in (sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_CREATE_VTABLE):
        return "D1004"
    return "D1002"  # ATTACH/DETACH, TEMP, _cf_ names, the ledger


def describe_denial(denial: Denial, message: str) -> str:
    """A message naming what the authorizer refused: the PRAGMA, function, module or object."""
    action = denial.action
    if code_for_denial(denial) == "D1001":
        subject = "transaction control"
    elif action == sqlite3.SQLITE_PRAGMA:
        subject = f"PRAGMA {denial.arg1}"
    elif action == sqlite3.SQLITE_FUNCTION:
        subject = f"function {denial.arg2}()"
    elif code_for_denial(denial) == "D1004":
        subject = f"virtual-table module {denial.arg2}"
    elif action in _TEMP_ACTIONS:
        subject = "a TEMP object"
    elif action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        subject = "ATTACH/DETACH"
    else:
        subject = denial.arg1 or denial.arg2 or "this statement"
    return f"{subject} is refused by D1 ({message})"


def d1005_engine(context: StatementContext, message: str) -> str | None:
    if not _LIMIT_MESSAGES.search(message):
        return None
    # ADD COLUMN checks the limit on SQLite's working copy of the table, named sqlite_altertab_<table>.
    return f"{message.replace('sqlite_altertab_', '')} (a D1 limit)"


STATIC = [d1001_transaction_control, d1002_reserved_objects, d1003_denied_pragma, d1004_denied_module,
          d1005_limit_exceeded]
ENGINE = [("D1005", d1005_engine)]
