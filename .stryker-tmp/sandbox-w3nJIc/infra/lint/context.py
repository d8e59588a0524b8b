"""What a rule sees of one statement: its text and position, its sqlglot tree, and the scratch
schema just before it runs (read lazily from the replay's SQLite connection, read-only)."""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass, field
from functools import cached_property

import sqlglot
from sqlglot import exp

from infra.d1.rules import runner_privileges
from infra.lint.splitter import Statement

# sqlglot logs a warning for every statement it reads as an opaque Command (triggers, WITHOUT
# ROWID); the engine judges those, so the warning is noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_FIRST_WORDS = re.compile(r"[A-Za-z_]+")
# `UPDATE OR REPLACE t ...`: SQLite's conflict clause, which sqlglot cannot read; the rules only
# need the rest of the statement.
# Strings, quoted names and comments: where the word WHERE can appear without being a clause.
_LITERALS_AND_COMMENTS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/", re.DOTALL)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)
_UPDATE_CONFLICT_CLAUSE = re.compile(r"\bUPDATE\s+OR\s+(?:ROLLBACK|ABORT|REPLACE|FAIL|IGNORE)\b", re.IGNORECASE)


def read_tree(sql: str) -> exp.Expression | None:
    """sqlglot's reading of one statement, or None when sqlglot cannot read it (never raises)."""
    try:
        return sqlglot.parse_one(sql, dialect="sqlite")
    except Exception:  # noqa: BLE001 - any sqlglot failure means "unreadable": the engine decides
        return None


def first_words(sql: str, count: int = 6) -> list[str]:
    """The statement's first keywords, upper-case: ["CREATE", "TEMP", "TABLE", ...]."""
    return [word.upper() for word in _FIRST_WORDS.findall(sql[:200])[:count]]


def certainly_has_where(sql: str) -> bool:
    """True when an UPDATE or DELETE certainly has its own WHERE: the word outside strings, quoted
    names and comments, and no parenthesis (so no subquery it could belong to). Most backfills
    look like that; skipping sqlglot for them keeps a long history's cold lint near the replay."""
    bare = _LITERALS_AND_COMMENTS.sub(" ", sql)
    return "(" not in bare and _WHERE.search(bare) is not None


class SchemaView:
    """The scratch database's schema, read on demand with small queries (read-only)."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def _query(self, sql: str, parameters=()) -> list[tuple]:
        with runner_privileges(self.connection):
            return self.connection.execute(sql, parameters).fetchall()

    def objects(self) -> dict[str, tuple[str, str]]:
        """lower-case name -> (type, lower-case table name) for every table, index, view, trigger."""
        rows = self._query("SELECT type, name, tbl_name FROM sqlite_master")
        return {name.lower(): (kind, table.lower()) for kind, name, table in rows}

    def tables(self) -> frozenset[str]:
        return frozenset(name.lower() for (name,) in self._query("SELECT name FROM sqlite_master WHERE type = 'table'"))

    def kind_of(self, name: str) -> str | None:
        """'table', 'index', 'view' or 'trigger' for an existing object (any case), else None."""
        rows = self._query("SELECT type FROM sqlite_master WHERE name = ? COLLATE NOCASE", (name,))
        return rows[0][0] if rows else None

    def exists(self, name: str, kinds: tuple[str, ...] = ("table", "view", "index", "trigger")) -> bool:
        return self.kind_of(name) in kinds

    def cascading_children(self, parent: str) -> list[tuple[str, str]]:
        """(child table, action) for each foreign key on `parent` with ON DELETE CASCADE/SET NULL/SET DEFAULT."""
        children = []
        for table in sorted(self.tables()):
            for row in self._query(f'PRAGMA foreign_key_list("{table}")'):
                referenced, on_delete = row[2], row[6]
                if referenced.lower() == parent.lower() and on_delete.upper() in ("CASCADE", "SET NULL", "SET DEFAULT"):
                    children.append((table, on_delete.upper()))
        return children


@dataclass
class StatementContext:
    """One statement as the rules see it. `tables_before_migration`: tables that existed before this
    file began, under their new name once the file renames one (changes to those touch live data;
    changes to tables the file creates do not)."""

    statement: Statement
    schema: SchemaView
    tables_before_migration: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def tree(self) -> exp.Expression | None:
        return read_tree(self.statement.sql)

    @cached_property
    def words(self) -> list[str]:
        return first_words(self.statement.sql)

    @property
    def keyword(self) -> str:
        return self.words[0] if self.words else ""

    def existed_before_migration(self, table: str) -> bool:
        return table.lower() in self.tables_before_migration

    def tree_if(self, *keywords: str) -> exp.Expression | None:
        """The sqlglot tree, read only when the statement starts with one of `keywords` (reading
        every statement with sqlglot would cost more than replaying it)."""
        return self.tree if self.keyword in keywords else None

    def write_tree(self, kind: type[exp.Update] | type[exp.Delete]) -> exp.Update | exp.Delete | None:
        """The tree of an UPDATE or DELETE statement (`kind`), also behind a `WITH` clause and with
        an `UPDATE OR <conflict>` clause; None for any other statement."""
        keyword = "UPDATE" if kind is exp.Update else "DELETE"
        tree = self.tree_if(keyword, "WITH")
        if tree is None and self.keyword in (keyword, "WITH") and kind is exp.Update:
            tree = read_tree(_UPDATE_CONFLICT_CLAUSE.sub("UPDATE", self.statement.sql, count=1))
        return tree if isinstance(tree, kind) else None

    def write_without_where(self, kind: type[exp.Update] | type[exp.Delete]) -> exp.Update | exp.Delete | None:
        """The tree of an UPDATE or DELETE (`kind`) that has no WHERE clause, else None."""
        if self.keyword not in ("UPDATE" if kind is exp.Update else "DELETE", "WITH"):
            return None
        if certainly_has_where(self.statement.sql):
            return None
        tree = self.write_tree(kind)
        return tree if tree is not None and tree.args.get("where") is None else None

    def alter(self) -> exp.Alter | None:
        tree = self.tree_if("ALTER")
        return tree if isinstance(tree, exp.Alter) else None


def table_name(node: exp.Expression | None) -> str:
    """The bare (unqualified) name of a sqlglot Table node, or ''."""
    if isinstance(node, exp.Table):
        return node.name
    if isinstance(node, exp.Schema) and isinstance(node.this, exp.Table):
        return node.this.name
    return ""
