"""Structural comparison of two schemas, and the likely cause of each difference.

`compare_schemas(expected, live)` lists what is missing, extra or changed, object by object and
attribute by attribute. `schema_findings` turns those into findings with a likely cause:
- *migration pending*: comparing against the replay of the whole history (pending migrations
  included) makes the difference disappear, so a pending migration was applied outside hyphae;
- *migration edited*: the object's table is named by an applied migration whose file changed
  after it ran (HIS002), so the replay no longer says what ran;
- *migration missing*: an applied migration's file is gone (HIS003), so the replay lacks what it
  did; its text is gone too, so any difference not explained otherwise may be its;
- otherwise *changed out of band* (the dashboard, `wrangler d1 execute`, a script).
Pure and read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.drift.findings import (
    CAUSE_MIGRATION_EDITED,
    CAUSE_MIGRATION_MISSING,
    CAUSE_MIGRATION_PENDING,
    CAUSE_OUT_OF_BAND,
    CHANGED,
    EXTRA,
    MISSING,
    DriftFinding,
)
from infra.drift.schema import Column, Schema, Table

CODES = {MISSING: "SCH001", EXTRA: "SCH002", CHANGED: "SCH003"}

# How a changed attribute names the two sides compared: drift compares the repository with the
# live database; a pull request's review compares the history before it with the history after.
REPOSITORY_AND_LIVE = ("repository", "live")


@dataclass(frozen=True)
class SchemaDifference:
    change: str  # MISSING (in the repository, not live), EXTRA (live only), CHANGED
    kind: str  # table, column, index, view, trigger
    name: str  # "sessions", "sessions.status", "idx_x"
    table: str  # the table the object belongs to (for causes)
    detail: str

    @property
    def object(self) -> str:
        return f"{self.kind} {self.name}"


def compare_schemas(expected: Schema, live: Schema,
                    sides: tuple[str, str] = REPOSITORY_AND_LIVE) -> list[SchemaDifference]:
    """Every difference between `expected` (the repository) and `live`, in a stable order.

    `sides` names the two schemas in a changed attribute's detail ("type: repository X, live Y").
    """
    differences: list[SchemaDifference] = []
    differences += _compare_tables(expected.tables, live.tables, sides)
    for kind, expected_objects, live_objects in (
        ("index", expected.indexes, live.indexes),
        ("view", expected.views, live.views),
        ("trigger", expected.triggers, live.triggers),
    ):
        differences += _compare_objects(kind, expected_objects, live_objects, sides)
    return differences


def _compare_tables(expected: dict[str, Table], live: dict[str, Table],
                    sides: tuple[str, str]) -> list[SchemaDifference]:
    differences = []
    for key in sorted(expected.keys() | live.keys()):
        if key not in live:
            differences.append(SchemaDifference(MISSING, "table", key, key, "in the repository, not in the database"))
        elif key not in expected:
            columns = ", ".join(column.name for column in live[key].columns)
            differences.append(SchemaDifference(EXTRA, "table", key, key, f"in the database only (columns: {columns})"))
        else:
            differences += _compare_table(expected[key], live[key], sides)
    return differences


def _compare_table(expected: Table, live: Table, sides: tuple[str, str]) -> list[SchemaDifference]:
    table = expected.name.lower()
    differences = []
    expected_columns = {column.name: column for column in expected.columns}
    live_columns = {column.name: column for column in live.columns}
    for name, column in expected_columns.items():
        if name not in live_columns:
            differences.append(SchemaDifference(MISSING, "column", f"{table}.{name}", table,
                                                f"{describe_column(column)} in the repository, not in the database"))
        elif column != live_columns[name]:
            differences.append(SchemaDifference(CHANGED, "column", f"{table}.{name}", table,
                                                _column_changes(column, live_columns[name], sides)))
    for name, column in live_columns.items():
        if name not in expected_columns:
            differences.append(SchemaDifference(EXTRA, "column", f"{table}.{name}", table,
                                                f"{describe_column(column)} in the database only"))
    shared = [name for name in expected_columns if name in live_columns]
    if shared != [name for name in live_columns if name in expected_columns]:
        differences.append(SchemaDifference(CHANGED, "table", table, table, _difference(
            "column order", ", ".join(shared), ", ".join(name for name in live_columns if name in expected_columns),
            sides)))
    for label, attribute in (("unique constraints", "unique_constraints"), ("CHECK constraints", "checks"),
                             ("foreign keys", "foreign_keys"), ("WITHOUT ROWID", "without_rowid")):
        want, have = getattr(expected, attribute), getattr(live, attribute)
        if want != have:
            differences.append(SchemaDifference(CHANGED, "table", table, table,
                                                _difference(label, _show(want), _show(have), sides)))
    return differences


def _compare_objects(kind: str, expected: dict, live: dict, sides: tuple[str, str]) -> list[SchemaDifference]:
    differences = []
    for key in sorted(expected.keys() | live.keys()):
        want, have = expected.get(key), live.get(key)
        table = getattr(want or have, "table", key)
        if have is None:
            differences.append(SchemaDifference(MISSING, kind, key, table,
                                                f"{describe_object(want)} in the repository, not in the database"))
        elif want is None:
            differences.append(SchemaDifference(EXTRA, kind, key, table,
                                                f"{describe_object(have)} in the database only"))
        elif want != have:
            differences.append(SchemaDifference(CHANGED, kind, key, table, _object_changes(want, have, sides)))
    return differences


def describe_column(column: Column) -> str:
    parts = [column.name, column.type or "(no type)"]
    if column.not_null:
        parts.append("NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if column.primary_key_position:
        parts.append(f"PRIMARY KEY #{column.primary_key_position}")
    if column.generated:
        parts.append(f"GENERATED ALWAYS {column.generated}")
    return " ".join(parts)


def _column_changes(want: Column, have: Column, sides: tuple[str, str]) -> str:
    changes = []
    for label, attribute in (("type", "type"), ("NOT NULL", "not_null"), ("default", "default"),
                             ("primary key position", "primary_key_position"), ("generated", "generated")):
        if getattr(want, attribute) != getattr(have, attribute):
            changes.append(_difference(label, _show(getattr(want, attribute)), _show(getattr(have, attribute)), sides))
    return "; ".join(changes)


def _object_changes(want, have, sides: tuple[str, str]) -> str:
    changes = []
    for attribute in ("table", "keys", "unique", "where", "definition"):
        if hasattr(want, attribute) and getattr(want, attribute) != getattr(have, attribute):
            label = {"keys": "columns", "where": "partial WHERE"}.get(attribute, attribute)
            changes.append(_difference(label, _show(getattr(want, attribute)), _show(getattr(have, attribute)), sides))
    return "; ".join(changes)


def describe_object(obj) -> str:
    """An index as `[UNIQUE ]ON table(keys)[ WHERE ...]`; a trigger as `on table`; a view as `definition`."""
    if hasattr(obj, "keys") and hasattr(obj, "unique"):
        text = f"{'UNIQUE ' if obj.unique else ''}ON {obj.table}({', '.join(obj.keys)})"
        return text + (f" WHERE {obj.where}" if obj.where else "")
    return f"on {obj.table}" if hasattr(obj, "table") else "definition"


def _difference(label: str, want: str, have: str, sides: tuple[str, str]) -> str:
    return f"{label}: {sides[0]} {want}, {sides[1]} {have}"


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(item) for item in value) + ")" if value else "none"
    return str(value)


def schema_findings(
    environment: str,
    expected: Schema,
    live: Schema,
    *,
    latest: Schema | None = None,
    edited_migrations: dict[str, frozenset[str]] | None = None,
    pending_migrations: dict[str, frozenset[str]] | None = None,
    missing_migrations: tuple[str, ...] = (),
) -> list[DriftFinding]:
    """Findings for `live` against `expected` (the replay up to the applied version).

    `latest`: the replay of the whole history, given when migrations are pending. The two dicts map
    a migration file name to the lower-cased names its statements mention (see `mentioned_names`).
    `missing_migrations`: applied migrations whose files are gone (HIS003).
    """
    explained_by_pending = set()
    if latest is not None:
        remaining = {(difference.change, difference.object) for difference in compare_schemas(latest, live)}
        explained_by_pending = {
            (difference.change, difference.object)
            for difference in compare_schemas(expected, live)
            if (difference.change, difference.object) not in remaining
        }
    findings = []
    for difference in compare_schemas(expected, live):
        cause, fix = _likely_cause(difference, explained_by_pending, edited_migrations or {},
                                   pending_migrations or {}, missing_migrations, environment)
        findings.append(DriftFinding(CODES[difference.change], environment, "schema", difference.change,
                                     difference.object, difference.detail, cause, fix))
    return findings


def _likely_cause(difference, explained_by_pending, edited, pending, missing, environment) -> tuple[str, str]:
    if (difference.change, difference.object) in explained_by_pending:
        names = _mentioning(pending, difference.table) or sorted(pending)
        return (f"{CAUSE_MIGRATION_PENDING}: {', '.join(names)} makes this change but is not recorded as applied",
                f"it was applied outside hyphae; record it with `invoke migrate --env {environment} --adopt`, "
                "or undo it by hand and run `invoke migrate`")
    edited_names = _mentioning(edited, difference.table)
    if edited_names:
        return (f"{CAUSE_MIGRATION_EDITED}: {', '.join(edited_names)} changed after it was applied",
                "restore the applied file from git and put the change in a new migration (`invoke new SLUG`)")
    if missing:
        return (f"{CAUSE_MIGRATION_MISSING}: {', '.join(sorted(missing))} applied but its file is gone",
                "restore the applied file from git (HIS003), then run drift again")
    return (CAUSE_OUT_OF_BAND,
            "if the change is wanted, write it as a migration (`invoke new SLUG`); otherwise undo it in the database")


def _mentioning(migrations: dict[str, frozenset[str]], table: str) -> list[str]:
    return sorted(name for name, mentioned in migrations.items() if table.lower() in mentioned)
