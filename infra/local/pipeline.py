"""`invoke local`: the whole pipeline on this machine, no cloud account.

Steps, each reported on one line: build the artifact into dist/ (verified for `local`), lint the
migrations, migrate the local database (the very SQLite file workerd reads), start the Worker on
workerd bound to it, a local KV and the stand-ins for Workers AI and Vectorize, smoke-test it
over HTTP in the client's protocol, run the drift check on `local`, and
print a summary with the URL. The Worker is stopped at the end, on any failure, and on Ctrl-C
under `keep_running`. The lint, migrate and drift packages are imported lazily, when their step runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.environments import (
    VAR_PREVIOUS_KEY_EXPIRES,
    VAR_TEAM_KEY_GENERATION,
    Environment,
    load_environment,
    schema_version,
)
from infra.errors import DriftDetected, LintFailed
from infra.local.runtime import LocalWorker, start_local_worker
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, local_d1_file

DEFAULT_ARTIFACT = REPO_ROOT / "dist"

Report = Callable[[str], None]


@dataclass
class LocalRun:
    url: str
    schema_version: int
    database: Path
    embeddings: str  # what embeds and indexes locally: the stand-ins
    key_generation: int = 1  # the local team key's generation


def step_build(report: Report, artifact: Path) -> dict:
    from infra.artifact import build_artifact, verify_artifact
    from infra.render import apply_local_config

    manifest = build_artifact(artifact)
    verify_artifact(artifact, "local")
    changed = apply_local_config()
    git = manifest["git"]
    state = "dirty" if git["dirty"] else "clean"
    report(f"build    {artifact.name}/{manifest['main_module']} sha256 {manifest['artifact_sha256'][:12]} ({state} {str(git['commit'])[:8]}, {manifest['builder']['kind']})")
    if changed:
        report("render   worker/wrangler.local.jsonc was stale and has been re-rendered; commit it")
    return manifest


def step_lint(report: Report, migrations: Path) -> None:
    from infra.lint import lint_migrations

    result = lint_migrations(migrations)
    if not result.ok:
        first = result.errors[0]
        raise LintFailed(f"{first.file}:{first.line}: {first.code} {first.message} ({len(result.errors)} error(s); run `invoke lint`)")
    report(f"lint     {result.files_checked} files, {result.statements_checked} statements, {len(result.warnings)} warning(s), no errors")


def step_migrate(report: Report, migrations: Path) -> None:
    """Apply pending migrations to the local D1 file (the one workerd will read), under the lock."""
    from infra.runner.apply import MigrateOptions, run_migrate

    result = run_migrate("local", migrations, MigrateOptions())
    if result.applied:
        span = result.applied[0] if len(result.applied) == 1 else f"{result.applied[0]} .. {result.applied[-1]}"
        report(f"migrate  applied {len(result.applied)} migration(s) to the local database: {span}")
    else:
        report("migrate  the local database is up to date")




def step_smoke(report: Report, worker: LocalWorker, api_key: str, env: Environment) -> dict:
    from infra.local.smoke import run_smoke

    result = run_smoke(worker.url, api_key, expected_schema=schema_version(), protocol=env.worker.sync_protocol_version,
                       min_protocol=env.worker.min_compat_client_version, stand_ins=True)
    report(f"smoke    {', '.join(result.checks)}: ok")
    return result.health


def step_drift(report: Report, migrations: Path) -> None:
    """The drift check on `local`: live schema, history and the rendered config against the repository."""
    from infra.drift.check import check_drift
    from infra.drift.report import render

    result = check_drift(["local"], migrations)
    if not result.clean:
        report(render(result, "human").rstrip())
        raise DriftDetected("drift found in local (details above); `invoke drift` shows it again")
    [local] = result.environments
    report(f"drift    local matches the repository ({local.objects_compared} objects, schema version {local.applied_version})")


def run_local(
    report: Report = print, *, keep_running: bool = False, artifact: Path = DEFAULT_ARTIFACT, migrations: Path = DEFAULT_MIGRATIONS_DIR
) -> LocalRun:
    """Run every step; raises the first step's HyphaeError. Stops the Worker unless kept running.

    Kept running, the Worker is reloadable: a rotation of the local team key (`invoke rotate --env
    local`) is redeployed to it without failing a request (`wait_until_interrupted`)."""
    from infra.environments import BINDING_API_KEY
    from infra.local.api_key import deploy_local_team_keys
    from infra.rotation.window import utc_now

    env = load_environment("local")
    step_build(report, artifact)
    step_lint(report, migrations)
    step_migrate(report, migrations)
    keys = deploy_local_team_keys(utc_now())
    worker = start_local_worker(artifact, key_bindings=keys, reloadable=keep_running)
    try:  # from here on, whatever happens (even a closed stdout), workerd is stopped
        report(f"workerd  listening on {worker.url} (log {worker.log_path})")
        health = step_smoke(report, worker, keys[BINDING_API_KEY], env)
        step_drift(report, migrations)
        run = LocalRun(worker.url, health["schema_version_applied"], local_d1_file(env.local_database_id), "stand-in",
                       int(keys[VAR_TEAM_KEY_GENERATION]))
        report_summary(report, run)
        if keep_running:
            wait_until_interrupted(report, worker)
    finally:
        worker.stop()
    return run


def report_summary(report: Report, run: LocalRun) -> None:
    report("")
    report(f"local Worker  {run.url}")
    report(f"schema        version {run.schema_version} (applied = built)")
    report(f"database      {run.database}")
    report("embeddings    stand-ins: a deterministic model and an in-memory index (worker/dev/stand_ins.mjs)")
    report(f"team API key  generation {run.key_generation}, in $HYPHAE_STATE_DIR/secrets/team-api-key (not shown)")


def wait_until_interrupted(report: Report, worker: LocalWorker) -> None:
    """Serve until Ctrl-C; when the local team key's record changes (`invoke rotate --env local`
    writes it after the key files), or its previous key's window ends, redeploy the Worker with
    the keys as they are then. Requests are held, not failed, meanwhile."""
    from infra.local.api_key import deploy_local_team_keys, read_local_key_state
    from infra.rotation.window import utc_now

    report("running; press Ctrl-C to stop")
    deployed = read_local_key_state(), read_local_key_state().previous_open(utc_now())
    try:
        while worker.process.poll() is None:
            time.sleep(0.5)
            now = utc_now()
            record = read_local_key_state()
            if (record, record.previous_open(now)) == deployed:
                continue
            keys = deploy_local_team_keys(now)
            worker.redeploy(keys)
            deployed = read_local_key_state(), read_local_key_state().previous_open(now)
            report(f"redeployed with team key generation {keys[VAR_TEAM_KEY_GENERATION]}"
                   + (f" (generation {int(keys[VAR_TEAM_KEY_GENERATION]) - 1} accepted until {keys[VAR_PREVIOUS_KEY_EXPIRES]})"
                      if VAR_PREVIOUS_KEY_EXPIRES in keys else ", no previous key"))
        report(f"workerd exited with {worker.process.returncode}; see {worker.log_path}")
    except KeyboardInterrupt:
        report("stopping workerd")
