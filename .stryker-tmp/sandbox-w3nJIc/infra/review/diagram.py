"""Mermaid ER diagrams of the changed tables and their foreign-key neighbours.

GitHub renders a fenced ```mermaid block in a comment. The text uses only long-standing `erDiagram`
syntax (entities with attributes, an alias label in `["..."]`, relationships with a quoted label):
an older renderer still draws it. The marks are in the alias label (`sessions · removed`) and in
an attribute's comment (`"added"`). A changed table shows its columns (a wide one: its keys and
changed columns); a neighbour shows only its key columns. The tests parse every diagram with
mermaid's own parser (the npm package pinned in package.json).

Mermaid's identifiers are narrower than SQLite's, so a name outside `[A-Za-z0-9_]` becomes a safe
identifier and the real name stays in the label or comment. A diagram stops adding entities at a
character budget (mermaid refuses a text over 50,000 characters, GitHub a comment over 65,536),
and says how many it left out. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from infra.drift.schema import Column, Schema, Table

MAX_COLUMNS_SHOWN = 30
_FOREIGN_KEY = re.compile(r"^\((?P<children>.*?)\) REFERENCES (?P<parent>.+?)\((?P<parents>.*?)\) ON UPDATE")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_]")
_UNSAFE_TYPE = re.compile(r"[^A-Za-z0-9_()]")


@dataclass
class DiagramMarks:
    """What to show as changed: a label per table, a comment per (table, column)."""

    tables: dict[str, str] = field(default_factory=dict)  # table -> "added", "removed", "renamed from x", ...
    columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, column) -> "added", ...


@dataclass(frozen=True)
class Diagram:
    text: str  # the mermaid source, without the fence
    tables_shown: int
    tables_left_out: int


@dataclass(frozen=True)
class ForeignKey:
    child: str
    columns: tuple[str, ...]
    parent: str
    nullable: bool


def read_foreign_keys(schema: Schema) -> list[ForeignKey]:
    """Every foreign key of `schema` whose parent table exists in it."""
    keys = []
    for table in schema.tables.values():
        for text in table.foreign_keys:
            match = _FOREIGN_KEY.match(text)
            if match is None or match["parent"] not in schema.tables:
                continue
            columns = _split(match["children"])
            nullable = any(not (table.column(name) and table.column(name).not_null) for name in columns)
            keys.append(ForeignKey(table.name, columns, match["parent"], nullable))
    return sorted(keys, key=lambda key: (key.child, key.parent, key.columns))


def render_diagram(schema: Schema, focus: list[str], marks: DiagramMarks, budget: int) -> Diagram:
    """The ER diagram of the `focus` tables of `schema` and their foreign-key neighbours, at most
    `budget` characters (focus tables first, then neighbours)."""
    focus = [name for name in dict.fromkeys(focus) if name in schema.tables]
    keys = read_foreign_keys(schema)
    focused = set(focus)
    neighbours = sorted(({key.parent for key in keys if key.child in focused}
                         | {key.child for key in keys if key.parent in focused}) - focused)
    identifiers = _identifiers([*focus, *neighbours])
    lines, shown = ["erDiagram"], []
    for name in [*focus, *neighbours]:
        entity = _entity(schema.tables[name], identifiers[name], marks, whole=name in focused)
        if sum(len(line) + 1 for line in lines + entity) + _relations_size(keys, shown + [name], identifiers) > budget:
            break
        lines += entity
        shown.append(name)
    lines += _relations(keys, shown, identifiers)
    left_out = len(focus) + len(neighbours) - len(shown)
    if left_out:
        lines.append(f"    %% {left_out} more table(s) left out to keep the diagram readable")
    return Diagram("\n".join(lines) + "\n", len(shown), left_out)


def _entity(table: Table, identifier: str, marks: DiagramMarks, whole: bool) -> list[str]:
    columns = _columns_shown(table, marks, whole)
    label = table.name
    mark = marks.tables.get(table.name)
    if mark:
        label += f" · {mark}"
    if len(columns) < len(table.columns):
        label += f" ({len(columns)} of {len(table.columns)} columns)"
    head = identifier if label == identifier else f'{identifier}["{_text(label)}"]'
    foreign = _foreign_columns(table)
    body = [_attribute(table.name, column, marks, column.name in foreign) for column in columns]
    return [f"    {head} {{", *body, "    }"] if body else [f"    {head}"]


def _columns_shown(table: Table, marks: DiagramMarks, whole: bool) -> list[Column]:
    foreign = _foreign_columns(table)
    keys = [column for column in table.columns if column.primary_key_position or column.name in foreign]
    if not whole:
        return keys
    if len(table.columns) <= MAX_COLUMNS_SHOWN:
        return list(table.columns)
    return [column for column in table.columns if column in keys or (table.name, column.name) in marks.columns]


def _foreign_columns(table: Table) -> set[str]:
    return {column for text in table.foreign_keys if (match := _FOREIGN_KEY.match(text))
            for column in _split(match["children"])}


def _split(names: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in names.split(","))


def _attribute(table: str, column: Column, marks: DiagramMarks, foreign: bool) -> str:
    name = _safe_name(column.name)
    type_ = _safe_type(column.type)
    if not re.match(r"[A-Za-z_]", type_):
        type_ = "_" + type_
    keys = ", ".join(key for key, present in (("PK", column.primary_key_position), ("FK", foreign)) if present)
    notes = [note for note in (marks.columns.get((table, column.name)),
                               column.name if name != column.name else None) if note]
    comment = f' "{_text("; ".join(notes))}"' if notes else ""
    return f"        {type_} {name}{' ' + keys if keys else ''}{comment}"


def _safe_type(declared: str) -> str:
    """`NUMERIC ( 10 , 2 )` as `NUMERIC(10_2)`, `DOUBLE PRECISION` as `DOUBLE_PRECISION`: mermaid takes
    letters, digits, `_`, `-`, parentheses and brackets in a type; none is `untyped`."""
    compact = re.sub(r"\s*([(),])\s*", r"\1", declared.strip())
    return _UNSAFE_TYPE.sub("_", compact.replace(" ", "_")) or "untyped"


def _relations(keys: list[ForeignKey], shown: list[str], identifiers: dict[str, str]) -> list[str]:
    present = set(shown)
    return [f'    {identifiers[key.child]} }}o--{"o|" if key.nullable else "||"} {identifiers[key.parent]} : '
            f'"{_text(", ".join(key.columns))}"'
            for key in keys if key.child in present and key.parent in present]


def _relations_size(keys: list[ForeignKey], shown: list[str], identifiers: dict[str, str]) -> int:
    return sum(len(line) + 1 for line in _relations(keys, shown, identifiers))


def _identifiers(names: list[str]) -> dict[str, str]:
    """A distinct mermaid-safe identifier per table name."""
    taken: set[str] = set()
    identifiers = {}
    for name in names:
        candidate = _safe_name(name)
        identifier, suffix = candidate, 2
        while identifier.lower() in taken:
            identifier, suffix = f"{candidate}_{suffix}", suffix + 1
        taken.add(identifier.lower())
        identifiers[name] = identifier
    return identifiers


def _safe_name(name: str) -> str:
    safe = _UNSAFE_NAME.sub("_", name) or "_"
    return safe if re.match(r"[A-Za-z_]", safe) else f"_{safe}"


def _text(text: str) -> str:
    """Text inside mermaid's double quotes: it has no escape for `"`; keep it on one line."""
    return " ".join(text.replace('"', "'").split())[:120]
