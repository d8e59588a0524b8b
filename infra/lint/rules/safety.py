"""SAFE: statements that run fine and still hurt production data or the Worker during a deploy.

Each is an error unless a `-- hyphae: allow CODE reason` comment directly above the statement
allows it. Changes to tables the same migration creates are not flagged: they hold no data yet.
SAFE005 also receives the replays' data-dependent failures: a statement that fails in only one
of the replay on empty tables and the replay with one representative row per table.
"""

from __future__ import annotations

import re

from sqlglot import exp

from infra.lint.context import StatementContext, table_name


def dropped_table(tree: exp.Expression | None) -> str | None:
    """The table a DROP TABLE statement drops, else None."""
    if isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
        tables = tree.args.get("tables") or [tree.this]
        return table_name(tables[0]) or None
    return None


def safe001_destructive(context: StatementContext):
    if context.keyword == "DROP" and context.words[1:2] != ["TABLE"]:
        return  # DROP INDEX / VIEW / TRIGGER lose no data
    tree = context.tree_if("DROP")
    if (name := dropped_table(tree)) is not None:
        if context.existed_before_migration(name):
            outcome = context.rebuilds.get(context.statement.index)  # what the engine saw (infra/lint/rebuilds.py)
            loss = outcome.what_is_lost(name) if outcome is not None else ""
            if loss is not None:
                yield "SAFE001", f"DROP TABLE {name} deletes the table and its data{loss}"
    elif (delete := context.write_without_where(exp.Delete)) is not None:
        name = table_name(delete.this)
        if context.existed_before_migration(name):
            yield "SAFE001", f"DELETE FROM {name} without WHERE deletes every row"
    elif (alter := context.alter()) is not None:
        name = table_name(alter.this)
        for action in alter.args.get("actions") or []:
            columns = dropped_columns(action)
            if columns and context.existed_before_migration(name):
                yield "SAFE001", f"DROP COLUMN {columns} on {name} deletes that column's data"


def dropped_columns(action: exp.Expression) -> str:
    """The column(s) an ALTER TABLE action drops, '' for any other action. SQLite's COLUMN keyword
    is optional (`DROP name`), which sqlglot reads as an opaque Command."""
    if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
        return ", ".join(column.name for column in action.args.get("tables") or [])
    if isinstance(action, exp.Command) and str(action.this).upper() == "DROP":
        return str(action.expression or "").strip().strip('"`[]')
    return ""


def renamed_table(context: StatementContext) -> tuple[str, str] | None:
    """(old, new) names of an `ALTER TABLE old RENAME TO new`, else None."""
    alter = context.alter()
    for action in (alter.args.get("actions") or []) if alter is not None else []:
        if isinstance(action, exp.AlterRename):
            return table_name(alter.this), table_name(action.this)
    return None


def safe002_rename(context: StatementContext):
    if (outcome := context.rebuilds.get(context.statement.index)) is not None and outcome.renamed:
        name = dropped_table(context.tree) or outcome.table
        pairs = ", ".join(f"{old} to {new}" for old, new in outcome.renamed)
        yield "SAFE002", (f"the rebuild of {name} renames column(s) {pairs} (their values arrive there): "
                          "the Worker still using the old name breaks")
    alter = context.alter()
    if alter is None:
        return
    name = table_name(alter.this)
    if not context.existed_before_migration(name):
        return
    for action in alter.args.get("actions") or []:
        if isinstance(action, exp.AlterRename):
            yield "SAFE002", f"renaming table {name} to {table_name(action.this)} breaks the Worker still using {name}"
        elif isinstance(action, exp.RenameColumn):
            old, new = action.this.name, action.args["to"].name
            yield "SAFE002", f"renaming {name}.{old} to {new} breaks the Worker still using {old}"


def safe003_unbounded_update(context: StatementContext):
    tree = context.write_without_where(exp.Update)
    if tree is not None:
        name = table_name(tree.this)
        if context.existed_before_migration(name):
            yield "SAFE003", f"UPDATE {name} without WHERE rewrites every row in one batch (D1 stops a query at 30 s)"


