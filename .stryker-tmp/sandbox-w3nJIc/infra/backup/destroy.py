"""`invoke destroy`: a guarded teardown of an unprotected environment, after a verified backup.

In order, each step stopping at the first problem (nothing destroyed):
1. a protected environment (`hyphae:protect: true`: staging, production) is refused outright;
   `--yes-destroy` must name the environment itself; for a remote one the Pulumi CLI and the
   API token must be there (checked before the backup, so a backup is not taken for nothing);
2. a verified backup (`take.py`); its path is said either way;
3. the environment's name typed back at the prompt (or `--yes-destroy ENV` without a terminal);
4. remote: `pulumi destroy --stack ENV --yes`; local: the local D1 and KV state and the local
   restore points are removed (the backups, the team key and the stack outputs stay).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from infra.backup.take import BackupResult, take_backup
from infra.environments import Environment, load_environment
from infra.errors import DestroyRefused, UsageError
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, state_dir, wrangler_persist_dir


@dataclass
class DestroyResult:
    backup: BackupResult
    summary: str


def destroy_environment(env_name: str, *, yes_destroy: str = "", ask_name: Callable[[str], str | None],
                        directory: Path = DEFAULT_MIGRATIONS_DIR,
                        progress: Callable[[str], None] = lambda line: None) -> DestroyResult:
    """Back up and destroy `env_name` (see the module doc). `ask_name(question)` returns what the
    person typed, or None without a terminal. Raises DestroyRefused, BackupUnverified, ..."""
    env = load_environment(env_name)
    if env.protect:
        raise DestroyRefused(f"environment {env.name!r} is protected (hyphae:protect: true in {env.source}); hyphae "
                             "never destroys a protected environment; nothing was destroyed")
    if yes_destroy and yes_destroy != env.name:
        raise DestroyRefused(f"--yes-destroy {yes_destroy!r} does not name the environment being destroyed "
                             f"({env.name!r}); nothing was destroyed")
    pulumi = None if env.is_local else _pulumi_ready(env)
    backup = take_backup(env.name, directory, progress=progress)
    progress(f"verified backup {backup.path}")
    if not yes_destroy:
        typed = ask_name(f"This destroys every resource of {env.name} (backup: {backup.path}). "
                         f"Type the environment's name to confirm:")
        if typed is None:
            raise DestroyRefused(f"destroy asks for the environment's name; without a terminal pass --yes-destroy "
                                 f"{env.name}; nothing was destroyed (the backup is at {backup.path})")
        if typed.strip() != env.name:
            raise DestroyRefused(f"{typed.strip()!r} is not {env.name!r}; nothing was destroyed (the backup is at "
                                 f"{backup.path})")
    summary = _destroy_local(env) if env.is_local else _destroy_stack(env, pulumi)
    return DestroyResult(backup, summary)


def _pulumi_ready(env: Environment) -> str:
    from infra.credentials import read_api_token
    from infra.stack.cli import PulumiNotInstalled, install_hint, require_deployable

    require_deployable(env)
    executable = shutil.which("pulumi")
    if executable is None:
        raise PulumiNotInstalled(f"the Pulumi CLI is not installed; {install_hint()}; nothing was destroyed")
    read_api_token(f"export a Cloudflare API token for {env.name} before `invoke destroy`; nothing was destroyed")
    return executable


def plan_destroy_command(env_name: str) -> list[str]:
    return ["pulumi", "destroy", "--stack", env_name, "--yes", "--non-interactive"]


def _destroy_stack(env: Environment, executable: str) -> str:
    from infra.stack.cli import DeployFailed

    command = plan_destroy_command(env.name)
    completed = subprocess.run([executable, *command[1:]], cwd=REPO_ROOT, check=False)
    if completed.returncode != 0:
        raise DeployFailed(f"pulumi destroy failed for {env.name} (exit {completed.returncode}); see Pulumi's output "
                           "above")
    return f"destroyed the resources of stack {env.name} (pulumi destroy)"


def _destroy_local(env: Environment) -> str:
    from infra.targets.local import restore_points_dir

    removed = [path for path in (wrangler_persist_dir(), restore_points_dir(env.name)) if path.exists()]
    for path in removed:
        if state_dir() not in path.parents:
            raise UsageError(f"refusing to remove {path}: it is outside the state folder {state_dir()}")
        shutil.rmtree(path)
    shown = ", ".join(str(path) for path in removed) or "nothing (no local state)"
    return f"removed the local state: {shown}"
