"""ORD: statements in the wrong place of history (objects or columns missing, or made twice).

The engine finds most of these (SQLite's "no such table/column", "already exists"); the static
part catches what SQLite lets through silently: `CREATE ... IF NOT EXISTS` of an object that
already exists, whose new definition is then ignored.
"""

from __future__ import annotations

import re

from infra.lint.context import StatementContext

_MISSING_OBJECT = re.compile(r"no such (table|index|view|trigger)", re.IGNORECASE)
_MISSING_COLUMN = re.compile(r"no such column|has no column named", re.IGNORECASE)
_DUPLICATE = re.compile(r"already exists|duplicate column name|there is already an? \w+ named", re.IGNORECASE)
_CREATE_IF_NOT_EXISTS = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+|VIRTUAL\s+)?(TABLE|INDEX|VIEW|TRIGGER)\s+IF\s+NOT\s+EXISTS\s+"
    r"(?:(?:\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|\w+)\s*\.\s*)?(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|\w+)",
    re.IGNORECASE,
)


def ord001_missing_object(context: StatementContext, message: str) -> str | None:
    if _MISSING_OBJECT.search(message):
        return f"{message} (at this point of history)"
    return None


def ord002_missing_column(context: StatementContext, message: str) -> str | None:
    if _MISSING_COLUMN.search(message):
        return f"{message} (at this point of history)"
    return None


def ord003_created_twice(context: StatementContext, message: str) -> str | None:
    if _DUPLICATE.search(message):
        return message
    return None


def ord003_created_twice_if_not_exists(context: StatementContext):
    """`CREATE ... IF NOT EXISTS x` when x already exists: SQLite skips it without a word."""
    match = _CREATE_IF_NOT_EXISTS.match(context.statement.sql)
    if not match:
        return
    kind, name = match[1].lower(), match[2].strip('"`[]')
    existing = context.schema.kind_of(name)
    if existing == kind:
        yield "ORD003", f"{kind} {name} already exists ({existing} made earlier); IF NOT EXISTS skips this definition"
    elif existing is not None:  # IF NOT EXISTS only skips an object of the same kind: SQLite refuses this
        yield "ORD003", f"{kind} {name}: the name is taken by the {existing} {name} made earlier"


STATIC = [ord003_created_twice_if_not_exists]
ENGINE = [("ORD001", ord001_missing_object), ("ORD002", ord002_missing_column), ("ORD003", ord003_created_twice)]
