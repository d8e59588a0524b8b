"""Running the drift check for the environments asked for.

Per environment, read-only:
1. the database (one request in the usual case): the ledger and the live schema in one batch,
   through the same target `invoke migrate` uses (local D1 file, or the D1 API);
2. history: HIS002-HIS004 from `infra.ledger.verify`, and PEN001 for each migration not applied;
3. schema: the live schema against the engine's replay of the applied migrations (compare.py);
   contract: every field the Myco client sends has a column that stores it as sent (contract.py);
4. bindings: the deployed Worker's settings (one request) for a remote environment, or the
   committed local wrangler config against a fresh render for `local`.
A remote environment not created yet (no D1 database: its first deploy creates it) reads as an
empty database: NEW001 and a PEN001 per migration, all notices, and no binding check.
Then parity across the remote environments checked. Raises UsageError, ConfigError,
MissingCredentials or RemoteApiError (exit 2) when a check cannot run; never writes anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from infra.drift import bindings as binding_checks
from infra.drift.compare import schema_findings
from infra.drift.contract import contract_findings
from infra.drift.expected import replay_expected
from infra.drift.findings import MISSING, NOTICE, PENDING, DriftFinding, DriftReport, EnvironmentReport
from infra.drift.normalize import mentioned_names
from infra.drift.schema import SCHEMA_QUERY, Schema, build_schema
from infra.environments import REMOTE_ENVIRONMENTS, Environment, load_environment
from infra.errors import RemoteApiError
from infra.history.files import MigrationFile, latest_version, read_migrations
from infra.ledger.read import LedgerState, parse_state, read_ledger
from infra.ledger.schema import read_state_statements
from infra.ledger.verify import verify_ledger
from infra.outputs import read_outputs
from infra.paths import REPO_ROOT, local_d1_file
from infra.targets import BatchFailed, BatchStatement, ResponseLost, Target, open_target

# A read is safe to resend; the target reports a lost batch answer as ResponseLost.
READ_ATTEMPTS = 3


@dataclass
class DatabaseState:
    ledger: LedgerState
    live: Schema
    created: bool = True
    database_id: str | None = None  # the remote database read (None locally)


def check_drift(environment_names: list[str], directory: Path, root: Path = REPO_ROOT) -> DriftReport:
    """The drift report of `environment_names` against the migrations in `directory`."""
    environments = [load_environment(name, root) for name in dict.fromkeys(environment_names)]
    files = read_migrations(directory)
    declared = _declared_remote_bindings(environments, root)
    owners = binding_checks.resource_owners(declared)
    report = DriftReport()
    deployed: dict[str, dict] = {}
    for env in environments:
        environment_report, env_deployed = check_environment(env, files, directory, declared, owners)
        report.environments.append(environment_report)
        if env_deployed is not None:
            deployed[env.name] = env_deployed
    checked_remote = {name: declared[name] for name in declared if name in deployed or name in environment_names}
    report.parity = binding_checks.parity_findings(checked_remote, deployed)
    return report


def check_environment(env: Environment, files: list[MigrationFile], directory: Path, declared: dict,
                      owners: dict) -> tuple[EnvironmentReport, dict | None]:
    """One environment's report, and its deployed bindings (None for local or an absent Worker)."""
    report = EnvironmentReport(env.name, latest_version=latest_version(files), checked=["schema", "history", "contract"])
    database = check_database(env, files, directory, report)
    if not database.created:
        report.findings.insert(0, not_created_finding(env, len(files)))
        return report, None
    if env.is_local:
        report.findings += local_config_drift(env)
        report.checked.append("local config")
        return report, None
    # No stack output at hand (a pull request holds no Pulumi state): the database drift just read,
    # found by its declared name, is the one the D1 binding must point at.
    expected = binding_checks.with_database_id(declared[env.name], database.database_id)
    deployed, findings = deployed_binding_drift(env, expected, owners)
    report.findings += findings
    report.checked.append("bindings")
    return report, deployed


def not_created_finding(env: Environment, pending: int) -> DriftFinding:
    return DriftFinding("NEW001", env.name, "history", MISSING, f"database {env.d1.name}",
                        f"not created yet: {pending} migration(s) will be applied by its first deploy",
                        "a new environment", f"`invoke up --env {env.name}` creates it, migrates it, then deploys",
                        NOTICE)


def check_database(env: Environment, files: list[MigrationFile], directory: Path,
                   report: EnvironmentReport) -> DatabaseState:
    """Schema and history findings of `env`'s database, added to `report`; the state read (its
    `created` is False when the environment has no database yet)."""
    state = read_database_state(env)
    applied_names = state.ledger.applied_names
    history = history_findings(env.name, files, state.ledger, directory)
    edited = _migrations_named(history, "HIS002")
    expected = replay_expected(files, applied_names)
    report.findings += schema_findings(
        env.name, expected.applied, state.live, latest=expected.latest,
        edited_migrations={file.name: mentioned_names(file.text) for file in files if file.name in edited},
        pending_migrations={file.name: mentioned_names(file.text) for file in files if file.name not in applied_names},
        missing_migrations=tuple(sorted(_migrations_named(history, "HIS003"))),
    )
    report.findings += contract_findings(env.name, state.live, expected.applied)
    report.findings += history
    report.applied_version = max((entry.version or 0 for entry in state.ledger.applied), default=0)
    report.objects_compared = max(expected.applied.object_count(), state.live.object_count())
    return state


