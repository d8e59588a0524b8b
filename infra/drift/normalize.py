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
# sqlglot 30 reads `CREATE TABLE ... WITHOUT ROWID` as an opaque Command, so a WITHOUT ROWID table's
# CHECKs would never be compared; the options after the column list hold no CHECK: drop them first.
_TABLE_OPTIONS = re.compile(r"\)\s*(?:(?:WITHOUT\s+ROWID|STRICT)\s*,?\s*)+;?\s*$", re.IGNORECASE)


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
        statement = _parse(_TABLE_OPTIONS.sub(")", text))
    except (SqlglotError, ValueError):
        return ()
    if statement is None or isinstance(statement, exp.Command):
        return ()
    checks = []
    for check in statement.find_all(exp.CheckColumnConstraint, exp.Check):
        checks.append(normalize_expression(check.this.sql(dialect=DIALECT)))
    return tuple(sorted(check for check in checks if check))


@functools.lru_cache(maxsize=4096)
def read_generated_columns(text: str | None) -> tuple[tuple[str, str], ...]:
    """Each generated column of a CREATE TABLE with its expression (canonical), in column order.

    PRAGMA table_xinfo says a column is generated (hidden 2 virtual, 3 stored) but not from what:
    the expression lives only in the statement. Read from sqlglot's tokens rather than its parse
    tree because sqlglot 30 rejects SQLite's type-less `c GENERATED ALWAYS AS (...)`, which would
    lose every column of the table. `AS (a + 1)` and `GENERATED ALWAYS AS ( "A"+1 )` read alike.
    """
    if not text:
        return ()
    try:
        tokens = _TOKENIZER().tokenize(text)
    except (SqlglotError, ValueError):
        return ()
    generated = []
    for definition in _table_elements(tokens):  # a table constraint has no top-level `AS (`
        expression = _generated_expression(text, definition)
        if expression is not None:
            generated.append((definition[0].text.lower(), expression))
    return tuple(generated)


def _table_elements(tokens: list) -> list[list]:
    """The column definitions and table constraints of a CREATE TABLE: its parenthesised list split
    at top-level commas. Nothing for `CREATE TABLE ... AS SELECT`."""
    opening = next((i for i, token in enumerate(tokens) if token.token_type in (TokenType.L_PAREN, TokenType.ALIAS)),
                   None)
    if opening is None or tokens[opening].token_type != TokenType.L_PAREN:
        return []
    elements: list[list] = [[]]
    depth = 0
    for token in tokens[opening + 1:]:
        if token.token_type == TokenType.R_PAREN and depth == 0:
            break
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if token.token_type == TokenType.COMMA and depth == 0:
            elements.append([])
        else:
            elements[-1].append(token)
    return [element for element in elements if element]


def _generated_expression(text: str, definition: list) -> str | None:
    """The canonical expression after a column definition's top-level `AS (`, if it has one."""
    depth = 0
    for position, token in enumerate(definition[:-1]):
        if depth == 0 and token.token_type == TokenType.ALIAS and definition[position + 1].token_type == TokenType.L_PAREN:
            closing = _matching_paren(definition, position + 1)
            if closing is None or closing == position + 2:
                return None
            return normalize_expression(text[definition[position + 2].start:definition[closing - 1].end + 1])
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
    return None


def _matching_paren(tokens: list, opening: int) -> int | None:
    depth = 0
    for position in range(opening, len(tokens)):
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[position].token_type, 0)
        if depth == 0:
            return position
    return None


def mentioned_names(text: str) -> frozenset[str]:
    """Every identifier a migration's text mentions, lower-cased: the tables it may have touched."""
    try:
        tokens = _TOKENIZER().tokenize(text)
    except (SqlglotError, ValueError):
        return frozenset(word.lower() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return frozenset(token.text.lower() for token in tokens if token.token_type in (TokenType.IDENTIFIER, TokenType.VAR))
