"""`-- hyphae: allow CODE reason`: a comment directly above a statement that allows one error there.

The reason is required and shown in every report; a directive without one allows nothing, and the
finding says so. Only findings about risk can be allowed (SAFE*, and the IDEM001 warning): a
statement that D1 or SQLite refuses (ORD, SQL, D1) would fail in production whatever the comment
says. A directive that cannot take effect (not `allow CODE reason`, an unknown or unallowable code,
no reason, or not directly above a statement) is itself an error, LINT001, at its own line, so a
typo never passes silently; one that allows nothing on its statement is a LINT002 warning, so stale
directives don't pile up. Pure functions, read-only.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass

from infra.lint.findings import Finding
from infra.lint.rules import RULES
from infra.lint.splitter import Statement, split_with_loose_comments

ALLOWABLE_PREFIXES = ("SAFE", "IDEM")
ALLOWABLE_CODES = tuple(code for code in RULES if code.startswith(ALLOWABLE_PREFIXES))
_HYPHAE_COMMENT = re.compile(r"^(--|/\*)\s*hyphae\s*:", re.IGNORECASE)
_DIRECTIVE = re.compile(r"^--\s*hyphae:\s*allow\s+([A-Za-z]+[0-9]+)(?:\s+(.*))?$", re.IGNORECASE)
_FORM = "`-- hyphae: allow CODE <why this is safe>`"


@dataclass(frozen=True)
class Directive:
    """One `-- hyphae:` comment: `code` and `reason` when it reads as `allow CODE reason`, and
    `problem` (message, hint) when it cannot take effect."""

    line: int
    column: int
    code: str
    reason: str
    problem: tuple[str, str] | None = None


def read_directive(comment: str, line: int, column: int = 1) -> Directive | None:
    """The directive a comment holds, None for an ordinary comment."""
    text = comment.strip()
    if not _HYPHAE_COMMENT.match(text):
        return None
    match = _DIRECTIVE.match(text)
    if match is None:
        return Directive(line, column, "", "", (f"`{text[:60]}` is not a hyphae directive", f"write {_FORM}"))
    code, reason = match[1].upper(), (match[2] or "").strip()
    return Directive(line, column, code, reason, directive_problem(code, reason))


def directive_problem(code: str, reason: str) -> tuple[str, str] | None:
    """(message, hint) when `allow code reason` cannot allow anything, else None."""
    if code not in RULES:
        closest = difflib.get_close_matches(code, RULES, n=1, cutoff=0.0)
        return (f"allow directive names {code}, which is no rule code",
                f"did you mean {closest[0]}? codes that can be allowed: {', '.join(ALLOWABLE_CODES)}")
    if not code.startswith(ALLOWABLE_PREFIXES):
        return (f"{code} cannot be allowed: a statement SQLite or D1 refuses fails whatever the comment says",
                f"fix the statement; codes that can be allowed: {', '.join(ALLOWABLE_CODES)}")
    if not reason:
        return f"allow directive for {code} has no reason, so it allows nothing", f"write `-- hyphae: allow {code} <why this is safe>`"
    return None


def read_directives(statement: Statement) -> list[Directive]:
    """Every `-- hyphae:` directive directly above `statement`."""
    positions = statement.leading_comment_positions or ((statement.line, 1),) * len(statement.leading_comments)
    found = (read_directive(comment, *position) for comment, position in zip(statement.leading_comments, positions))
    return [directive for directive in found if directive is not None]


def apply_directives(findings: list[Finding], statement: Statement) -> list[Finding]:
    """The statement's findings with allowed ones marked (`allowed_reason`), plus a LINT001 or
    LINT002 finding for each directive above it that cannot take effect or allows nothing."""
    directives = read_directives(statement)
    if not directives:
        return findings
    reasons = {directive.code: directive.reason for directive in directives if directive.code}
    result = [mark_allowed(finding, reasons.get(finding.code)) for finding in findings]
    found_codes = {finding.code for finding in findings}
    for directive in directives:
        if directive.problem is not None:
            result.append(directive_finding("LINT001", statement.file, directive, *directive.problem))
        elif directive.code not in found_codes:
            result.append(directive_finding(
                "LINT002", statement.file, directive,
                f"allow directive for {directive.code} allows nothing: the statement below has no {directive.code} finding",
                "remove the directive (it would silently allow a later, unreviewed change)"))
    return result


def mark_allowed(finding: Finding, reason: str | None) -> Finding:
    """`finding` allowed by a directive's `reason` (None: no directive names its code)."""
    if reason is None:
        return finding
    if not finding.code.startswith(ALLOWABLE_PREFIXES):
        return dataclasses.replace(finding, hint=f"{finding.code} cannot be allowed: the statement fails on D1 "
                                   "whatever the comment says; fix the statement")
    if not reason:
        return dataclasses.replace(finding, hint=f"the allow directive for {finding.code} needs a reason: "
                                   f"`-- hyphae: allow {finding.code} <why this is safe>`")
    return dataclasses.replace(finding, allowed_reason=reason)


def loose_directive_findings(text: str, file: str) -> list[Finding]:
    """LINT001 for each directive in `text` that leads no statement (a blank line, the end of the
    file, or a statement on the same line separates it from the one below)."""
    if "hyphae" not in text.lower():
        return []  # most files hold no directive: skip the second split
    findings = []
    for line, column, comment in split_with_loose_comments(text, file)[1]:
        if (directive := read_directive(comment, line, column)) is not None:
            findings.append(directive_finding(
                "LINT001", file, directive, "allow directive applies to no statement, so it allows nothing",
                "put it on the line directly above the statement it allows, with no blank line between"))
    return findings


def directive_finding(code: str, file: str, directive: Directive, message: str, hint: str) -> Finding:
    return Finding(code, RULES[code].severity, file, directive.line, directive.column, message, hint)
