"""A database's structure, read with one query, as a normalized model that compares structurally.

`SCHEMA_QUERY` reads `sqlite_master` joined with the table-valued PRAGMA functions D1 allows
(`pragma_table_xinfo`, `pragma_index_list`, `pragma_index_xinfo`, `pragma_foreign_key_list`): one
row per object, its details aggregated as JSON. One round trip against D1, never an export.
The same query reads the expected schema (the engine's scratch replay), so both sides come through
the same lens. Internal objects are skipped: `_cf_*` (D1), `sqlite_*`, and the ledger tables
(`d1_migrations`, `hyphae_*`). Read-only.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from infra.drift.normalize import (
    normalize_expression,
    normalize_statement,
    normalize_type,
    read_generated_columns,
    read_index_sql,
    read_table_checks,
)

# PRAGMA table_xinfo's `hidden`: 1 a virtual table's hidden column, 2 generated VIRTUAL, 3 STORED.
_GENERATED_KINDS = {2: "VIRTUAL", 3: "STORED"}

# LIKE is case-insensitive for ASCII, as D1's reservation of `_cf_` is.
_INTERNAL = r"""
    m.tbl_name NOT LIKE '\_cf\_%' ESCAPE '\'
    AND m.tbl_name NOT LIKE 'sqlite\_%' ESCAPE '\'
    AND m.tbl_name NOT LIKE 'hyphae\_%' ESCAPE '\'
    AND lower(m.tbl_name) <> 'd1_migrations'
"""

SCHEMA_QUERY = f"""
SELECT m.type AS type, m.name AS name, m.tbl_name AS table_name, m.sql AS sql,
  CASE WHEN m.type = 'table' THEN (
    SELECT json_group_array(json_array(c.name, c.type, c."notnull", c.dflt_value, c.pk, c.hidden))
    FROM pragma_table_xinfo(m.name) AS c) END AS columns,
  CASE WHEN m.type = 'table' THEN (
    SELECT json_group_array(json_array(f.id, f.seq, f."table", f."from", f."to", f.on_update, f.on_delete))
    FROM pragma_foreign_key_list(m.name) AS f) END AS foreign_keys,
  CASE WHEN m.type = 'index' THEN (
    SELECT json_group_array(json_array(x.name, x."desc", x.coll))
    FROM pragma_index_xinfo(m.name) AS x WHERE x.key = 1) END AS index_columns,
  CASE WHEN m.type = 'index' THEN (
    SELECT json_array(l."unique", l.origin, l.partial)
    FROM pragma_index_list(m.tbl_name) AS l WHERE l.name = m.name) END AS index_flags
FROM sqlite_master AS m
WHERE {_INTERNAL.strip()}
ORDER BY m.type, m.name
""".strip()


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None
    primary_key_position: int  # 0: not part of the primary key
    generated: str | None = None  # "AS (<canonical expression>) VIRTUAL|STORED" for a generated column


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    keys: tuple[str, ...]  # canonical key expressions, each with " DESC" / " COLLATE X" when set
    unique: bool
    where: str | None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    unique_constraints: tuple[tuple[str, ...], ...] = ()
    checks: tuple[str, ...] = ()
    foreign_keys: tuple[str, ...] = ()  # "(a, b) REFERENCES t(x, y) ON DELETE ..."
    without_rowid: bool = False

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class View:
    name: str
    definition: str


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    definition: str


@dataclass
class Schema:
    """Objects keyed by lower-cased name (SQLite names are case-insensitive)."""

    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    views: dict[str, View] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)

    def object_count(self) -> int:
        return len(self.tables) + len(self.indexes) + len(self.views) + len(self.triggers)


Query = Callable[[str], list[Mapping[str, object]]]


def read_schema(query: Query) -> Schema:
    """Read a database's structure through `query` (SQL in, rows as mappings out): one call."""
    return build_schema(query(SCHEMA_QUERY))


def read_connection_schema(connection: sqlite3.Connection) -> Schema:
    """`read_schema` for a sqlite3 connection (the scratch replay, a local database file)."""
    return read_schema(lambda sql: query_connection(connection, sql))


