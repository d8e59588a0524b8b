"""`invoke migrate`, `invoke status`, `invoke restore`: thin skins over infra.runner and infra.ledger.

Exit codes: 0 done, 1 refused (lint errors, ledger mismatch, lock held, a migration failed),
2 could not run (usage, configuration, credentials, the API, a damaged local database). A remote
environment not created yet is not an error: the output says its first deploy applies everything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from invoke import Exit, task

from infra.commands import choose, reports_errors
from infra.errors import UsageError
from infra.paths import DEFAULT_MIGRATIONS_DIR

FORMATS = ("human", "json")


@task(help={
    "env": "environment: local (default), dev, staging or production",
    "path": "migrations folder (default: migrations/)",
    "plan": "show pending migrations, their statements and lint findings; write nothing",
    "to": "stop after this migration number, e.g. 0007",
    "format": "output: human (default) or json",
    "adopt": "adopt a database wrangler migrated: verify its schema against the files, record checksums",
    "break-lock": "break another run's migration lock (asks first; --yes to confirm in CI)",
    "yes": "answer yes to questions (for CI)",
})
@reports_errors
def migrate(c, env="local", path=None, plan=False, to=None, format="human", adopt=False, break_lock=False, yes=False):
    """Apply pending migrations: lint, lock, verify checksums, restore point, atomic batches."""
    from infra.runner.apply import MigrateOptions, run_migrate
    from infra.runner.plan import parse_target_version

    output_format = choose(format, FORMATS, "--format")
    human = output_format == "human"
    options = MigrateOptions(plan_only=plan, to_version=parse_target_version(to), adopt=adopt, break_lock=break_lock,
                             confirm=lambda question: _confirm(question, yes),
                             progress=(lambda line: print(f"  {line}", flush=True)) if human else (lambda line: None))
    if human:
        print(f"migrate {env}{' (plan: nothing is written)' if plan else ''}", flush=True)
    report = run_migrate(env, _folder(path), options)
    print(_render_human(report) if human else json.dumps(_report_json(report), indent=2))
    if plan and (report.ledger_findings or any(finding.blocks for finding in report.lint_findings)):
        raise Exit(code=1)


@task(help={"env": "environment: local (default), dev, staging or production",
            "path": "migrations folder (default: migrations/)",
            "format": "output: human (default) or json"})
@reports_errors
def status(c, env="local", path=None, format="human"):
    """Applied and pending migrations, checksums verified, lock holder, last restore point (read-only)."""
    from infra.ledger.verify import read_environment_history
    from infra.runner.plan import plan_pending

    output_format = choose(format, FORMATS, "--format")
    history = read_environment_history(env, _folder(path))
    state = history.state
    data = {
        "environment": env, "target": history.target_description,
        "applied": [{"name": entry.name, "applied_at": entry.applied_at, "sha256": entry.sha256,
                     "adopted": entry.adopted} for entry in state.applied],
        "pending": [migration.name for migration in plan_pending(history.files, state)],
        "findings": [finding.to_report_json() for finding in history.findings],
        "lock": state.lock.describe() if state.lock else None,
        "last_restore_point": state.last_restore_point,
    }
    print(_render_status(data, state) if output_format == "human" else json.dumps(data, indent=2))
    if history.findings:
        raise Exit(code=1)


@task(help={"env": "environment to restore (required)", "bookmark": "restore point: a D1 bookmark, or a local one",
            "from-backup": "a backup file (backups/<env>/<stamp>.sql.gz): verified, then restored into a NEW database",
            "in-place": "with --from-backup: restore into the environment's own database (asks; restore point first)",
            "path": "with --from-backup: migrations folder its history is checked against (default: migrations/)",
            "yes": "do not ask (for CI)"})
@reports_errors
def restore(c, env=None, bookmark=None, from_backup=None, in_place=False, path=None, yes=False):
    """Restore a database to a restore point taken by migrate, or from a backup (`invoke backup`)."""
    if from_backup:
        return _restore_from_backup(env, bookmark, from_backup, in_place, path, yes)
    from infra.environments import load_environment
    from infra.runner.restore import apply_restore
    from infra.targets import open_target

    if not env or not bookmark:
        raise UsageError("restore needs --env ENV and --bookmark B (migrate prints both before it applies anything), "
                         "or --from-backup FILE")
    if in_place:
        raise UsageError("--in-place goes with --from-backup (a bookmark always restores in place)")
    environment = load_environment(env)
    target = open_target(environment)
    try:
        if not _confirm(f"Restore {target.description} ({env}) to {bookmark}? Everything written since is undone.", yes):
            raise UsageError("restore not confirmed; nothing was changed")
        print(apply_restore(target, bookmark))
    finally:
        target.close()


def _restore_from_backup(env, bookmark, from_backup, in_place, path, yes) -> None:
    from infra.backup.restore import RestoreOptions, restore_backup

    if not env:
        raise UsageError("restore --from-backup needs --env ENV: the environment to restore for")
    if bookmark:
        raise UsageError("--bookmark and --from-backup exclude each other: restore to one or the other")
    print(f"restore {env} from {from_backup}{' (in place)' if in_place else ' (into a new database)'}", flush=True)
    options = RestoreOptions(in_place=in_place, confirm=lambda question: _confirm(question, yes),
                             progress=lambda line: print(f"  {line}", flush=True))
    result = restore_backup(env, Path(from_backup), _folder(path), options)
    print("\n".join([f"  {result.summary}"] + [f"  {line}" for line in result.next_steps]))


def _folder(path: str | None) -> Path:
    directory = Path(path) if path else DEFAULT_MIGRATIONS_DIR
    if not directory.is_dir():
        raise UsageError(f"--path {directory}: no such migrations folder")
    return directory


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{question} — this asks for confirmation; pass --yes to confirm without a terminal")
    # The question goes where the person sees it: stdout may be piped (`--format json | jq`).
    screen = sys.stdout if sys.stdout.isatty() else sys.stderr
    screen.write(f"{question} [y/N] ")
    screen.flush()
    answer = sys.stdin.readline()
    if screen is not sys.stdout:
        screen.write("\n")  # the typed answer echoes on the terminal, not into the captured stream
    return answer.strip().lower() in ("y", "yes")


def _render_human(report) -> str:
    lines = []
    for finding in report.lint_findings:
        if finding.allowed_reason is not None:  # allowed by a directive: shown with its reason, never as an error
            lines.append(f"    {finding.file}:{finding.line}: allowed {finding.code} {finding.message} (allowed: {finding.allowed_reason})")
        else:
            lines.append(f"    {finding.file}:{finding.line}: {finding.severity} {finding.code} {finding.message}")
    for finding in report.ledger_findings:
        lines.append(f"    {finding.file}: error {finding.code} {finding.message} ({finding.hint})")
    lines += [f"  note: {note}" for note in report.notes]
    if report.plan_only:
        lines.append(f"  pending: {len(report.pending)} migration(s)" + (f"; lock held by {report.lock_holder}"
                                                                         if report.lock_holder else ""))
        if report.held_back:
            lines.append(f"  left pending by --to: {', '.join(report.held_back)}")
        for migration in report.pending:
            lines.append(f"    {migration.name} ({len(migration.statements)} statements)")
            lines += [f"      {statement.line:>4}: {_one_line(statement.sql)}" for statement in migration.statements]
        return "\n".join(lines)
    if not report.created:
        return "\n".join(lines)  # the note says what the first deploy will apply
    if report.applied:
        trips = "transaction(s)" if report.environment == "local" else "API request(s)"
        lines.append(f"  applied {len(report.applied)} migration(s) in {report.requests} {trips}, {report.seconds:.2f} s")
    elif not report.held_back and report.lint_summary.get("files"):  # an empty folder: the note says it
        lines.append("  nothing to apply: the database is up to date")
    if report.held_back:
        lines.append(f"  left pending by --to: {', '.join(report.held_back)}")
    return "\n".join(lines)


def _one_line(sql: str, width: int = 100) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _report_json(report) -> dict:
    return {
        "environment": report.environment, "target": report.target, "plan": report.plan_only,
        "created": report.created,
        "lint": report.lint_summary, "lint_findings": [finding.to_report_json() for finding in report.lint_findings],
        "ledger_findings": [finding.to_report_json() for finding in report.ledger_findings],
        "pending": [{"name": migration.name, "sha256": migration.file.sha256,
                     "statements": [{"line": statement.line, "sql": statement.sql} for statement in migration.statements]}
                    for migration in report.pending],
        "applied": report.applied, "held_back": report.held_back, "adopted": report.adopted,
        "restore_point": None if report.restore_point is None else {
            "kind": report.restore_point.kind, "bookmark": report.restore_point.reference,
            "restore_command": report.restore_point.restore_command},
        "lock_holder": report.lock_holder, "notes": report.notes,
        "requests": report.requests, "seconds": round(report.seconds, 3),
    }


def _render_status(data: dict, state) -> str:
    lines = [f"status {data['environment']}: {data['target']}"]
    for entry in state.applied:
        checksum = "adopted" if entry.adopted else ("checksum recorded" if entry.sha256 else "NOT ADOPTED (wrangler)")
        lines.append(f"  applied  {entry.name}  {entry.applied_at}  {checksum}")
    lines += [f"  pending  {name}" for name in data["pending"]]
    lines += [f"  {finding['code']} {finding['message']} ({finding['hint']})" for finding in data["findings"]]
    if state.unadopted:
        lines.append(f"  checksums: {len(state.unadopted)} migration(s) applied by wrangler are not verified; "
                     f"`invoke migrate --env {data['environment']} --adopt` verifies and adopts them")
    elif not data["findings"]:
        lines.append("  checksums: every applied migration matches its file")
    lines.append(f"  lock: {data['lock'] or 'free'}")
    point = data["last_restore_point"]
    lines.append(f"  last restore point: {point['reference']} ({point['kind']}, {point['created_at']})" if point
                 else "  last restore point: none")
    return "\n".join(lines)
