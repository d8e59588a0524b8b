"""What the pull request's migrations change in the schema: added, removed, changed, renamed and
rebuilt tables, columns, indexes, views and triggers.

The history before the change (the base's files) and after it (the working tree's) are each
replayed by the linter's engine and read through drift's one-query reader, then compared with
drift's structural comparison (`infra.drift`): the engine decides what the statements do, and the
same lens reads both sides. Replays resume from lint's cached checkpoints.

A structural comparison sees a renamed table as one removed and one added; the statements say
which it was. So the new migrations' `ALTER TABLE ... RENAME` statements are followed, in order,
to name renames, and a table whose name ends up held by another table (the 12-step rebuild:
create `x_new`, copy, drop `x`, rename `x_new` to `x`) is marked rebuilt: its rows are copied.
Pure and read-only (in-memory replays).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlglot import exp

from infra.drift.compare import compare_schemas, describe_column, describe_object
from infra.drift.expected import replay_latest
from infra.drift.findings import CHANGED, EXTRA, MISSING
from infra.drift.normalize import mentioned_names
from infra.drift.schema import Schema, Table
from infra.history.files import MigrationFile
from infra.lint.context import read_tree, table_name
from infra.lint.splitter import split_statements
from infra.review.base import HistoryChange

ADDED, REMOVED, RENAMED, REBUILT = "added", "removed", "renamed", "rebuilt"
BEFORE_AND_AFTER = ("before", "after")
_CHANGE_OF = {MISSING: REMOVED, EXTRA: ADDED, CHANGED: CHANGED}
_CREATED = "\0created"  # the origin of a table a new migration creates


@dataclass(frozen=True)
class SchemaChange:
    change: str  # ADDED, REMOVED, CHANGED, RENAMED, REBUILT
    kind: str  # table, column, index, view, trigger
    name: str  # "sessions", "sessions.mood", "idx_x"; a rename: "old → new"
    table: str  # the table it belongs to (after the change; before it for a removed one)
    detail: str
    migrations: tuple[str, ...] = ()  # the new migrations that mention the table

    @property
    def object(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class SchemaChanges:
    history: HistoryChange
    before: Schema
    after: Schema
    changes: list[SchemaChange] = field(default_factory=list)
    renamed_tables: dict[str, str] = field(default_factory=dict)  # before name -> after name
    renamed_columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (after table, old) -> new
    rebuilt_tables: set[str] = field(default_factory=set)

    @property
    def changed_tables(self) -> list[str]:
        """Tables any change belongs to, by their name after the change (a removed one: before)."""
        return sorted({change.table for change in self.changes
                       if change.table in self.after.tables or change.table in self.before.tables})


def plan_schema_changes(history: HistoryChange) -> SchemaChanges:
    """Replay before and after, compare, and name renames and rebuilds. Read-only."""
    before = replay_latest(_in_history_order(history.base.files))
    after = replay_latest(_in_history_order(history.files))
    result = SchemaChanges(history, before, after)
    if not history.new_files and not history.deleted:
        return result
    table_origins, column_origins = _follow_renames(history.new_files, before)
    result.renamed_tables = {origin: name for name, origin in table_origins.items()
                             if origin != name and origin in before.tables and name in after.tables
                             and origin not in after.tables}
    result.rebuilt_tables = {name for name, origin in table_origins.items()
                             if name in before.tables and name in after.tables and origin != name
                             and origin not in result.renamed_tables}
    result.renamed_columns = _renamed_columns(column_origins, table_origins, result.renamed_tables, before, after)
    result.changes = _changes(result, history.new_files)
    return result


def _in_history_order(files: list[MigrationFile]) -> list[MigrationFile]:
    return sorted((file for file in files if file.version is not None), key=lambda file: file.name)


def _follow_renames(files: list[MigrationFile], before: Schema) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Where each table and column name came from, statement by statement through `files`.

    Returns {table name now: its name before the change, or _CREATED} for every table a statement
    created or renamed (a dropped one leaves), and {(table's origin, column name now): column name
    before} for every renamed column.
    """
    tables: dict[str, str] = {}
    vacated: set[str] = set()  # names of the base's tables that a statement dropped or renamed away
    columns: dict[tuple[str, str], str] = {}

    def exists(name: str) -> bool:
        return name in tables or (name in before.tables and name not in vacated)

    for file in files:
        for statement in split_statements(file.text, file.name):
            tree = read_tree(statement.sql)
            if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
                name = table_name(tree.this).lower()
                if not (tree.args.get("exists") and exists(name)):  # IF NOT EXISTS on a table that exists: no-op
                    tables[name] = _CREATED
            elif isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
                name = table_name(tree.this).lower()
                tables.pop(name, None)
                vacated.add(name)
            elif isinstance(tree, exp.Alter):
                _follow_alter(tree, tables, vacated, columns)
    return tables, columns


