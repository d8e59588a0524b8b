"""SQL: statements SQLite refuses. SQL001-SQL003 name the ALTER TABLE forms SQLite does not have or
refuses (sqlglot reads them all, since other dialects have them); SQL004 carries any other
engine error with the engine's own message."""

from __future__ import annotations

import re

from sqlglot import exp

from infra.lint.context import StatementContext

_ADD_COLUMN_REFUSED = re.compile(r"cannot add a", re.IGNORECASE)
_DROP_COLUMN_REFUSED = re.compile(r"cannot drop|after drop column", re.IGNORECASE)


def sql001_not_sqlite_syntax(context: StatementContext):
    alter = context.alter()
    if alter is None:
        return
    actions = alter.args.get("actions") or []
    if len(actions) > 1:
        yield "SQL001", f"one ALTER TABLE with {len(actions)} actions; SQLite takes one action per statement"
        return
    for action in actions:
        if isinstance(action, exp.ColumnDef) and action.args.get("exists"):
            yield "SQL001", "ADD COLUMN IF NOT EXISTS is not SQLite syntax"
        elif isinstance(action, exp.Drop) and action.args.get("exists"):
            yield "SQL001", "DROP COLUMN IF EXISTS is not SQLite syntax"
        elif isinstance(action, exp.AlterColumn):
            yield "SQL001", "ALTER COLUMN is not SQLite syntax (rebuild the table to change a column)"
        elif isinstance(action, exp.AddConstraint):
            yield "SQL001", "ADD CONSTRAINT is not SQLite syntax (constraints come with CREATE TABLE)"


def sql002_add_column_refused(context: StatementContext):
    """ADD COLUMN forms SQLite refuses, on every table or (NOT NULL, non-constant default) on tables with rows."""
    alter = context.alter()
    if alter is None or len(alter.args.get("actions") or []) != 1:
        return
    action = alter.args["actions"][0]
    if not isinstance(action, exp.ColumnDef) or action.args.get("exists"):
        return
    column = action.name
    # NOT NULL without a default and a non-constant default fail only on a table with rows: a
    # table this migration creates is empty, one that existed before is assumed to hold data.
    has_rows = context.existed_before_migration(_altered_table(alter))
    kinds = [constraint.args.get("kind") for constraint in action.args.get("constraints") or []]
    default = next((kind.this for kind in kinds if isinstance(kind, exp.DefaultColumnConstraint)), None)
    for kind in kinds:
        if isinstance(kind, exp.PrimaryKeyColumnConstraint):
            yield "SQL002", f"ADD COLUMN {column} PRIMARY KEY: SQLite cannot add a primary-key column"
        elif isinstance(kind, exp.UniqueColumnConstraint):
            yield "SQL002", f"ADD COLUMN {column} UNIQUE: SQLite cannot add a UNIQUE column (create a UNIQUE index)"
        elif isinstance(kind, exp.ComputedColumnConstraint) and kind.args.get("persisted"):
            yield "SQL002", f"ADD COLUMN {column} ... STORED: SQLite cannot add a stored generated column"
        elif (isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null")
              and _is_null(default) and has_rows):
            yield "SQL002", f"ADD COLUMN {column} NOT NULL without a default fails on every table with rows"
    if default is not None and not _is_constant(default) and has_rows:
        yield "SQL002", f"ADD COLUMN {column} with a non-constant default fails on every table with rows"


def _altered_table(alter: exp.Alter) -> str:
    return alter.this.name if isinstance(alter.this, exp.Table) else ""


def _is_null(default: exp.Expression | None) -> bool:
    return default is None or isinstance(default, exp.Null)


def _is_constant(default: exp.Expression) -> bool:
    """SQLite accepts a literal, a signed literal or NULL as an added column's default; anything
    else (even `(1+1)` or CURRENT_TIMESTAMP) is refused once the table has rows."""
    if isinstance(default, exp.Paren):
        return False  # SQLite treats any parenthesised expression as non-constant here
    node = default
    if isinstance(node, exp.Neg):
        node = node.this
    return isinstance(node, (exp.Literal, exp.Null, exp.Boolean))


def sql002_engine(context: StatementContext, message: str) -> str | None:
    return message if _ADD_COLUMN_REFUSED.search(message) else None


def sql003_drop_column_refused(context: StatementContext, message: str) -> str | None:
    return message if _DROP_COLUMN_REFUSED.search(message) else None


def sql004_engine_rejected(context: StatementContext, message: str) -> str | None:
    return message


STATIC = [sql001_not_sqlite_syntax, sql002_add_column_refused]
ENGINE = [("SQL002", sql002_engine), ("SQL003", sql003_drop_column_refused)]
FALLBACK = ("SQL004", sql004_engine_rejected)
