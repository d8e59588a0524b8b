"""The scratch replays: the whole history, in order, in SQLite with D1's rules; the engine decides.

Two replays run every statement under D1's authorizer and limits with the ledger protected:
this module's, with one representative row in every existing table before each migration
(production has data, seeding.py), and the replay on empty tables (a fresh local database,
empty_replay.py). A statement that fails in both is an ordinary finding with the most specific
code (rules/*.ENGINE, SQL004 as the fallback). One that fails in only one of them depends on
data: SQL002 for ADD COLUMN forms, SAFE005 for constraint failures (NOT NULL without default, a
foreign key whose parent exists only in production rows), and the classified code, marked, for
anything else. A failed statement is skipped and the replay goes on, so one run reports every
problem. The static rules (rules/*.STATIC) run beside the replay with rows, on its schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from infra.d1.rules import open_d1_database, runner_privileges
from infra.history.files import MigrationFile
from infra.lint.context import SchemaView, StatementContext
from infra.lint.directives import apply_directives, loose_directive_findings
from infra.lint.empty_replay import start_empty_replay
from infra.lint.execution import EngineFailure, begin_batch, end_batch, execute, run_statement, serialize
from infra.lint.findings import Finding
from infra.lint.rules import RULES, contract, d1, idempotence, ordering, safety, syntax
from infra.lint.seeding import seed_representative_rows
from infra.lint.splitter import Statement, split_statements

__all__ = ["EngineFailure", "FileResult", "Replay", "execute", "lint_files"]  # drift uses Replay and execute

STATIC_RULES = [*ordering.STATIC, *syntax.STATIC, *d1.STATIC, *safety.STATIC, *idempotence.STATIC]
ENGINE_RULES = [*d1.ENGINE, *syntax.ENGINE, *ordering.ENGINE]
# Codes whose static finding already explains why the engine refused the statement.
_EXPLAINS_ENGINE_FAILURE = {"SQL001", "SQL002", "D1001", "D1002", "D1003", "D1004", "D1005"}
# An INSERT colliding with the representative row is an artifact of the replay, not a finding.
_SEED_COLLISION = re.compile(r"UNIQUE constraint failed|FOREIGN KEY constraint failed", re.IGNORECASE)


@dataclass
class FileResult:
    """What linting one migration file produced."""

    name: str
    findings: list[Finding]
    statements: int


@dataclass
class StatementRun:
    """One statement after the replay with rows: the static findings and the engine's answer."""

    context: StatementContext
    static: list[Finding]
    with_rows: EngineFailure | None


def finding_for(code: str, statement: Statement, message: str, display: str) -> Finding:
    rule = RULES[code]
    return Finding(code, rule.severity, display, statement.line, statement.column, message, rule.hint)


class Replay:
    """The replay with rows (`connection`), plus the empty-table replay's starting point.

    `snapshot`: (database with rows, database with empty tables) from the cache, or None.
    """

    def __init__(self, snapshot: tuple[bytes, bytes] | None = None):
        self.connection = open_d1_database(":memory:", protect_ledger=True)
        with_rows, self.empty_snapshot = snapshot or (b"", b"")
        if with_rows:
            with runner_privileges(self.connection):
                self.connection.deserialize(with_rows)
        self.schema = SchemaView(self.connection)

    def snapshot(self) -> bytes:
        return serialize(self.connection)

    def close(self) -> None:
        self.connection.close()

    def run_file(self, file: MigrationFile, display: str) -> list[StatementRun]:
        """Seed, then run the static rules and the engine on each statement, the file as one
        transaction (one D1 batch); advances the database."""
        tables_with_data = set(self.schema.tables())  # grows when the file renames one of them
        contract_before = contract.read_contract_columns(self.connection)
        seed_representative_rows(self.connection)
        runs = []
        begin_batch(self.connection)
        for statement in split_statements(file.text, display):
            context = StatementContext(statement, self.schema, frozenset(tables_with_data))
            static = [finding_for(code, statement, message, display) for code, message in run_static_rules(context)]
            rename = safety.renamed_table(context) if context.keyword == "ALTER" else None
            context.__dict__.pop("tree", None)  # judged later without it; 18,000 trees would weigh
            runs.append(StatementRun(context, static, run_statement(self.connection, statement.sql)))
            if rename and runs[-1].with_rows is None and context.existed_before_migration(rename[0]):
                tables_with_data.add(rename[1].lower())  # the renamed table still holds the rows
        commit_failure = end_batch(self.connection)
        if commit_failure is not None and runs:
            runs[-1].with_rows = runs[-1].with_rows or commit_failure
        # The contract rules judge the file's net effect (a rebuild drops a table on the way).
        sql = [run.context.statement.sql for run in runs]
        for index, code, message in contract.judge_file(contract_before, contract.read_contract_columns(self.connection), sql):
            runs[index].static.append(finding_for(code, runs[index].context.statement, message, display))
        return runs


