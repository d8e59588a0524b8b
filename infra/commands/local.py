"""`invoke local` (the README's main command) and `invoke smoke` (also run by CI after a deploy)."""

from __future__ import annotations

from invoke import task

from infra.commands import choose, reports_errors


@task(help={"keep_running": "leave the Worker up after the checks (Ctrl-C stops it)"})
@reports_errors
def local(c, keep_running=False):
    """The whole pipeline here: build, lint, migrate local, Worker on workerd, smoke test, drift."""
    from invoke import Exit

    from infra.local.pipeline import run_local
    from infra.local.runtime import Terminated, stop_on_termination

    with stop_on_termination():
        try:
            # Flushed line by line: under --keep-running the redeploys are reported as they happen.
            run_local(lambda line: print(line, flush=True), keep_running=keep_running)
        except Terminated as stopped:  # SIGTERM, or SIGHUP from a closed terminal: workerd is stopped by now
            raise Exit(f"local: stopped by {stopped}; workerd is stopped", code=128 + stopped.signum) from None


@task(help={"env": "environment (local, dev, staging, production)", "url": "the Worker's URL (default: local starts dist/ on workerd; remote reads the stack outputs)"})
@reports_errors
def smoke(c, env="local", url=None):
    """Smoke-test a running Worker in the client's protocol: health and window, key refused, connect, a push round trip."""
    from infra.deployed import read_team_key, read_worker_url
    from infra.environments import ENVIRONMENTS, load_environment, schema_version
    from infra.local.smoke import PROPAGATION_SECONDS, run_smoke

    environment = load_environment(choose(env, ENVIRONMENTS, "--env"))
    expected = {"expected_schema": schema_version(), "protocol": environment.worker.sync_protocol_version,
                "min_protocol": environment.worker.min_compat_client_version}
    if environment.is_local and url is None:
        result = _smoke_local_artifact(expected)
    else:
        # A deployed Worker's new workers.dev route may take a while to answer everywhere.
        result = run_smoke(url or read_worker_url(environment), read_team_key(environment),
                           wait_seconds=0.0 if environment.is_local else PROPAGATION_SECONDS, **expected)
    print(f"smoke {env} {result.url}: {', '.join(result.checks)}: ok")


def _smoke_local_artifact(expected: dict):
    from infra.environments import BINDING_API_KEY
    from infra.local.api_key import deploy_local_team_keys
    from infra.local.pipeline import DEFAULT_ARTIFACT
    from infra.local.runtime import start_local_worker
    from infra.local.smoke import run_smoke
    from infra.rotation.window import utc_now

    keys = deploy_local_team_keys(utc_now())
    with start_local_worker(DEFAULT_ARTIFACT, key_bindings=keys) as worker:
        return run_smoke(worker.url, keys[BINDING_API_KEY], stand_ins=True, **expected)
