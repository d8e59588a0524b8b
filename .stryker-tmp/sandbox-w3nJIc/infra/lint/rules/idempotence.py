"""IDEM001: CREATE without IF NOT EXISTS (a warning: re-running the file on a database that has the
object fails, which makes a partly restored or hand-patched database harder to recover)."""

from __future__ import annotations

from infra.lint.context import StatementContext

_CREATES = ("TABLE", "INDEX", "VIEW", "TRIGGER")


def idem001_create_without_if_not_exists(context: StatementContext):
    words = context.words
    if not words or words[0] != "CREATE":
        return
    rest = words[1:]
    while rest and rest[0] in ("UNIQUE", "VIRTUAL", "TEMP", "TEMPORARY"):
        rest = rest[1:]
    if rest and rest[0] in _CREATES and rest[1:3] != ["IF", "NOT"]:
        yield "IDEM001", f"CREATE {rest[0]} without IF NOT EXISTS"


STATIC = [idem001_create_without_if_not_exists]