def _follow_alter(tree: exp.Alter, tables: dict[str, str], vacated: set[str],
                  columns: dict[tuple[str, str], str]) -> None:
    name = table_name(tree.this).lower()
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.AlterRename):
            tables[table_name(action.this).lower()] = tables.pop(name, name)
            vacated.add(name)
        elif isinstance(action, exp.RenameColumn):
            origin = tables.get(name, name)
            old, new = action.this.name.lower(), action.args["to"].name.lower()
            columns[(origin, new)] = columns.pop((origin, old), old)


def _renamed_columns(column_origins, table_origins, renamed_tables, before: Schema, after: Schema) -> dict:
    renamed = {}
    names_after = {origin: name for name, origin in table_origins.items()} | renamed_tables
    for (table_origin, new), old in column_origins.items():
        table_after = names_after.get(table_origin, table_origin)
        old_table, new_table = before.tables.get(table_origin), after.tables.get(table_after)
        if old != new and old_table and new_table and old_table.column(old) and new_table.column(new) \
                and not new_table.column(old):
            renamed[(table_after, old)] = new
    return renamed


def _changes(result: SchemaChanges, new_files: list[MigrationFile]) -> list[SchemaChange]:
    mentions = {file.name: mentioned_names(file.text) for file in new_files}
    renamed_from = {new: old for old, new in result.renamed_tables.items()}
    changes: list[SchemaChange] = []
    for table in sorted(result.rebuilt_tables):
        changes.append(SchemaChange(REBUILT, "table", table, table, "dropped and re-created (a table rebuild): "
                                    "its rows survive only as far as the migration copies them"))
    for old, new in sorted(result.renamed_tables.items()):
        changes.append(SchemaChange(RENAMED, "table", f"{old} → {new}", new, f"renamed from {old}"))
    for (table, old), new in sorted(result.renamed_columns.items()):
        changes.append(SchemaChange(RENAMED, "column", f"{table}.{old} → {table}.{new}", table,
                                    f"renamed from {old}"))
    compared_before = _with_renames_applied(result.before, result.renamed_tables, result.renamed_columns)
    for difference in compare_schemas(compared_before, result.after, BEFORE_AND_AFTER):
        change = _CHANGE_OF[difference.change]
        detail = difference.detail if change == CHANGED else _describe(difference, result, change)
        changes.append(SchemaChange(change, difference.kind, difference.name, difference.table, detail))
    return [replace(change, migrations=_mentioning(mentions, change, renamed_from.get(change.table)))
            for change in _sorted(changes)]


def _with_renames_applied(before: Schema, tables: dict[str, str], columns: dict[tuple[str, str], str]) -> Schema:
    """`before` with renamed tables and columns under their new names: what is left to compare is
    what the rename did not explain (a renamed table whose columns also changed shows those)."""
    renamed = Schema(dict(before.tables), dict(before.indexes), dict(before.views), dict(before.triggers))
    for old, new in tables.items():
        renamed.tables[new] = replace(renamed.tables.pop(old), name=new)
    for (table, old), new in columns.items():
        original = renamed.tables.get(table)
        if original is not None:
            renamed.tables[table] = replace(original, columns=tuple(
                replace(column, name=new) if column.name == old else column for column in original.columns))
    return renamed


def _describe(difference, result: SchemaChanges, change: str) -> str:
    schema = result.after if change == ADDED else result.before
    if difference.kind == "table":
        return describe_table(schema.tables[difference.name])
    if difference.kind == "column":
        table, _, column = difference.name.partition(".")
        found = schema.tables[table].column(column) if table in schema.tables else None
        return describe_column(found) if found else difference.detail
    objects = {"index": schema.indexes, "view": schema.views, "trigger": schema.triggers}[difference.kind]
    return describe_object(objects[difference.name]) if difference.name in objects else difference.detail


def describe_table(table: Table) -> str:
    return "columns: " + ", ".join(describe_column(column) for column in table.columns)


def _sorted(changes: list[SchemaChange]) -> list[SchemaChange]:
    order = {REMOVED: 0, RENAMED: 1, REBUILT: 2, CHANGED: 3, ADDED: 4}
    kinds = {"table": 0, "column": 1, "index": 2, "view": 3, "trigger": 4}
    return sorted(changes, key=lambda change: (order[change.change], kinds.get(change.kind, 9), change.name))


def _mentioning(mentions: dict[str, frozenset[str]], change: SchemaChange, old_table: str | None) -> tuple[str, ...]:
    """The new migrations that name the change's table (by either name) and, for a column, the column too."""
    tables = {change.table, old_table} - {None}
    columns = set()
    if change.kind == "column":
        columns = {part.rpartition(".")[2] for part in change.name.split(" → ")}
    return tuple(name for name, mentioned in mentions.items()
                 if tables & mentioned and (not columns or columns & mentioned))
