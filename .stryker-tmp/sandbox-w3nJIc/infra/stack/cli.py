"""Running the Pulumi CLI for one environment: `pulumi preview` or `pulumi up`, with the policy pack.

What `invoke preview` and `invoke up` call. In order, each step stopping at the first problem:
the environment's declaration is read and must be deployable; the artifact is verified for that
environment (every hash; beyond local, a clean CI build); the Pulumi CLI must be installed (else
a one-line message saying how); CLOUDFLARE_API_TOKEN must be set. Then Pulumi runs the program
(`__main__.py` at the repository root) in its own process with HYPHAE_ARTIFACT_DIR pointing at the verified folder.

A new environment (no stack output names its database yet) cannot be deployed in one `pulumi up`:
its D1 database id exists only once Pulumi created it, the database must be migrated before the
Worker's first request (its schema gate refuses an older schema), and `migrate` needs that id.
So `up` then runs three steps: `pulumi up --target` of the component and its data resources
(the program registers those alone, HYPHAE_DEPLOY_STAGE=data), the stack outputs saved and the
database migrated, then the full `pulumi up`.

This module never imports `pulumi`: the commands that load it stay fast.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from infra.credentials import read_api_token
from infra.environments import Environment, load_environment
from infra.errors import ConfigError, HyphaeError, UsageError
from infra.paths import REPO_ROOT

ACTIONS = ("preview", "up")
POLICY_PACK = REPO_ROOT / "infra" / "stack" / "policy"
ARTIFACT_DIR_VARIABLE = "HYPHAE_ARTIFACT_DIR"
STAGE_VARIABLE = "HYPHAE_DEPLOY_STAGE"
DATA_STAGE = "data"


class PulumiNotInstalled(HyphaeError):
    """The Pulumi CLI is not on PATH."""

    exit_code = 2


class DeployFailed(HyphaeError):
    """Pulumi ran and failed (a policy violation, a provider error); its own output says why."""


def require_deployable(env: Environment) -> Environment:
    """Only remote environments are Pulumi stacks; they need an account and, on workers.dev, its subdomain."""
    if env.is_local:
        raise UsageError("the local environment is not a Pulumi stack; run `invoke local` instead")
    if not env.account_id:
        raise ConfigError(env.source, "hyphae:accountId", "required for a deployed environment (32 hex digits)")
    if env.worker.workers_dev and not env.workers_dev_subdomain:
        raise ConfigError(env.source, "hyphae:workersDevSubdomain",
                          "required while hyphae:worker.workersDev is true (the account's <name>.workers.dev)")
    return env


def default_artifact_dir() -> Path:
    configured = os.environ.get(ARTIFACT_DIR_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / "dist"


def deploys_data_only() -> bool:
    """Whether this run of the program registers the data resources only (see the module's docstring)."""
    return os.environ.get(STAGE_VARIABLE) == DATA_STAGE


def plan_pulumi_command(action: str, env_name: str, targets: tuple[str, ...] = (), json_output: bool = False) -> list[str]:
    """The CLI's arguments: the stack is the environment; the policy pack always applies.

    `json_output` (preview only): print Pulumi's PreviewDigest JSON instead of the diff, for
    `invoke review --preview FILE`.
    """
    if action not in ACTIONS:
        raise UsageError(f"unknown Pulumi action {action!r} (known: {', '.join(ACTIONS)})")
    if json_output and action != "preview":
        raise UsageError(f"--json is for preview only, not {action}")
    command = ["pulumi", action, "--stack", env_name, "--non-interactive", "--policy-pack", str(POLICY_PACK)]
    for urn in targets:
        command += ["--target", urn]
    if json_output:
        return command + ["--json"]
    # `up --yes` still previews first; `--diff` shows each property change (secrets stay masked).
    return command + (["--diff"] if action == "preview" else ["--yes", "--diff"])


def install_hint() -> str:
    """How to install the CLI at the version of the pinned Pulumi SDK."""
    version = metadata.version("pulumi")
    return (f"install it with `curl -fsSL https://get.pulumi.com | sh -s -- --version {version}` "
            "(in CI: the pulumi/actions setup step) and make sure `pulumi` is on PATH")


def _say(line: str) -> None:
    print(line, flush=True)  # before Pulumi's own output, which goes straight to the terminal


def apply_pulumi(action: str, env_name: str, artifact: Path | None = None, json_file: Path | None = None,
                 progress=_say) -> None:
    """Run `pulumi <action>` for `env_name` after the checks above; `up` of a new environment first
    creates its data resources and migrates its database. Raises a HyphaeError subclass.

    With `json_file` (preview only), the preview's JSON is written there once Pulumi succeeds;
    after a failure the file is not written and Pulumi's output is shown instead.
    """
    command = plan_pulumi_command(action, env_name, json_output=json_file is not None)
    env = require_deployable(load_environment(env_name))
    folder = Path(artifact) if artifact else default_artifact_dir()
    _verify_artifact(folder, env_name)
    executable = _pulumi_executable()
    read_api_token(f"export a Cloudflare API token for {env_name} (in CI: the environment's secret) "
                   f"before `invoke {action}`")
    variables = dict(os.environ, **{ARTIFACT_DIR_VARIABLE: str(folder.resolve())})
    variables.pop(STAGE_VARIABLE, None)
    if action == "up" and not _has_database(env):
        apply_first_deploy(executable, env, variables, progress)
    if json_file is not None:
        _run_pulumi_to_file(executable, command, variables, json_file, f"pulumi {action} failed for {env_name}")
        return
    _run_pulumi(executable, command, variables, f"pulumi {action} failed for {env_name}")


def apply_first_deploy(executable: str, env: Environment, variables: dict, progress) -> None:
    """A new environment's first steps: its data resources, its outputs saved, its database migrated."""
    from infra.paths import DEFAULT_MIGRATIONS_DIR
    from infra.runner.apply import MigrateOptions, run_migrate
    from infra.stack.names import data_resource_urns

    progress(f"{env.name} has no database yet: creating its data resources first (D1, KV, Vectorize)")
    targeted = plan_pulumi_command("up", env.name, tuple(data_resource_urns(env.name)))
    _run_pulumi(executable, targeted, dict(variables, **{STAGE_VARIABLE: DATA_STAGE}),
                f"pulumi up of {env.name}'s data resources failed")
    progress(f"outputs of {env.name} written to {record_stack_outputs(env.name)}")
    progress(f"migrating {env.name}'s new database before its Worker is deployed")
    report = run_migrate(env.name, DEFAULT_MIGRATIONS_DIR,
                         MigrateOptions(confirm=lambda _question: True, progress=lambda line: progress(f"  {line}")))
    progress(f"  applied {len(report.applied)} migration(s); now deploying the Worker")


def _has_database(env: Environment) -> bool:
    from infra.outputs import read_outputs

    return bool(read_outputs(env).database_id)


def _pulumi_executable() -> str:
    executable = shutil.which("pulumi")
    if executable is None:
        raise PulumiNotInstalled(f"the Pulumi CLI is not installed; {install_hint()}")
    return executable


def _run_pulumi_to_file(executable: str, command: list[str], variables: dict, json_file: Path, failure: str) -> None:
    """Run Pulumi capturing its standard output into `json_file`, written only when it succeeds."""
    completed = subprocess.run([executable, *command[1:]], cwd=REPO_ROOT, env=variables, check=False,
                               stdout=subprocess.PIPE, text=True)
    if completed.returncode == 0:
        Path(json_file).write_text(completed.stdout, encoding="utf-8")
        return
    print(completed.stdout, end="")
    raise DeployFailed(f"{failure} (exit {completed.returncode}); see Pulumi's output above")


def _run_pulumi(executable: str, command: list[str], variables: dict, failure: str) -> None:
    completed = subprocess.run([executable, *command[1:]], cwd=REPO_ROOT, env=variables, check=False)
    if completed.returncode != 0:
        raise DeployFailed(f"{failure} (exit {completed.returncode}); see Pulumi's output above")


def _verify_artifact(folder: Path, env_name: str) -> None:
    # Imported here: the artifact package is only needed by the commands that deploy.
    from infra.artifact import verify_artifact

    verify_artifact(folder, env_name)


def record_stack_outputs(env_name: str) -> Path:
    """Run `pulumi stack output --json` for `env_name` and save its public outputs for later tasks.

    Writes `$HYPHAE_STATE_DIR/outputs/<env>.json` (secret outputs are left out; see infra/outputs.py).
    """
    import json

    from infra.outputs import write_outputs_file

    require_deployable(load_environment(env_name))
    executable = _pulumi_executable()
    completed = subprocess.run([executable, "stack", "output", "--json", "--stack", env_name],
                               cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise DeployFailed(f"pulumi stack output failed for {env_name} (exit {completed.returncode}): {last_line}")
    try:
        outputs = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise DeployFailed(f"pulumi stack output for {env_name} did not print JSON") from None
    return write_outputs_file(env_name, outputs)


def plan_refresh_command(env_name: str) -> list[str]:
    """A read-only refresh: cloud resources against Pulumi's state, failing on any difference."""
    return ["pulumi", "refresh", "--stack", env_name, "--preview-only", "--expect-no-changes",
            "--non-interactive", "--color", "never"]


def check_refresh(env_name: str) -> None:
    """Run the preview-only refresh for `env_name`; raise DeployFailed when the cloud has drifted."""
    require_deployable(load_environment(env_name))
    executable = _pulumi_executable()
    command = plan_refresh_command(env_name)
    completed = subprocess.run([executable, *command[1:]], cwd=REPO_ROOT, check=False)
    if completed.returncode != 0:
        raise DeployFailed(f"pulumi refresh for {env_name} found changes or could not run "
                           f"(exit {completed.returncode}); see Pulumi's output above")


def read_secret_output(env_name: str, name: str) -> str | None:
    """One secret stack output (e.g. the team API key), or None without the CLI. Never printed."""
    executable = shutil.which("pulumi")
    if executable is None:
        return None
    completed = subprocess.run([executable, "stack", "output", name, "--show-secrets", "--stack", env_name],
                               cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    value = completed.stdout.strip()
    return value if completed.returncode == 0 and value else None
