"""The sqlglot lens for drift: canonical text for SQL fragments, so quoting, case and whitespace
don't count when a live schema is compared with the repository's.

SQLite treats identifiers case-insensitively whether quoted or not (`"User"`, `[user]`, `user`
name one column), so identifiers are unquoted and lower-cased; keywords are upper-cased; string
literals keep their exact text. Pure and read-only: nothing here raises on odd SQL, it falls back
to a token-level canonical form (sqlglot parses triggers as an opaque `Command`).
"""

from __future__ import annotations

import functools
import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

DIALECT = "sqlite"
_TRIGGER = re.compile(r"\s*CREATE\s+(TEMP\w*\s+)?TRIGGER\b", re.IGNORECASE)
_TOKENIZER = sqlglot.Dialect.get_or_raise(DIALECT).tokenizer_class


@functools.lru_cache(maxsize=8192)
def normalize_expression(text: str | None) -> str | None:
    """A column default, a CHECK, an index WHERE or an index key, in canonical form.

    `(0)` and `0` are the same default; `"Name"` and `name` the same column.
    """
    if text is None:
        return None
    try:
        expression = _parse(text)
    except (SqlglotError, ValueError):
        return normalize_tokens(text)
    if expression is None:
        return normalize_tokens(text)
    while isinstance(expression, exp.Paren):
        expression = expression.this
    return _canonical_sql(expression)


@functools.lru_cache(maxsize=4096)
def normalize_type(text: str | None) -> str:
    """A declared column type: `varchar( 10 )` and `VARCHAR(10)` are equal; `INT` and `INTEGER` are
    not (only `INTEGER PRIMARY KEY` aliases the rowid), so nothing is mapped to a synonym."""
    return normalize_tokens(text or "").upper()


@functools.lru_cache(maxsize=4096)
def normalize_statement(text: str | None) -> str | None:
    """A whole CREATE VIEW / CREATE TRIGGER statement in canonical form."""
    if text is None:
        return None
    if _TRIGGER.match(text):  # sqlglot has no trigger grammar (it would log and return a Command)
        return normalize_tokens(text)
    try:
        statement = _parse(text)
    except (SqlglotError, ValueError):
        statement = None
    if statement is None or isinstance(statement, (exp.Command, exp.Block)) or statement.find(exp.Command):
        return normalize_tokens(text)
    return _canonical_sql(statement)


def normalize_tokens(text: str) -> str:
    """Token-level canonical form: sqlglot's tokenizer, identifiers unquoted and lower-cased,
    keywords upper-cased, literals verbatim, one space between tokens. Never raises."""
    try:
        tokens = _TOKENIZER().tokenize(text)
    except (SqlglotError, ValueError):
        return " ".join(text.split())
    words = []
    for token in tokens:
        if token.token_type == TokenType.STRING:
            words.append("'" + token.text.replace("'", "''") + "'")
        elif token.token_type in (TokenType.IDENTIFIER, TokenType.VAR):
            words.append(token.text.lower())
        else:
            words.append(token.text.upper())
    return " ".join(words)


def _parse(text: str) -> exp.Expression | None:
    """sqlglot's parse, without the warning it logs when it falls back to a `Command`."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return sqlglot.parse_one(text, read=DIALECT)
    finally:
        logger.setLevel(level)


def _canonical_sql(expression: exp.Expression) -> str:
    def unquote(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Identifier):
            return exp.Identifier(this=node.name.lower(), quoted=False)
        return node

    return expression.copy().transform(unquote).sql(dialect=DIALECT)


@functools.lru_cache(maxsize=4096)
def read_index_sql(text: str | None) -> tuple[tuple[str, ...], str | None]:
    """The key expressions (canonical) and the partial-index WHERE (canonical) of a CREATE INDEX.

    PRAGMA index_xinfo names plain key columns but not expressions (`lower(name)`) and never the
    WHERE, so those two come from the statement. Empty keys when sqlglot can't read it.
    """
    if not text:
        return (), None
    try:
        statement = _parse(text)
    except (SqlglotError, ValueError):
        return (), None
    index = statement.this if isinstance(statement, exp.Create) else None
    if not isinstance(index, exp.Index) or index.args.get("params") is None:
        return (), None
    params = index.args["params"]
    keys = tuple(_canonical_sql(column.this if isinstance(column, exp.Ordered) else column)
                 for column in params.args.get("columns") or ())
    where = params.args.get("where")
    return keys, (_canonical_sql(where.this) if where is not None else None)


@functools.lru_cache(maxsize=4096)
def read_table_checks(text: str | None) -> tuple[str, ...]:
    """The CHECK constraints of a CREATE TABLE (column-level and table-level), canonical and sorted.

    No PRAGMA reports them; they live only in the statement.
    """
    if not text:
        return ()
    try:
        statement = _parse(text)
    except (SqlglotError, ValueError):
        return ()
    if statement is None or isinstance(statement, exp.Command):
        return ()
    checks = []
    for check in statement.find_all(exp.CheckColumnConstraint, exp.Check):
        checks.append(normalize_expression(check.this.sql(dialect=DIALECT)))
    return tuple(sorted(check for check in checks if check))


def mentioned_names(text: str) -> frozenset[str]:
    """Every identifier a migration's text mentions, lower-cased: the tables it may have touched."""
    try:
        tokens = _TOKENIZER().tokenize(text)
    except (SqlglotError, ValueError):
        return frozenset(word.lower() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return frozenset(token.text.lower() for token in tokens if token.token_type in (TokenType.IDENTIFIER, TokenType.VAR))