def query_connection(connection: sqlite3.Connection, sql: str) -> list[dict]:
    cursor = connection.execute(sql)
    names = [description[0] for description in cursor.description or ()]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def build_schema(rows: Iterable[Mapping[str, object]]) -> Schema:
    """The normalized model of SCHEMA_QUERY's rows. Pure."""
    schema = Schema()
    rows = list(rows)
    autoindexes: dict[str, list[tuple[str, ...]]] = {}
    for row in rows:
        kind, name = str(row["type"]), str(row["name"])
        if kind == "index":
            index = _build_index(row)
            if row["sql"] is None:  # sqlite_autoindex_*: a UNIQUE or PRIMARY KEY constraint
                if _index_origin(row) == "u":
                    autoindexes.setdefault(index.table, []).append(index.keys)
            else:
                schema.indexes[name.lower()] = index
        elif kind == "view":
            schema.views[name.lower()] = View(name.lower(), normalize_statement(str(row["sql"])) or "")
        elif kind == "trigger":
            schema.triggers[name.lower()] = Trigger(name.lower(), str(row["table_name"]).lower(),
                                                    normalize_statement(str(row["sql"])) or "")
    for row in rows:
        if row["type"] == "table":
            table = _build_table(row, autoindexes.get(str(row["name"]).lower(), []))
            schema.tables[table.name.lower()] = table
    return schema


def _build_table(row: Mapping[str, object], unique_constraints: list[tuple[str, ...]]) -> Table:
    sql = str(row["sql"] or "")
    expressions = dict(read_generated_columns(sql))
    columns = tuple(
        Column(
            name=str(name).lower(),
            type=normalize_type(declared_type),
            not_null=bool(not_null),
            default=normalize_expression(default),
            primary_key_position=int(pk or 0),
            generated=_generated(int(hidden or 0), expressions.get(str(name).lower())),
        )
        for name, declared_type, not_null, default, pk, hidden in _json_list(row.get("columns"))
        if int(hidden or 0) != 1  # hidden columns of virtual tables are the module's, not ours
    )
    return Table(
        name=str(row["name"]).lower(),
        columns=columns,
        unique_constraints=tuple(sorted(unique_constraints)),
        checks=read_table_checks(sql),
        foreign_keys=_foreign_keys(_json_list(row.get("foreign_keys"))),
        without_rowid="WITHOUT ROWID" in " ".join(sql.upper().split()),
    )


def _generated(hidden: int, expression: str | None) -> str | None:
    kind = _GENERATED_KINDS.get(hidden)
    if kind is None:
        return None
    return f"AS ({expression if expression is not None else '<unreadable expression>'}) {kind}"


def _build_index(row: Mapping[str, object]) -> Index:
    statement_keys, where = read_index_sql(row["sql"])  # type: ignore[arg-type]
    keys = []
    for position, (name, descending, collation) in enumerate(_json_list(row.get("index_columns"))):
        key = str(name).lower() if name is not None else _statement_key(statement_keys, position)
        if collation and str(collation).upper() != "BINARY":
            key += f" COLLATE {str(collation).upper()}"
        if descending:
            key += " DESC"
        keys.append(key)
    flags = _json_list(row.get("index_flags")) or [0, "c", 0]
    return Index(str(row["name"]).lower(), str(row["table_name"]).lower(), tuple(keys), bool(flags[0]), where)


def _statement_key(statement_keys: tuple[str, ...], position: int) -> str:
    return statement_keys[position] if position < len(statement_keys) else "<expression>"


def _index_origin(row: Mapping[str, object]) -> str:
    flags = _json_list(row.get("index_flags"))
    return str(flags[1]) if len(flags) > 1 else "c"


def _foreign_keys(rows: list) -> tuple[str, ...]:
    grouped: dict[int, list] = {}
    for key_id, _sequence, parent, child_column, parent_column, on_update, on_delete in rows:
        grouped.setdefault(int(key_id), []).append((child_column, parent, parent_column, on_update, on_delete))
    keys = []
    for parts in grouped.values():
        children = ", ".join(str(part[0]).lower() for part in parts)
        parents = ", ".join(str(part[2]).lower() for part in parts if part[2] is not None)
        parent, on_update, on_delete = str(parts[0][1]).lower(), parts[0][3], parts[0][4]
        keys.append(f"({children}) REFERENCES {parent}({parents}) ON UPDATE {on_update} ON DELETE {on_delete}")
    return tuple(sorted(keys))


def _json_list(value: object) -> list:
    # D1's API returns the JSON columns as text, like sqlite3 does.
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    return json.loads(str(value))
