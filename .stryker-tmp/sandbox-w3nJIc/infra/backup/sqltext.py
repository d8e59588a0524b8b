"""D1's export format: how it writes names and values, and reading it back statement by statement.

D1's export (and miniflare's port of it, `dumpSql` in miniflare's D1 worker, which `wrangler d1
export --local` runs) writes one statement per line for the data: `INSERT INTO "t" VALUES(...);`
with NULL, numbers, `'text'` (quotes doubled) and `X'hex'` blobs. A line break inside text is
written as the two characters `\\n` and the value wrapped in `replace(...,'\\n',char(10))`
(likewise `\\r`, char(13)). Numbers are written as JavaScript prints them. Both are lossy, and
hyphae's own writer (`exact=True`) avoids both:
- a value holding both a line break and the literal two characters `\\n` comes back with both
  turned into line breaks (hyphae picks a marker the value does not contain, as SQLite's shell does);
- an integer beyond 2**53 comes back rounded, and a REAL with no fraction (3.0) comes back as the
  INTEGER 3 in a column without REAL affinity (hyphae writes Python's exact forms).

Statements are read back streamed: lines are gathered until SQLite's tokenizer says the statement
is complete (`sqlite3.complete_statement`, which knows strings and trigger bodies), so memory holds
one statement at a time. Pure functions; no I/O beyond the iterables given.
"""

from __future__ import annotations

import decimal
import math
import re
import sqlite3
from typing import Iterable, Iterator

from infra.errors import BackupCorrupted

INSERT_PREFIX = 'INSERT INTO "'


def quote_name(name: str) -> str:
    """An identifier as D1's export writes it: double quotes, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def format_value(value: object, *, exact: bool = True) -> str:
    """One cell as SQL. `exact=False` writes numbers and text exactly as D1's export does (see above)."""
    kind = type(value)
    if kind is str:
        if "\n" not in value and "\r" not in value and "\x00" not in value:  # the usual case: kept fast
            return "'" + value.replace("'", "''") + "'"
        return format_text(value, exact=exact)
    if value is None:
        return "NULL"
    if kind is int:
        return str(value) if exact else _javascript_number(float(value))
    if kind is float:
        return _format_float(value) if exact or not math.isfinite(value) else _javascript_number(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "X'" + bytes(value).hex() + "'"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return format_text(str(value), exact=exact)


def _format_float(value: float) -> str:
    # SQLite stores no NaN (it reads back as NULL); infinities are written as SQLite's shell does.
    if math.isnan(value):
        return "NULL"
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


def _javascript_number(value: float) -> str:
    """`String(value)` in JavaScript (ECMA-262 Number::toString): what D1's export writes."""
    if value == 0:
        return "0"
    sign, digits, exponent = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    position = exponent + len(text)  # where the decimal point goes
    if len(text) <= position <= 21:
        body = text + "0" * (position - len(text))
    elif 0 < position <= 21:
        body = text[:position] + "." + text[position:]
    elif -6 < position <= 0:
        body = "0." + "0" * -position + text
    else:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        body = f"{mantissa}e{'+' if position - 1 >= 0 else '-'}{abs(position - 1)}"
    return ("-" if value < 0 else "") + body


def format_text(text: str, *, exact: bool = True) -> str:
    """A text literal; line breaks escaped and restored with replace(), as D1's export writes them.

    A NUL character would end the statement for SQLite's parser: hyphae (`exact`) writes the text
    around it joined by `||char(0)||`; D1 writes it as it is, and such a backup fails verification."""
    if exact and "\x00" in text:
        return "(" + "||char(0)||".join(format_text(piece) for piece in text.split("\x00")) + ")"
    line_feed = _marker(text, ("\\n", "\\012")) if exact else "\\n"
    carriage_return = _marker(text, ("\\r", "\\015")) if exact else "\\r"
    body = text.replace("'", "''")
    has_cr, has_lf = "\r" in text, "\n" in text
    if has_cr:
        body = body.replace("\r", carriage_return)
    if has_lf:
        body = body.replace("\n", line_feed)
    literal = f"'{body}'"
    if has_cr:
        literal = f"replace({literal},'{carriage_return}',char(13))"
    if has_lf:
        literal = f"replace({literal},'{line_feed}',char(10))"
    return literal


def _marker(text: str, candidates: tuple[str, ...]) -> str:
    """The first escape marker the text does not already contain (SQLite shell's unused_string)."""
    for candidate in candidates:
        if candidate not in text:
            return candidate
    number = 0
    while f"({candidates[0]}{number})" in text:
        number += 1
    return f"({candidates[0]}{number})"


def insert_statement(table: str, row: Iterable[object], *, exact: bool = True) -> str:
    return f"INSERT INTO {quote_name(table)} VALUES({','.join(format_value(cell, exact=exact) for cell in row)});"


def inserted_table(statement: str) -> str | None:
    """The table an `INSERT INTO "t" VALUES(...)` statement of the export writes, else None."""
    if not statement.startswith(INSERT_PREFIX):
        return None
    start = len(INSERT_PREFIX)
    end = statement.find('"', start)
    while end != -1 and statement.startswith('""', end):  # a doubled quote inside the name
        end = statement.find('"', end + 2)
    return statement[start:end].replace('""', '"') if end != -1 else None


def iter_statements(lines: Iterable[str], source: str) -> Iterator[str]:
    """Complete statements of a SQL text given line by line (streamed).

    Raises BackupCorrupted naming `source` when the text ends inside a statement (a truncated file).
    """
    pending: list[str] = []
    for line in lines:
        if not pending and not line.strip():
            continue
        pending.append(line)
        candidate = "".join(pending) if len(pending) > 1 else line
        if sqlite3.complete_statement(candidate):
            yield candidate.strip()
            pending = []
    leftover = "".join(pending).strip()
    if leftover:
        preview = " ".join(leftover.split())[:60]
        raise BackupCorrupted(f"{source} ends inside a statement ({preview!r}...): the file is truncated; "
                              "nothing was restored")


_CREATE = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?(?P<kind>TABLE|INDEX|TRIGGER|VIEW|VIRTUAL\s+TABLE)\b", re.IGNORECASE)


def statement_kind(statement: str) -> str:
    """"insert", "table", "index", "trigger", "view", "virtual table" or "other" (pragmas, deletes)."""
    if statement.startswith(INSERT_PREFIX):
        return "insert"
    match = _CREATE.match(statement)
    return " ".join(match["kind"].lower().split()) if match else "other"
