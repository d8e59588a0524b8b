"""One migrate run: lint, lock, verify the ledger, restore point, apply in packed batches, release.

The guarantees, and where they come from:
- An environment not created yet (no D1 database: its first `invoke up` creates it) is not an
  error: the plan lists every migration as pending, and applying says the first deploy will.
- A folder without migrations writes nothing at all: the database is only read (a local one is
  not even created), and a ledger that records migrations the folder lacks is refused as usual.
- Nothing is written before lint and the ledger check pass (lint runs before connecting; the
  first batch only creates the ledger tables if absent and takes the lease, and aborts whole on a
  database wrangler migrated unless --adopt was given; --adopt checks the schema read-only first).
- A migration's statements and its ledger rows are one batch: D1 commits them together or not
  at all, so the schema and the ledger never disagree, whatever fails and when (kill -9 included).
- Exactly once: the lease keeps runs apart; every batch aborts unless this run still holds it
  (lock.py's guard); and wrangler's `UNIQUE(name)` refuses a second ledger row for a name.
- A response lost after sending is never resent blindly (sending.py: the ledger says whether
  that batch committed).
- When a batch fails, the failing statement is found (locally SQLite says which; remotely
  sending.py bisects with probe batches that never commit), the migrations before it in the
  same batch are applied again on their own, and the run stops naming the migration, statement,
  line and D1's message. A batch refused at commit (a deferred foreign key) is applied again one
  migration at a time, to name the one that cannot commit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from infra.environments import load_environment
from infra.errors import EnvironmentNotCreated, LedgerMismatch, LintFailed, LockHeld, MigrationFailed
from infra.history.files import order_key, read_migrations
from infra.history.sumfile import record_baseline
from infra.ledger import adopt as adoption
from infra.ledger import lock
from infra.ledger.read import LedgerState, parse_state, read_ledger
from infra.ledger.schema import (
    ADOPTION_GUARD_FAILURE,
    create_tables_statements,
    read_state_statements,
    record_migration_statements,
    record_restore_point_statement,
    refuse_unadopted_statement,
)
from infra.ledger.verify import verify_ledger
from infra.lint.findings import Finding
from infra.runner.batches import pack_requests
from infra.runner.plan import PendingMigration, plan_pending, read_held_back
from infra.runner.sending import RunSender
from infra.targets import BatchFailed, BatchStatement, RestorePoint, Target, open_target


@dataclass
class MigrateOptions:
    plan_only: bool = False
    to_version: int | None = None
    adopt: bool = False
    break_lock: bool = False
    confirm: Callable[[str], bool] = lambda question: False
    progress: Callable[[str], None] = lambda line: None
    # Called under the lease, after the checks, just before the first write of a migration; None:
    # infra.backup.guard's backup before an allowed destructive change to a remote database.
    before_apply: Callable[["MigrateReport"], None] | None = None


@dataclass
class MigrateReport:
    environment: str
    target: str
    plan_only: bool
    lint_summary: dict = field(default_factory=dict)
    lint_findings: list[Finding] = field(default_factory=list)
    ledger_findings: list[Finding] = field(default_factory=list)
    pending: list[PendingMigration] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)  # unapplied, after --to
    applied: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    restore_point: RestorePoint | None = None
    lock_holder: str | None = None
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    created: bool = True  # False: a remote environment whose database its first deploy creates
    applied_before: int = 0  # migrations the ledger held when this run took the lease


def run_migrate(env_name: str, directory: Path, options: MigrateOptions | None = None) -> MigrateReport:
    """Plan (`plan_only`: read-only) or apply the pending migrations of `directory` to `env_name`.

    Raises LintFailed, LedgerMismatch, LockHeld, MigrationFailed, RemoteApiError, ConfigError,
    MissingCredentials, UsageError; in each case nothing of an unfinished migration remains.
    """
    options = options or MigrateOptions()
    started = time.perf_counter()
    env = load_environment(env_name)
    files = read_migrations(directory)
    lint_report = _lint(directory)
    if lint_report.errors and not options.plan_only:
        first = lint_report.errors[0]
        raise LintFailed(f"{len(lint_report.errors)} lint error(s), nothing was written; first: {first.file}:{first.line}: "
                         f"{first.code} {first.message} (run `invoke lint --path {directory}`)")
    nothing_to_apply = not files and not options.plan_only
    try:
        target = open_target(env, read_only=options.plan_only or nothing_to_apply)
    except EnvironmentNotCreated as absent:
        return _not_created(absent, files, options, lint_report, started)
    options.progress(f"target: {target.description}")
    options.progress(f"lint: {len(files)} files, {len(lint_report.errors)} errors, {len(lint_report.warnings)} warnings")
    report = MigrateReport(env.name, target.description, options.plan_only, lint_report.summary(), lint_report.findings)
    report.created = target.created
    if not target.created:
        report.notes.append(_first_deploy_note(env.name, len(files)))
    try:
        if options.plan_only:
            _plan(target, files, directory, options, report)
        elif nothing_to_apply:
            _check_without_migrations(target, files, directory, options, report)
        else:
            _Run(target, files, directory, options, report).execute()
    except BatchFailed as failure:  # a refusal no step above explains (e.g. a ledger table changed by hand)
        raise MigrationFailed(f"{target.description} refused a statement of the run: {failure.message}; nothing of an "
                              f"unfinished migration remains; `invoke status --env {env.name}` shows what is applied") \
            from None
    finally:
        report.requests = target.requests_made
        report.seconds = time.perf_counter() - started
        target.close()
    return report


def _first_deploy_note(environment: str, count: int) -> str:
    return (f"{environment} is not created yet: {count} migration(s) will be applied by its first deploy "
            f"(`invoke up --env {environment}` creates the database, migrates it, then deploys the Worker)")


def _not_created(absent: EnvironmentNotCreated, files, options: MigrateOptions, lint_report, started: float) -> MigrateReport:
    """Applying to an environment without a database: nothing to do until its first deploy."""
    report = MigrateReport(absent.environment, f"D1 database {absent.database_name} (not created yet)",
                           options.plan_only, lint_report.summary(), lint_report.findings, created=False)
    report.pending = plan_pending(files, LedgerState(), options.to_version)
    report.notes.append(_first_deploy_note(absent.environment, len(files)))
    report.seconds = time.perf_counter() - started
    return report


def _lint(directory: Path):
    from infra.lint import lint_migrations  # lazily: sqlglot is only needed once there is something to read

    return lint_migrations(directory)


def _plan(target: Target, files, directory: Path, options: MigrateOptions, report: MigrateReport) -> None:
    """Read-only: the pending migrations and every ledger finding."""
    state = read_ledger(target)
    report.ledger_findings = verify_ledger(files, state, report.environment, directory)
    if state.unadopted:
        report.notes.append(f"{len(state.unadopted)} migration(s) applied by wrangler are not adopted yet: "
                            f"`invoke migrate --env {report.environment} --adopt` verifies and adopts them")
    report.pending = plan_pending(files, state, options.to_version)
    report.held_back = read_held_back(files, state, options.to_version)
    report.lock_holder = state.lock.describe() if state.lock else None


def _check_without_migrations(target: Target, files, directory: Path, options: MigrateOptions,
                              report: MigrateReport) -> None:
    """Read-only: no migrations to apply, but a ledger naming files the folder lacks is refused."""
    _plan(target, files, directory, options, report)
    report.notes.append(f"{directory} holds no migrations: nothing to apply, nothing was written")
    if report.ledger_findings:
        first = report.ledger_findings[0]
        raise LedgerMismatch(f"{first.code} {first.message}; {first.hint}; nothing was applied")


class _Run:
    """The apply path: one instance per run, holding the lease from `_take_lock` to the last batch."""

    def __init__(self, target: Target, files, directory: Path, options: MigrateOptions, report: MigrateReport):
        self.target, self.files, self.directory, self.options, self.report = target, files, directory, options, report
        self.run = lock.current_run()
        self.holding = False
        self.sender = RunSender(target, self.run.run_id, report.environment, report.notes.append)

    def execute(self) -> None:
        if self.options.adopt:
            self._verify_adoptable(read_ledger(self.target))  # read-only first: a refused adoption writes nothing
        state = self._take_lock()
        try:
            state = self._adopt_if_asked(state)
            self.report.ledger_findings = verify_ledger(self.files, state, self.report.environment, self.directory)
            self.report.applied_before = len(state.applied)
            self._refuse_mismatch()
            self.report.pending = plan_pending(self.files, state, self.options.to_version)
            self.report.held_back = read_held_back(self.files, state, self.options.to_version)
            if self.report.pending:
                self._before_apply()
                self._apply(self.report.pending)
        finally:
            if self.holding:
                self._release()

    # -- the lease ------------------------------------------------------------------------------
    def _take_lock(self) -> LedgerState:
        state = self._first_batch()
        holder = state.lock
        if holder is None or holder.run_id == self.run.run_id:
            self.holding = True
            return state
        if lock.is_stale_local_holder(holder):
            self.report.notes.append(f"took over the lock of {holder.holder}: that process is no longer running")
        elif self.options.break_lock:
            if not self.options.confirm(f"Break the migration lock on {self.report.environment} held by {holder.describe()}?"):
                raise LockHeld(f"the migration lock on {self.report.environment} is held by {holder.describe()}; "
                               "not broken (you declined)")
            self.report.notes.append(f"broke the lock held by {holder.holder}")
        else:
            raise LockHeld(f"the migration lock on {self.report.environment} is held by {holder.describe()}; wait for "
                           "that run, or pass --break-lock if it is gone")
        self.sender.send(lock.break_statements(holder))
        return self._take_lock()

    def _first_batch(self) -> LedgerState:
        """Create the ledger tables if absent, take the lease, and read the ledger: one request.

        Without --adopt, a guard aborts the whole batch on a database wrangler migrated, so the
        refusal leaves it exactly as it was; the refusal is then explained from a read-only read.
        """
        guard = [] if self.options.adopt else [refuse_unadopted_statement()]
        statements = create_tables_statements() + guard + lock.acquire_statements(self.run) + read_state_statements()
        try:
            results = self.sender.send(statements)
        except BatchFailed as failure:
            if ADOPTION_GUARD_FAILURE in failure.message:
                self._refuse_unadopted(read_ledger(self.target))
            raise LedgerMismatch(f"could not create or read the ledger tables in {self.report.target}: "
                                 f"{failure.message}; nothing was written; a table named d1_migrations or hyphae_* "
                                 "that is not hyphae's must be renamed") from None
        applied, lock_rows, restore_rows = results[-3], results[-2], results[-1]
        return parse_state(applied, lock_rows, restore_rows)

    def _release(self) -> None:
        try:
            self.sender.send(lock.release_statements(self.run))
        except Exception:  # noqa: BLE001 - the lease expires on its own; the run's own error matters more
            self.report.notes.append(f"could not release the lock; it expires in {lock.LEASE_SECONDS} s")
        self.holding = False

    # -- checks ---------------------------------------------------------------------------------
    def _adopt_if_asked(self, state: LedgerState) -> LedgerState:
        if not state.unadopted:
            if self.options.adopt:
                self.report.notes.append("nothing to adopt: every applied migration already has a checksum")
            return state
        if not self.options.adopt:
            self._refuse_unadopted(state)
        to_adopt = self._verify_adoptable(state)  # again, under the lease: the database may have moved on
        statements = lock.guard_statements(self.run) + adoption.adoption_statements(to_adopt, self.run.run_id, self.run.holder)
        self.sender.send_recorded(statements, [migration.name for migration in to_adopt])
        self.report.adopted = [migration.name for migration in to_adopt]
        # The adopted files keep the names wrangler applied them with: numbering rules start after them.
        record_baseline(self.directory, max((migration.name for migration in to_adopt), key=order_key))
        self.options.progress(f"adopted {len(to_adopt)} migration(s) applied by wrangler (schema verified)")
        return read_ledger(self.target)

    def _verify_adoptable(self, state: LedgerState) -> list:
        """The files to adopt, after checking the live schema is their replay (read-only; LedgerMismatch)."""
        if not state.unadopted:
            return []
        to_adopt = adoption.files_to_adopt(self.files, state, self.report.environment)
        by_name = {migration.name: migration for migration in self.files}
        adoption.verify_live_schema(self.target, [by_name[entry.name] for entry in state.applied])
        return to_adopt

    def _refuse_unadopted(self, state: LedgerState) -> None:
        if not state.unadopted:  # the guard fired, then another run adopted them before the read
            raise LedgerMismatch(f"the ledger of {self.report.environment} changed while this run started (another run "
                                 "adopted wrangler's migrations); nothing was written; run migrate again")
        first = state.unadopted[0].name
        raise LedgerMismatch(f"{len(state.unadopted)} migration(s) in {self.report.environment} were applied by "
                             f"wrangler without checksums (first: {first}); nothing was written; run `invoke migrate "
                             f"--env {self.report.environment} --adopt` to verify the schema and adopt them")

    def _refuse_mismatch(self) -> None:
        findings = self.report.ledger_findings
        if findings:
            first = findings[0]
            more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
            raise LedgerMismatch(f"{first.code} {first.message}; {first.hint}{more}; nothing was applied")

    # -- applying -------------------------------------------------------------------------------
    def _before_apply(self) -> None:
        if self.options.before_apply is not None:
            self.options.before_apply(self.report)
            return
        from infra.backup.guard import backup_before_destructive

        backup_before_destructive(self.report, self.directory, self.options.progress)

    def _apply(self, pending: list[PendingMigration]) -> None:
        point = self.target.create_restore_point()
        self.report.restore_point = point
        self.options.progress(f"restore point {point.reference} ({point.kind}); undo with: {point.restore_command}")
        requests = pack_requests(pending)
        for number, group in enumerate(requests):
            extra_first = [record_restore_point_statement(point, self.run.run_id)] if number == 0 else []
            self._apply_group(group, extra_first, last=number == len(requests) - 1)

    def _apply_group(self, group: list[PendingMigration], extra_first: list[BatchStatement], last: bool) -> None:
        statements, owners = self._group_statements(group, extra_first, last)
        try:
            self.sender.send_recorded(statements, [migration.name for migration in group])
        except BatchFailed as failure:
            self._report_failure(group, statements, owners, failure, extra_first)
            return  # not raised: the group committed one migration at a time (_report_refused_commit)
        if last:
            self.holding = False  # the release travelled in this batch
        self.report.applied += [migration.name for migration in group]
        for migration in group:
            self.options.progress(f"applied {migration.name} ({len(migration.statements)} statements)")

    def _group_statements(self, group, extra_first, last):
        """The batch for `group`, and for each statement the (migration, statement) it came from."""
        statements = lock.guard_statements(self.run) + list(extra_first)
        owners: list[tuple[PendingMigration | None, object]] = [(None, None)] * len(statements)
        for migration in group:
            for statement in migration.statements:
                statements.append(BatchStatement(statement.sql))
                owners.append((migration, statement))
            rows = record_migration_statements(migration.file, self.run.run_id, self.run.holder)
            statements += rows
            owners += [(migration, None)] * len(rows)
        if last:
            release = lock.release_statements(self.run)
            statements += release
            owners += [(None, None)] * len(release)
        return statements, owners

    def _report_failure(self, group, statements, owners, failure: BatchFailed, extra_first) -> None:
        if lock.GUARD_FAILURE in failure.message:
            raise LockHeld(f"this run lost the migration lock on {self.report.environment} (broken or expired); "
                           f"nothing of {group[0].name} and later was applied; run migrate again")
        index = failure.index if failure.index is not None else self.sender.locate_failure(statements)
        if index == len(statements):  # every statement ran; the commit was refused (a deferred foreign key)
            self._report_refused_commit(group, failure, extra_first)
            return
        migration, statement = owners[index] if index is not None and index < len(owners) else (None, None)
        if migration is None:
            raise MigrationFailed(f"{self.report.target} refused a ledger statement: {failure.message}; nothing of "
                                  f"{group[0].name} and later was applied; `invoke status --env "
                                  f"{self.report.environment}` shows the ledger")
        if statement is None:
            raise LedgerMismatch(f"{migration.name} is already recorded in the ledger of {self.report.environment} "
                                 f"(another run applied it?): {failure.message}; nothing was applied twice; "
                                 f"`invoke status --env {self.report.environment}` shows what is applied")
        before = group[: group.index(migration)]
        if before:
            self._apply_group(before, extra_first, last=False)
        raise MigrationFailed(f"{migration.file.path}:{statement.line}: statement {statement.index + 1} of "
                              f"{migration.name} failed in {self.report.environment}: {failure.message}; nothing of "
                              f"{migration.name} was applied ({len(self.report.applied)} migration(s) before it were)")

    def _report_refused_commit(self, group, failure: BatchFailed, extra_first) -> None:
        """A batch whose statements all ran but whose commit was refused: its migrations are applied
        one at a time, so the one that cannot commit is named and those before it are applied (if
        none fails alone, they are all applied and this returns)."""
        if len(group) > 1:
            for number, migration in enumerate(group):
                self._apply_group([migration], extra_first if number == 0 else [], last=False)
            return
        raise MigrationFailed(f"{group[0].file.path}: {group[0].name} could not commit in {self.report.environment}: "
                              f"{failure.message} (deferred constraints are checked when its batch commits); nothing of "
                              f"{group[0].name} was applied ({len(self.report.applied)} migration(s) before it were)")