def lint_files(replay: Replay, files: list[MigrationFile], snapshot_after: set[int]):
    """Both replays over `files` (positions 0..n-1 from the replay's starting point).

    Returns (one FileResult per file, {position: (database with rows, with empty tables)} for
    each position in `snapshot_after`).
    """
    wait_for_empty = start_empty_replay(replay.empty_snapshot, [file.text for file in files], snapshot_after)
    runs, with_rows = [], {}
    for position, file in enumerate(files):
        runs.append(replay.run_file(file, str(file.path)))
        if position in snapshot_after:
            with_rows[position] = replay.snapshot()
    empty = wait_for_empty()
    results = [judge_file(file, file_runs, on_empty) for file, file_runs, on_empty in zip(files, runs, empty.failures)]
    snapshots = {position: (with_rows[position], empty.snapshots[position]) for position in snapshot_after}
    return results, snapshots


def judge_file(file: MigrationFile, runs: list[StatementRun], on_empty: list[EngineFailure | None]) -> FileResult:
    findings = loose_directive_findings(file.text, str(file.path))
    for run, empty_failure in zip(runs, on_empty):
        findings.extend(judge_statement(run, empty_failure, str(file.path)))
    return FileResult(file.name, findings, len(runs))


def judge_statement(run: StatementRun, on_empty: EngineFailure | None, display: str) -> list[Finding]:
    """The statement's findings: static ones, plus the engine's unless a static one explains it."""
    findings = list(run.static)
    engine = engine_finding(run.context, run.with_rows, on_empty, display)
    static_codes = {finding.code for finding in findings}
    if engine is not None and engine.code not in static_codes and not (
        engine.code in ("SQL004", "SAFE005") and static_codes & _EXPLAINS_ENGINE_FAILURE
    ):
        findings.append(engine)
    return apply_directives(findings, run.context.statement)


def engine_finding(context: StatementContext, with_rows: EngineFailure | None, on_empty: EngineFailure | None,
                   display: str) -> Finding | None:
    """Compare the two replays' answers for one statement (see the module docstring)."""
    statement = context.statement
    if with_rows is None and on_empty is None:
        return None
    if with_rows is not None and on_empty is not None:
        code, message = classify(context, on_empty)
    elif with_rows is not None:
        if inserts_rows(context) and _SEED_COLLISION.search(with_rows.message):
            return None
        code, message = classify(context, with_rows)
        if code == "SQL004":
            code, message = "SAFE005", safety.safe005_fails_with_rows(context, with_rows.message)
        elif code != "SQL002":
            message += " (only on tables that hold rows)"
    else:
        code, message = classify(context, on_empty)
        if code == "SQL004":
            code, message = "SAFE005", safety.safe005_fails_on_empty_tables(context, on_empty.message)
        else:
            message += " (only on empty tables, as in a fresh database)"
    return finding_for(code, statement, message, display)


def inserts_rows(context: StatementContext) -> bool:
    """INSERT or REPLACE, also behind a WITH clause."""
    if context.keyword in ("INSERT", "REPLACE"):
        return True
    return context.keyword == "WITH" and isinstance(context.tree, exp.Insert)


def run_static_rules(context: StatementContext):
    for rule in STATIC_RULES:
        try:
            yield from rule(context)
        except Exception:  # noqa: BLE001 - a rule that misreads a statement says nothing; the engine still judges it
            continue


def classify(context: StatementContext, failure: EngineFailure) -> tuple[str, str]:
    """The most specific rule code for an engine failure, and the message to show."""
    if failure.code is not None:
        return failure.code, failure.message
    for code, rule in ENGINE_RULES:
        message = rule(context, failure.message)
        if message is not None:
            return code, message
    code, rule = syntax.FALLBACK
    return code, rule(context, failure.message)
