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
    leading_comment_positions: tuple[tuple[int, int], ...] = ()  # 1-based (line, column) where each starts


def split_statements(text: str, file: str = "<sql>") -> list[Statement]:
    """Every statement of `text` in order; a trailing statement without `;` is kept too."""
    return split_with_loose_comments(text, file)[0]


def split_with_loose_comments(text: str, file: str = "<sql>") -> tuple[list[Statement], list[tuple[int, int, str]]]:
    """The statements of `text`, and (line, column, comment) for every comment that leads none: one a blank
    line separates from the next statement, one at the end of the file, or one after a statement
    on its line (it belongs to that statement, not to the one below)."""
    line_starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]

    def line_of(offset: int) -> int:
        return bisect.bisect_right(line_starts, offset)

    def position_of(offset: int) -> tuple[int, int]:
        line = line_of(offset)
        return line, offset - line_starts[line - 1] + 1

    statements: list[Statement] = []
    loose: list[tuple[int, int, str]] = []
    position = 0
    while True:
        start, comments, detached = _skip_trivia(text, position)
        loose.extend((*position_of(offset), comment) for offset, comment in detached)
        if start >= len(text):
            loose.extend((*position_of(offset), comment) for offset, comment in comments)
            break
        end = _statement_end(text, start)
        line, column = position_of(start)
        statements.append(Statement(file, len(statements), text[start:end].rstrip(), line, column,
                                    tuple(comment for _, comment in comments),
                                    tuple(position_of(offset) for offset, _ in comments)))
        position = end
    return statements, loose


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


def _skip_trivia(text: str, position: int) -> tuple[int, list[tuple[int, str]], list[tuple[int, str]]]:
    """Skip whitespace and comments; return the next token's offset, the comments directly above
    it and the detached ones, each with its offset.

    A blank line between a comment and the statement detaches the comment, and so does a
    statement before it on the same line.
    """
    comments: list[tuple[int, str]] = []
    detached: list[tuple[int, str]] = []
    after_statement = position > 0  # still on the line where the previous statement ended
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
                detached.extend(comments)
                comments.clear()
            after_statement = after_statement and blank_lines == 0
            position = newline_end
        elif text.startswith("--", position):
            end = text.find("\n", position)
            end = length if end == -1 else end
            (detached if after_statement else comments).append((position, text[position:end].strip()))
            position = end
        elif text.startswith("/*", position):
            end = text.find("*/", position + 2)
            end = length if end == -1 else end + 2
            (detached if after_statement else comments).append((position, text[position:end].strip()))
            position = end
        elif char == ";":  # an empty statement
            detached.extend(comments)
            comments.clear()
            after_statement = True
            position += 1
        else:
            break
    return position, comments, detached
