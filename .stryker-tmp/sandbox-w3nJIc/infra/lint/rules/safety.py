"""SAFE: statements that run fine and still hurt production data or the Worker during a deploy.

Each is an error unless a `-- hyphae: allow CODE reason` comment directly above the statement
allows it. Changes to tables the same migration creates are not flagged: they hold no data yet.
SAFE005 also receives the replays' data-dependent failures: a statement that fails in only one
of the replay on empty tables and the replay with one representative row per table.
"""

from __future__ import annotations

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
    tree = context.tree_if("DROP", "ALTER")
    if (name := dropped_table(tree)) is not None:
        if context.existed_before_migration(name):
            yield "SAFE001", f"DROP TABLE {name} deletes the table and its data"
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
        if child != name.lower():
            yield "SAFE004", (f"dropping {name} runs ON DELETE {action} on {child}: D1 enforces foreign keys "
                              f"even with PRAGMA foreign_keys=OFF, so {child}'s rows are lost")


def safe005_unique_index_on_existing_table(context: StatementContext):
    if context.words[:2] != ["CREATE", "UNIQUE"]:
        return
    tree = context.tree
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "INDEX" and tree.args.get("unique"):
        index = tree.this
        table = table_name(index.args.get("table")) if isinstance(index, exp.Index) else ""
        if table and context.existed_before_migration(table):
            yield "SAFE005", f"UNIQUE index on existing table {table} fails if current rows hold duplicates"


def safe005_fails_with_rows(context: StatementContext, message: str) -> str:
    """A failure seen only in the replay with one row per table (production)."""
    return f"fails on tables that hold rows (passes on empty ones): {message}"


def safe005_fails_on_empty_tables(context: StatementContext, message: str) -> str:
    """A failure seen only in the replay on empty tables (a fresh local database)."""
    return f"fails on empty tables, as in a fresh database (passes with rows): {message}"


STATIC = [safe001_destructive, safe002_rename, safe003_unbounded_update, safe004_rebuild_with_cascade,
          safe005_unique_index_on_existing_table]
