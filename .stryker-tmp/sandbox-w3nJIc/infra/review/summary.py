"""Counts and one-line summaries shared by the review's formats (markdown and human). Pure."""

from __future__ import annotations

from infra.drift.findings import CHANGED
from infra.drift.report import summary_line
from infra.review.changes import ADDED, REBUILT, REMOVED, RENAMED, SchemaChange
from infra.review.collect import Review
from infra.review.plan import EnvironmentPlan
from infra.review.risks import LARGE_TABLE_ROWS, Risk, RowCounts

CHANGE_ORDER = (REMOVED, RENAMED, REBUILT, CHANGED, ADDED)


def count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def changes_line(changes: list[SchemaChange]) -> str:
    """`2 tables added, 1 column removed, ...` in CHANGE_ORDER; `no schema change` when empty."""
    if not changes:
        return "no schema change"
    tally: dict[tuple[str, str], int] = {}
    for change in changes:
        tally[(change.change, change.kind)] = tally.get((change.change, change.kind), 0) + 1
    ordered = sorted(tally.items(), key=lambda item: (CHANGE_ORDER.index(item[0][0]), item[0][1]))
    return ", ".join(f"{count(number, kind)} {change}" for (change, kind), number in ordered)


def risks_line(risks: list[Risk]) -> str:
    if not risks:
        return "no lint finding in the new migrations"
    errors = sum(1 for risk in risks if risk.status == "error")
    warnings = sum(1 for risk in risks if risk.status == "warning")
    allowed = sum(1 for risk in risks if risk.status == "allowed")
    return f"{count(errors, 'error')}, {count(warnings, 'warning')}, {allowed:,} allowed"


def migrations_line(review: Review) -> str:
    history = review.changes.history
    parts = [count(len(history.added), "new migration")]
    if history.edited:
        parts.append(f"{count(len(history.edited), 'edited migration')} ⚠")
    if history.deleted:
        parts.append(f"{count(len(history.deleted), 'deleted migration')} ⚠")
    return ", ".join(parts)


def plan_line(plan: EnvironmentPlan) -> str:
    """`schema at 0001 of 0004; 3 migrations pending; ...` (drift's summary), or why it was not read."""
    if plan.report is None:
        return f"not read: {plan.error}"
    return summary_line(plan.report)


def row_count_text(table: str, row_counts: list[RowCounts]) -> str:
    """`sessions: local 2, dev 1,234 ⚠` (⚠ at LARGE_TABLE_ROWS or more); environments not read are left out."""
    parts = []
    for counts in row_counts:
        if counts.error is not None:
            continue
        rows = counts.counts.get(table)
        shown = "no table" if rows is None else f"{rows:,}{' ⚠' if rows >= LARGE_TABLE_ROWS else ''}"
        parts.append(f"{counts.environment} {shown}")
    return f"{table}: {', '.join(parts)}" if parts else table


def has_large_table(review: Review) -> bool:
    return any((rows or 0) >= LARGE_TABLE_ROWS for counts in review.row_counts for rows in counts.counts.values())
