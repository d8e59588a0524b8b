"""`invoke local` (the README's main command) and `invoke smoke` (also run by CI after a deploy)."""

from __future__ import annotations

import os

from invoke import task

from infra.commands import choose, reports_errors


@task(help={"keep_running": "leave the Worker up after the checks (Ctrl-C stops it)"})
@reports_errors
def local(c, keep_running=False):
    """The whole pipeline here: build, lint, migrate local, Worker on workerd, smoke test, drift."""
    from infra.local.pipeline import run_local

    run_local(keep_running=keep_running)


@task(help={"env": "environment (local, dev, staging, production)", "url": "the Worker's URL (default: local starts dist/ on workerd; remote reads the stack outputs)"})
@reports_errors
def smoke(c, env="local", url=None):
    """Smoke-test a running Worker in the client's protocol: health and window, key refused, connect, a push round trip."""
    from infra.environments import ENVIRONMENTS, load_environment, schema_version
    from infra.local.smoke import PROPAGATION_SECONDS, run_smoke

    environment = load_environment(choose(env, ENVIRONMENTS, "--env"))
    expected = {"expected_schema": schema_version(), "protocol": environment.worker.sync_protocol_version,
                "min_protocol": environment.worker.min_compat_client_version}
    if environment.is_local and url is None:
        result = _smoke_local_artifact(expected)
    else:
        # A deployed Worker's new workers.dev route may take a while to answer everywhere.
        result = run_smoke(url or _deployed_url(environment), _remote_api_key(environment),
                           wait_seconds=0.0 if environment.is_local else PROPAGATION_SECONDS, **expected)
    print(f"smoke {env} {result.url}: {', '.join(result.checks)}: ok")


def _smoke_local_artifact(expected: dict):
    from infra.local.api_key import read_or_create_local_api_key
    from infra.local.pipeline import DEFAULT_ARTIFACT
    from infra.local.runtime import start_local_worker
    from infra.local.smoke import run_smoke

    api_key = read_or_create_local_api_key()
    with start_local_worker(DEFAULT_ARTIFACT, api_key) as worker:
        return run_smoke(worker.url, api_key, stand_ins=True, **expected)


def _remote_api_key(environment) -> str:
    from infra.environments import BINDING_API_KEY
    from infra.errors import MissingCredentials

    if environment.is_local:
        from infra.local.api_key import read_or_create_local_api_key

        return read_or_create_local_api_key()
    key = os.environ.get(BINDING_API_KEY)
    if not key:
        from infra.stack.cli import (
            read_secret_output,  # runs the CLI; never imports pulumi
        )

        key = read_secret_output(environment.name, "apiKey")
    if not key:
        raise MissingCredentials(
            f"{BINDING_API_KEY} is not set and the stack output apiKey of {environment.name} could not be read; "
            "set the variable, or run where the Pulumi CLI can reach the stack's state")
    return key


def _deployed_url(environment) -> str:
    from infra.errors import ConfigError
    from infra.outputs import read_outputs

    url = read_outputs(environment).worker_url
    if not url:
        raise ConfigError(environment.source, "workerUrl", f"no Worker URL known for {environment.name}; pass --url or run `invoke outputs --env {environment.name}`")
    return url
