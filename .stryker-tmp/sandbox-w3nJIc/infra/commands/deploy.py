"""`invoke preview` and `invoke up`: Pulumi for one environment, after the artifact is verified.

`up` of an environment whose database does not exist yet creates its data resources first, then
migrates the new database, then deploys everything (infra/stack/cli.py says why).

Thin skins over `infra.stack.cli.apply_pulumi`, which never imports Pulumi itself (the engine
runs the program in its own process), so loading these tasks stays fast.
"""

from __future__ import annotations

from invoke import task

from infra.commands import choose, reports_errors
from infra.environments import REMOTE_ENVIRONMENTS

HELP = {
    "env": "the environment (stack): dev, staging or production",
    "artifact": "the build artifact folder (default: $HYPHAE_ARTIFACT_DIR, else dist)",
}


@task(help=HELP | {"json": "save the preview as Pulumi's JSON to this file (for `invoke review --preview`)"})
@reports_errors
def preview(c, env="", artifact="", json=""):
    """Verify the artifact for ENV, then `pulumi preview` its stack with hyphae's policy pack."""
    from pathlib import Path

    from infra.stack.cli import apply_pulumi

    apply_pulumi("preview", _environment(env), artifact or None, Path(json) if json else None)
    if json:
        print(f"pulumi preview of {env} saved to {json}")


@task(help=HELP)
@reports_errors
def up(c, env="", artifact=""):
    """Verify the artifact for ENV, then `pulumi up --yes` its stack (a new one: data, migrate, then all)."""
    from infra.stack.cli import apply_pulumi

    apply_pulumi("up", _environment(env), artifact or None)


def _environment(env: str) -> str:
    from infra.errors import UsageError

    if not env:
        raise UsageError(f"--env is required: one of {', '.join(REMOTE_ENVIRONMENTS)}")
    return choose(env, REMOTE_ENVIRONMENTS, "--env")


@task(help={"env": HELP["env"]})
@reports_errors
def outputs(c, env=""):
    """Save ENV's stack outputs (ids, names, URL; no secrets) for the tasks that follow `pulumi up`."""
    from infra.stack.cli import record_stack_outputs

    path = record_stack_outputs(_environment(env))
    print(f"outputs of {env} written to {path}")


@task(help={"env": HELP["env"]})
@reports_errors
def refresh(c, env=""):
    """Compare ENV's cloud resources with Pulumi's state (`pulumi refresh --preview-only`); writes nothing."""
    from infra.stack.cli import check_refresh

    check_refresh(_environment(env))
    print(f"{env}: cloud resources match the Pulumi state")
