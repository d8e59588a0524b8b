"""Splitting a migration file into statements, keeping where each one starts.

SQLite's own tokenizer decides where a statement ends (`sqlite3.complete_statement`): it knows
trigger bodies (`BEGIN ... END;`), strings and comments holding `;` or `--`, and `CASE ... END,`,
which wrangler's splitter gets wrong (workers-sdk #15162, #15178). Pure and read-only.
"""

from __future__ import annotations

import bisect
import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement of a file: its SQL (no leading comments) and its 1-based position."""

    file: str
    index: int  # 0-based position within the file
    sql: str
    line: int
    column: int
    leading_comments: tuple[str, ...]  # the comment lines directly above it, for `-- hyphae:` directives


def split_statements(text: str, file: str = "<sql>") -> list[Statement]:
    """Every statement of `text` in order; a trailing statement without `;` is kept too."""
    line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
    statements: list[Statement] = []
    position = 0
    while True:
        start, comments = _skip_trivia(text, position)
        if start >= len(text):
            break
        end = _statement_end(text, start)
        line = bisect.bisect_right(line_starts, start)
        column = start - line_starts[line - 1] + 1
        statements.append(Statement(file, len(statements), text[start:end].rstrip(), line, column, comments))
        position = end
    return statements


def _statement_end(text: str, start: int) -> int:
    """Offset just past the `;` that completes the statement starting at `start` (or end of text)."""
    semicolon = text.find(";", start)
    while semicolon != -1:
        # complete_statement refuses NUL characters; a space keeps the offsets, and the engine
        # still sees (and reports) the NUL in the statement itself.
        if sqlite3.complete_statement(text[start : semicolon + 1].replace("\0", " ")):
            return semicolon + 1
        semicolon = text.find(";", semicolon + 1)
    return len(text)


def _skip_trivia(text: str, position: int) -> tuple[int, tuple[str, ...]]:
    """Skip whitespace and comments; return the next token's offset and the comments directly above it.

    A blank line between a comment and the statement detaches the comment.
    """
    comments: list[str] = []
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            newline_end = position
            blank_lines = 0
            while newline_end < length and text[newline_end].isspace():
                blank_lines += text[newline_end] == "\n"
                newline_end += 1
            if blank_lines > 1:
                comments.clear()
            position = newline_end
        elif text.startswith("--", position):
            end = text.find("\n", position)
            end = length if end == -1 else end
            comments.append(text[position:end].strip())
            position = end
        elif text.startswith("/*", position):
            end = text.find("*/", position + 2)
            end = length if end == -1 else end + 2
            comments.append(text[position:end].strip())
            position = end
        elif char == ";":  # an empty statement
            comments.clear()
            position += 1
        else:
            break
    return position, tuple(comments)
