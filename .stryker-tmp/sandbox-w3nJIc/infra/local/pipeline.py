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

from infra.environments import Environment, load_environment, schema_version
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
    """Run every step; raises the first step's HyphaeError. Stops the Worker unless kept running."""
    from infra.local.api_key import read_or_create_local_api_key

    env = load_environment("local")
    step_build(report, artifact)
    step_lint(report, migrations)
    step_migrate(report, migrations)
    api_key = read_or_create_local_api_key()
    worker = start_local_worker(artifact, api_key)
    try:  # from here on, whatever happens (even a closed stdout), workerd is stopped
        report(f"workerd  listening on {worker.url} (log {worker.log_path})")
        health = step_smoke(report, worker, api_key, env)
        step_drift(report, migrations)
        run = LocalRun(worker.url, health["schema_version_applied"], local_d1_file(env.local_database_id), "stand-in")
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
    report("team API key  in $HYPHAE_STATE_DIR/secrets/team-api-key (not shown)")


def wait_until_interrupted(report: Report, worker: LocalWorker) -> None:
    report("running; press Ctrl-C to stop")
    try:
        while worker.process.poll() is None:
            time.sleep(0.5)
        report(f"workerd exited with {worker.process.returncode}; see {worker.log_path}")
    except KeyboardInterrupt:
        report("stopping workerd")
