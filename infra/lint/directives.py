"""`-- hyphae: allow CODE reason`: a comment directly above a statement that allows one error there.

The reason is required and shown in every report; a directive without one allows nothing, and the
finding says so. Only findings about risk can be allowed (SAFE*, and the IDEM001 warning): a
statement that D1 or SQLite refuses (ORD, SQL, D1) would fail in production whatever the comment
says. Pure functions, read-only.
"""

from __future__ import annotations

import dataclasses
import re

from infra.lint.findings import Finding
from infra.lint.splitter import Statement

ALLOWABLE_PREFIXES = ("SAFE", "IDEM")
_DIRECTIVE = re.compile(r"^--\s*hyphae:\s*allow\s+([A-Z]+[0-9]+)\s*(.*)$", re.IGNORECASE)


def read_directives(statement: Statement) -> dict[str, str]:
    """CODE -> reason ('' when missing) for each allow directive above `statement`."""
    directives = {}
    for comment in statement.leading_comments:
        match = _DIRECTIVE.match(comment.strip())
        if match:
            directives[match[1].upper()] = match[2].strip()
    return directives


def apply_directives(findings: list[Finding], statement: Statement) -> list[Finding]:
    """The statement's findings with allowed ones marked (`allowed_reason`)."""
    directives = read_directives(statement)
    if not directives:
        return findings
    result = []
    for finding in findings:
        reason = directives.get(finding.code)
        if reason is not None and not finding.code.startswith(ALLOWABLE_PREFIXES):
            finding = dataclasses.replace(finding, hint=f"{finding.code} cannot be allowed: the statement fails on D1 "
                                          "whatever the comment says; fix the statement")
        elif reason:
            finding = dataclasses.replace(finding, allowed_reason=reason)
        elif reason == "":
            finding = dataclasses.replace(finding, hint=f"the allow directive for {finding.code} needs a reason: "
                                          f"`-- hyphae: allow {finding.code} <why this is safe>`")
        result.append(finding)
    return result
