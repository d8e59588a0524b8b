"""The risks of the pull request's migrations: their lint findings, and for those that depend on
or destroy data (the SAFE rules), the live row counts of the tables they touch.

Findings come from the linter run over the whole folder (the replay needs the history), kept
when they are on a file the pull request adds or edits, or on no migration file (a stale
`hyphae.sum`). A SAFE finding's tables are the base schema's tables its statement names.

Row counts are read per environment, read-only, through the target `invoke migrate` uses (the
local D1 file opened read-only, or D1's API): one query for which tables exist, one that counts
them. Every statement of a migration runs in one D1 batch, and D1 stops a query, a batch included,
at 30 s: a rewrite over many rows (a backfill, a rebuild's copy, a DELETE) may not finish, so a
count of `LARGE_TABLE_ROWS` or more is flagged. D1 publishes no rows-per-second figure, so this is
a prompt to measure on a copy, not a time estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from infra.d1.rules import MAX_COLUMNS
from infra.drift.normalize import mentioned_names
from infra.drift.schema import Schema
from infra.errors import HyphaeError
from infra.history.files import MigrationFile
from infra.lint.findings import Finding, LintReport
from infra.lint.splitter import split_statements

DATA_RULE_PREFIX = "SAFE"  # the rules about data: destructive or data-dependent statements
LARGE_TABLE_ROWS = 100_000
D1_QUERY_SECONDS = 30
COUNTS_PER_QUERY = MAX_COLUMNS  # D1 caps a result at 100 columns (SQLITE_LIMIT_COLUMN)


@dataclass(frozen=True)
class Risk:
    finding: Finding
    tables: tuple[str, ...] = ()  # base tables whose rows the statement touches (SAFE findings)

    @property
    def status(self) -> str:
        return "allowed" if self.finding.allowed_reason is not None else self.finding.severity


@dataclass
class RowCounts:
    """One environment's row counts: a table's count, None when the table is not there."""

    environment: str
    counts: dict[str, int | None] = field(default_factory=dict)
    error: str | None = None  # why they could not be read


def plan_risks(report: LintReport, new_files: list[MigrationFile], before: Schema) -> list[Risk]:
    """The findings of the pull request's files, each with the tables whose rows it touches."""
    new_names = {file.name for file in new_files}
    statements = {file.name: split_statements(file.text, file.name) for file in new_files}
    risks = []
    for finding in report.findings:
        name = Path(finding.file).name
        if name.endswith(".sql") and name not in new_names:
            continue  # a finding of the history before this pull request: lint's business, not the review's
        tables: tuple[str, ...] = ()
        if finding.code.startswith(DATA_RULE_PREFIX) and name in statements:
            tables = _tables_of_statement(statements[name], finding.line, before)
        risks.append(Risk(finding, tables))
    return risks


def _tables_of_statement(statements, line: int, before: Schema) -> tuple[str, ...]:
    """The base tables named by the statement at `line` (the last one starting at or above it)."""
    statement = None
    for candidate in statements:
        if candidate.line <= line:
            statement = candidate
    if statement is None:
        return ()
    return tuple(sorted(name for name in mentioned_names(statement.sql) if name in before.tables))


def tables_at_risk(risks: list[Risk]) -> list[str]:
    return sorted({table for risk in risks for table in risk.tables})


def read_row_counts(environment: str, tables: list[str]) -> RowCounts:
    """Row counts of `tables` in `environment` (read-only). A failure to read is recorded, not raised."""
    from infra.environments import load_environment
    from infra.targets import BatchFailed, ResponseLost, open_target

    counts = RowCounts(environment)
    try:
        target = open_target(load_environment(environment), read_only=True)
        try:
            counts.counts = _count_rows(target, tables)
        finally:
            target.close()
    except (HyphaeError, BatchFailed, ResponseLost) as error:
        counts.error = str(error)
    return counts


def _count_rows(target, tables: list[str]) -> dict[str, int | None]:
    # Names inline as literals, not bound parameters: D1 takes at most 100 parameters a query.
    listed = ", ".join(_literal(table) for table in tables)
    rows = target.query(f"SELECT lower(name) AS name FROM sqlite_master WHERE type = 'table' "
                        f"AND lower(name) IN ({listed})")
    present = sorted({str(row["name"]) for row in rows})
    counts: dict[str, int | None] = {table: None for table in tables}
    for start in range(0, len(present), COUNTS_PER_QUERY):
        chunk = present[start:start + COUNTS_PER_QUERY]
        columns = ", ".join(f"(SELECT count(*) FROM {_identifier(table)}) AS {_identifier(table)}" for table in chunk)
        row = target.query(f"SELECT {columns}")[0]
        counts.update({table: int(row[table]) for table in chunk})
    return counts


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
