"""`invoke rotate --credential team-key` and `invoke rotate --finish`: the team key's rotation as a
reviewed change.

Remote: the only write is `hyphae:credentials` in the environment's stack file (a pull request);
the next `invoke up` creates the new key and keeps the previous one bound until its expiry
(infra/stack/environment.py). Local: each machine has its own key, so the state folder's key
files and record are the declaration; the local Worker picks them up at its next start, or at
once when `invoke local --keep-running` serves it. Either way the report says what the deploy
will do and what teammates must do: the Myco daemon cannot fetch a new team key, so each
teammate re-joins the team with it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.environments import Environment, config_file, load_environment
from infra.errors import RotationRefused
from infra.paths import REPO_ROOT
from infra.rotation.status import DatabaseFacts, read_database_facts
from infra.rotation.window import (
    TeamKeyState,
    declared_team_key,
    format_instant,
    plan_finish,
    plan_rotation,
    show_duration,
    show_instant,
)
from infra.stack import names

Report = Callable[[str], None]


@dataclass(frozen=True)
class Rotation:
    before: TeamKeyState
    after: TeamKeyState
    written: Path  # the stack file, or the local key record


def rotate_team_key(env_name: str, now: datetime.datetime, *, compromised: bool, report: Report,
                    root: Path = REPO_ROOT) -> Rotation:
    """Declare the next generation (see the module docstring). Raises RotationRefused, ConfigError."""
    env = load_environment(env_name, root)
    if env.is_local:
        return _rotate_local(env, now, compromised, report)
    before = declared_team_key(env)
    after = plan_rotation(before, env.credentials.overlap_days, now, compromised=compromised, where=f"{env.source}")
    path = config_file(env.name, root)
    from infra.rotation.stack_file import write_credentials

    write_credentials(path, env.name, {
        "teamKeyGeneration": after.generation,
        "teamKeyRotatedAt": format_instant(now),
        "previousKeyExpires": format_instant(after.previous_expires) if after.previous_expires else None,
    }, root)
    _report_remote_rotation(env, before, after, compromised, report)
    return Rotation(before, after, path)


def finish_window(env_name: str, now: datetime.datetime, *, force: bool, report: Report,
                  root: Path = REPO_ROOT) -> Rotation:
    """End the previous key's window now: refused while a machine used it in the last day (or when
    that cannot be read), unless `force`. Raises RotationRefused, ConfigError, MissingCredentials."""
    env = load_environment(env_name, root)
    before = _current_state(env)
    after = plan_finish(before, now, where=_where(env))
    # A window already over needs no check: the Worker refuses that key by its clock already.
    if not force and before.previous_open(now):
        _require_nobody_on_previous(env, before, read_database_facts(env, before.generation), now)
    if env.is_local:
        from infra.local.api_key import finish_local_window, record_path

        finish_local_window(now)
        report(f"team key of local: generation {before.previous_generation} retired now; the local Worker refuses it from "
               "its next start (at once under `invoke local --keep-running`)")
        return Rotation(before, after, record_path())
    from infra.rotation.stack_file import write_credentials

    path = config_file(env.name, root)
    write_credentials(path, env.name, {"previousKeyExpires": None}, root)
    report(f"team key of {env.name}: the overlap window of generation {before.previous_generation} ends early")
    report(f"  wrote {path.name}: hyphae:credentials previousKeyExpires removed")
    report(f"  the next `invoke up --env {env.name}` deletes random.RandomPassword "
           f"{names.team_key_name(env.name, before.previous_generation)} and the Worker's MYCO_TEAM_API_KEY_PREVIOUS "
           f"binding: generation {before.previous_generation} gets 401 from then on")
    report(f"  nothing else was written: commit {path.name} and open a pull request")
    return Rotation(before, after, path)


def _current_state(env: Environment) -> TeamKeyState:
    if env.is_local:
        from infra.local.api_key import read_local_key_state

        return read_local_key_state()
    return declared_team_key(env)


def _where(env: Environment) -> str:
    if env.is_local:
        from infra.local.api_key import record_path

        return f"local key ({record_path()})"
    return env.source


def _require_nobody_on_previous(env: Environment, state: TeamKeyState, facts: DatabaseFacts, now) -> None:
    if facts.problem:
        raise RotationRefused(f"{_where(env)}: cannot tell which machines still use generation {state.previous_generation} "
                              f"({facts.problem}); pass --force to end the window anyway")
    recent = facts.recent_on(state.previous_generation, now)
    if recent:
        shown = ", ".join(f"{machine.machine_id} ({show_duration(now - machine.last_seen)} ago)" for machine in recent[:10])
        more = f" and {len(recent) - 10} more" if len(recent) > 10 else ""
        raise RotationRefused(
            f"{_where(env)}: {len(recent)} machine(s) used generation {state.previous_generation} in the last day: "
            f"{shown}{more}; they would get 401 at once. Ask them to re-join with the new key (`invoke credentials "
            f"--env {env.name}` lists them), or pass --force")


def _rotate_local(env: Environment, now, compromised: bool, report: Report) -> Rotation:
    from infra.local.api_key import api_key_path, read_local_key_state, record_path, rotate_local_team_key

    before = read_local_key_state()
    after = rotate_local_team_key(env.credentials.overlap_days, now, compromised=compromised)
    report(f"team key of local: generation {before.generation} -> {after.generation}"
           f" ({'compromised: no overlap' if compromised else 'scheduled'})")
    report(f"  wrote {api_key_path()} (the new key, not shown) and {record_path()}")
    report(_previous_fate(before, after))
    report("  the local Worker uses it from its next start (`./run local`), or at once under `./run local --keep-running`;")
    report(f"  point your Myco daemon at it again with the new key (read it from {api_key_path()})")
    return Rotation(before, after, record_path())


def _previous_fate(before: TeamKeyState, after: TeamKeyState) -> str:
    if after.previous_expires is None:
        return f"  generation {before.generation} stops at the deploy: 401 at once for every machine still using it"
    days = show_duration(after.previous_expires - after.rotated_at)
    return (f"  generation {before.generation} keeps working until {show_instant(after.previous_expires)} ({days}); "
            "the first deploy after that removes it")


def _report_remote_rotation(env: Environment, before: TeamKeyState, after: TeamKeyState, compromised: bool,
                            report: Report) -> None:
    kind = "compromised key: no overlap" if compromised else "scheduled"
    written = [f"teamKeyGeneration: {after.generation}", f'teamKeyRotatedAt: "{format_instant(after.rotated_at)}"']
    if after.previous_expires:
        written.append(f'previousKeyExpires: "{format_instant(after.previous_expires)}"')
    new_slot, old_slot = names.team_key_name(env.name, after.generation), names.team_key_name(env.name, before.generation)
    report(f"team key of {env.name}: generation {before.generation} -> {after.generation} ({kind})")
    report(f"  wrote {env.source}: hyphae:credentials {', '.join(written)}")
    report(f"  the plan, at the next `invoke up --env {env.name}` (after this change is reviewed and merged):")
    replaced = (f" (replacing generation {after.generation - 2}'s, if the state still holds it)"
                if after.generation > 2 else "")
    report(f"    +  random.RandomPassword {new_slot} (keepers teamKeyGeneration={after.generation}): generation "
           f"{after.generation}, a new key{replaced}")
    if after.previous_expires:
        report(f"    =  random.RandomPassword {old_slot}: generation {before.generation}, kept as it is")
        report(f"    ~  Worker {env.worker.name}: MYCO_TEAM_API_KEY = generation {after.generation}, MYCO_TEAM_AUTH_GENERATION = "
               f"{after.generation}, MYCO_TEAM_API_KEY_PREVIOUS = generation {before.generation}, "
               f"MYCO_TEAM_AUTH_PREVIOUS_EXPIRES = {format_instant(after.previous_expires)}")
    else:
        report(f"    -  random.RandomPassword {old_slot}: generation {before.generation}, deleted")
        report(f"    ~  Worker {env.worker.name}: MYCO_TEAM_API_KEY = generation {after.generation}, MYCO_TEAM_AUTH_GENERATION = "
               f"{after.generation}, no previous key")
    report(_previous_fate(before, after))
    report("  what teammates must do (the Myco daemon cannot fetch a new team key):")
    report(f"    1. after the deploy, the operator reads the new key: pulumi stack output apiKey --show-secrets --stack {env.name}")
    report("    2. and hands it to each teammate over the team's secret channel (never a chat log, an issue or a commit)")
    deadline = f" before {show_instant(after.previous_expires)}" if after.previous_expires else " (their sync fails until then)"
    report(f"    3. each teammate re-joins the team in the Myco daemon with the new key{deadline}")
    report(f"    4. `invoke credentials --env {env.name}` lists the machines still on generation {before.generation}")
    report(f"  nothing else was written: commit {env.source} and open a pull request")