def history_findings(environment: str, files: list[MigrationFile], ledger: LedgerState,
                     directory: Path) -> list[DriftFinding]:
    """HIS002-HIS004 (drift) and PEN001 (a notice per migration not applied yet)."""
    findings = [
        DriftFinding(finding.code, environment, "history", _history_change(finding.code),
                     f"migration {Path(finding.file).name}", _shown_paths(finding.message, directory), "",
                     _shown_paths(finding.hint, directory))
        for finding in verify_ledger(files, ledger, environment, directory)
    ]
    out_of_order = {finding.object for finding in findings if finding.code == "HIS004"}
    for file in files:
        if file.name not in ledger.applied_names and f"migration {file.name}" not in out_of_order:
            findings.append(DriftFinding(
                "PEN001", environment, "history", PENDING, f"migration {file.name}", "not applied yet",
                "", f"`invoke migrate --env {environment}` applies it (`--plan` shows it first)", NOTICE))
    return findings


def _shown_paths(text: str, directory: Path) -> str:
    """Paths inside the repository shown relative to it: the same PR comment from any checkout."""
    resolved = Path(directory).resolve()
    if not resolved.is_relative_to(REPO_ROOT) or resolved == REPO_ROOT:
        return text
    # Only whole path prefixes: the folder's name followed by a separator, as verify_ledger writes them.
    return text.replace(f"{Path(directory)}{os.sep}", f"{resolved.relative_to(REPO_ROOT)}{os.sep}")


def _migrations_named(history: list[DriftFinding], code: str) -> set[str]:
    return {finding.object.removeprefix("migration ") for finding in history if finding.code == code}


def _history_change(code: str) -> str:
    return {"HIS002": "changed", "HIS003": "missing", "HIS004": "pending"}.get(code, "changed")


def read_database_state(env: Environment) -> DatabaseState:
    """The ledger and the live schema. A local database not created yet reads as empty (and is
    not created: drift writes nothing)."""
    if env.is_local and not local_d1_file(env.local_database_id).exists():
        return DatabaseState(LedgerState(), Schema())
    target = open_target(env, read_only=True)
    try:
        state = _read_through(target)
    finally:
        target.close()
    state.created = target.created
    state.database_id = getattr(target, "database_id", None)
    return state


def _read_through(target: Target) -> DatabaseState:
    # Usual case, one request: the whole ledger and the schema in one batch of SELECTs. A
    # database without hyphae's ledger tables refuses the batch; then read them the careful way.
    statements = read_state_statements() + [BatchStatement(SCHEMA_QUERY)]
    try:
        applied, lock, restore, schema_rows = _resend_on_lost_answer(lambda: target.batch(statements), target)
        return DatabaseState(parse_state(applied, lock, restore), build_schema(schema_rows))
    except BatchFailed:
        pass
    ledger = _resend_on_lost_answer(lambda: read_ledger(target), target)
    try:
        rows = _resend_on_lost_answer(lambda: target.query(SCHEMA_QUERY), target)
    except BatchFailed as refusal:
        raise RemoteApiError(f"{target.description} refused the schema read: {refusal.message}") from None
    return DatabaseState(ledger, build_schema(rows))


def _resend_on_lost_answer(read, target: Target):
    for attempt in range(READ_ATTEMPTS):
        try:
            return read()
        except ResponseLost as lost:
            if attempt + 1 == READ_ATTEMPTS:
                raise RemoteApiError(f"no answer from {target.description} after {READ_ATTEMPTS} attempts ({lost}); "
                                     "try again later") from None
    raise AssertionError("unreachable")


def local_config_drift(env: Environment) -> list[DriftFinding]:
    """CFG001 when the committed config is not what `invoke render` writes (which renders from the
    repository's own migrations folder, whatever `--path` says)."""
    from infra.render import LOCAL_CONFIG_PATH, plan_local_config, render_local_config

    fresh = render_local_config(plan_local_config(env))
    return binding_checks.local_config_findings(LOCAL_CONFIG_PATH, fresh)


def deployed_binding_drift(env: Environment, declared: dict, owners: dict) -> tuple[dict | None, list[DriftFinding]]:
    from infra.targets.workers_api import read_worker_settings

    script_name = read_outputs(env).worker_name or env.worker.name
    settings = read_worker_settings(env, script_name)
    if settings is None:
        return None, [binding_checks.worker_missing_finding(env.name, script_name)]
    deployed = binding_checks.read_deployed_bindings(settings)
    return deployed, binding_checks.binding_findings(env.name, declared, deployed, owners)


def _declared_remote_bindings(environments: list[Environment], root: Path) -> dict[str, dict]:
    """Declared bindings of every remote environment (the checked ones, and the others, so a
    binding that points at another environment's resource can name it)."""
    remote = {env.name: env for env in environments if not env.is_local}
    if not remote:
        return {}
    for name in REMOTE_ENVIRONMENTS:
        remote.setdefault(name, load_environment(name, root))
    return {name: binding_checks.declared_bindings(env, read_outputs(env)) for name, env in remote.items()}