def safe004_rebuild_with_cascade(context: StatementContext):
    if context.words[:2] != ["DROP", "TABLE"]:
        return
    name = dropped_table(context.tree)
    if name is None or not context.schema.exists(name, ("table",)):
        return
    for child, action in context.schema.cascading_children(name):
        if child != name.lower() and not retired_later(context, child):
            yield "SAFE004", (f"dropping {name} runs ON DELETE {action} on {child}: D1 enforces foreign keys "
                              f"even with PRAGMA foreign_keys=OFF, so {child}'s rows are lost")


def retired_later(context: StatementContext, table: str) -> bool:
    """True when the same migration drops `table` later without reading it first: parent and child
    retired together, no row of the child is meant to survive. (A copy of the child made after the
    parent's drop reads it, and would copy what the cascade left: that stays SAFE004.)"""
    mention = re.compile(rf"(?<![\w$]){re.escape(table)}(?![\w$])", re.IGNORECASE)
    for statement in context.following:
        if (match := _DROP_TABLE.match(statement.sql)) and match[1].strip('"`[]').lower() == table.lower():
            return True
        if mention.search(statement.sql):
            return False
    return False


_DROP_TABLE = re.compile(r"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?((?:\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w$]+))\s*;?\s*$",
                         re.IGNORECASE)


def safe005_unique_index_on_existing_table(context: StatementContext):
    if context.words[:2] != ["CREATE", "UNIQUE"]:
        return
    tree = context.tree
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "INDEX" and tree.args.get("unique"):
        index = tree.this
        table = table_name(index.args.get("table")) if isinstance(index, exp.Index) else ""
        if table and context.existed_before_migration(table) and not uniqueness_guaranteed(context, index, table):
            yield "SAFE005", f"UNIQUE index on existing table {table} fails if current rows hold duplicates"


def uniqueness_guaranteed(context: StatementContext, index: exp.Index, table: str) -> bool:
    """True when the rows that exist are already unique on the index's columns: a key the table
    held when the migration began (a rebuild re-creating its index) or holds now is a subset of
    them, or one of them was added by this migration without a default (all NULL, and NULLs are
    distinct)."""
    columns = _indexed_columns(index)
    if columns is None:
        return False  # an expression: nothing to compare
    keys = context.unique_keys_before_migration.get(table.lower(), set()) | context.schema.unique_keys(table)
    if any(key <= columns for key in keys):
        return True
    return bool(columns & _columns_added_without_default(context, table))


def _indexed_columns(index: exp.Index) -> frozenset[str] | None:
    params = index.args.get("params")
    names = []
    for column in (params.args.get("columns") or []) if params is not None else []:
        node = column.this if isinstance(column, exp.Ordered) else column
        if not isinstance(node, (exp.Column, exp.Identifier)):
            return None
        names.append(node.name.lower())
    return frozenset(names) or None


def _columns_added_without_default(context: StatementContext, table: str) -> set[str]:
    """Columns the file's earlier statements added to `table` with no default (NULL in every row)."""
    added = set()
    for statement in context.file_statements[: context.statement.index]:
        match = _ADD_COLUMN.match(statement.sql)
        if match and match[1].strip('"`[]').lower() == table.lower() and not _DEFAULT.search(match[3] or ""):
            added.add(match[2].strip('"`[]').lower())
    return added


_NAME = r"(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w$]+)"
_ADD_COLUMN = re.compile(rf"^\s*ALTER\s+TABLE\s+{_NAME}\s+ADD\s+(?:COLUMN\s+)?{_NAME}(.*)$", re.IGNORECASE | re.DOTALL)
_DEFAULT = re.compile(r"\bDEFAULT\s+(?!NULL\b)", re.IGNORECASE)


def safe005_fails_with_rows(context: StatementContext, message: str) -> str:
    """A failure seen only in the replay with one row per table (production)."""
    return f"fails on tables that hold rows (passes on empty ones): {message}"


def safe005_fails_on_empty_tables(context: StatementContext, message: str) -> str:
    """A failure seen only in the replay on empty tables (a fresh local database)."""
    return f"fails on empty tables, as in a fresh database (passes with rows): {message}"


STATIC = [safe001_destructive, safe002_rename, safe003_unbounded_update, safe004_rebuild_with_cascade,
          safe005_unique_index_on_existing_table]
