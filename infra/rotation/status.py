"""Where an environment's credentials stand: what `invoke credentials` prints, and what drift and
`invoke rotate --finish` read from the database.

From the declaration (the stack file, or for `local` the state folder's key record): the team
key's generation, when it was rotated, the previous key's window. From the environment's D1
database, read-only (the Worker writes both): the machines whose last request used an older
generation (`nodes.team_key_generation`) and the MCP token's newest event
(`team_credential_events`: its fingerprint, when, who). Never a key or a token.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from infra.environments import Environment
from infra.errors import CredentialTooOld
from infra.rotation.window import TeamKeyState, show_duration, show_instant

UTC = datetime.timezone.utc
# The smoke test's own node (infra/local/smoke.py) is no teammate: it uses whichever key is current
# when it runs, and would otherwise hold `--finish` back for a day after a smoke run.
MACHINES_SQL = ("SELECT machine_id, team_key_generation, last_seen FROM nodes "
                "WHERE team_key_generation IS NOT NULL AND team_key_generation < ? AND machine_id != 'hyphae-smoke' "
                "ORDER BY last_seen DESC, machine_id")
MCP_EVENT_SQL = ("SELECT action, fingerprint, team_key_generation, actor, at FROM team_credential_events "
                 "WHERE credential = 'mcp_token' ORDER BY id DESC LIMIT 1")
RECENT = datetime.timedelta(days=1)  # `rotate --finish` refuses while a machine used the previous key this recently


@dataclass(frozen=True)
class MachineOnOlderKey:
    machine_id: str
    generation: int
    last_seen: datetime.datetime


@dataclass(frozen=True)
class McpTokenEvent:
    action: str  # created (first /connect) or rotated (/mcp/rotate)
    fingerprint: str  # the client's 8-hex hash of the token, as /health shows it
    at: datetime.datetime
    key_generation: int | None
    actor: str | None

    def age(self, now: datetime.datetime) -> datetime.timedelta:
        return now - self.at


@dataclass
class DatabaseFacts:
    """What the Worker recorded; `problem` says why something could not be read (None: all read)."""

    machines: list[MachineOnOlderKey] = field(default_factory=list)
    mcp_token: McpTokenEvent | None = None
    problem: str | None = None

    def recent_on(self, generation: int, now: datetime.datetime) -> list[MachineOnOlderKey]:
        return [machine for machine in self.machines if machine.generation == generation and now - machine.last_seen < RECENT]


def read_database_facts(env: Environment, current_generation: int) -> DatabaseFacts:
    """The facts of `env`'s database, read-only. An environment without a database (or one not
    migrated to 0010 yet) gives empty facts with `problem` set. Raises MissingCredentials or
    RemoteApiError when a remote database cannot be reached."""
    from infra.paths import local_d1_file
    from infra.targets import open_target

    if env.is_local and not local_d1_file(env.local_database_id).exists():
        return DatabaseFacts(problem="the local database does not exist yet (`invoke local` creates it)")
    target = open_target(env, read_only=True)
    try:
        if not target.created:
            return DatabaseFacts(problem=f"{env.name} has no database yet")
        return read_facts_through(target, current_generation)
    finally:
        target.close()


def read_facts_through(target, current_generation: int) -> DatabaseFacts:
    """Both reads in one batch through an open target (drift reuses its own)."""
    from infra.targets import BatchFailed, BatchStatement

    try:
        machines, events = target.batch([BatchStatement(MACHINES_SQL, (current_generation,)), BatchStatement(MCP_EVENT_SQL)])
    except BatchFailed as refusal:
        return DatabaseFacts(problem=f"{target.description} holds no credential records ({refusal.message}); "
                                     "apply migration 0010 (`invoke migrate`)")
    return DatabaseFacts(
        machines=[MachineOnOlderKey(str(row["machine_id"]), int(row["team_key_generation"]), _moment(row["last_seen"]))
                  for row in machines],
        mcp_token=_mcp_event(events[0]) if events else None,
    )


def _mcp_event(row: dict) -> McpTokenEvent:
    return McpTokenEvent(str(row["action"]), str(row["fingerprint"] or ""), _moment(row["at"]),
                         row["team_key_generation"], row["actor"])


def _moment(seconds) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(seconds), UTC)


@dataclass
class CredentialReport:
    lines: list[str]
    too_old: list[str]  # one message per credential above the maximum age


def plan_report(env: Environment, key: TeamKeyState, facts: DatabaseFacts, now: datetime.datetime,
                deployed_generation: int | None = None) -> CredentialReport:
    """The report's lines and which credentials are too old. Pure."""
    limit = env.credentials.max_age_days
    limit_text = f"maximum age {limit} days" if limit else "no maximum age set (hyphae:credentials.maxAgeDays)"
    declared_in = "the state folder's secrets/team-key.json" if env.is_local else env.source
    lines = [f"credentials {env.name} ({declared_in}; {limit_text})"]
    too_old: list[str] = []
    lines += _team_key_lines(env, key, facts, now, deployed_generation)
    lines += _mcp_token_lines(facts, now)
    for name, age in (("team key", key.age(now)), ("MCP token", facts.mcp_token.age(now) if facts.mcp_token else None)):
        if limit and age is not None and age > datetime.timedelta(days=limit):
            too_old.append(f"the {name} of {env.name} is {age.days} days old, above hyphae:credentials.maxAgeDays {limit} "
                           f"({env.source}); rotate it: `invoke rotate --env {env.name} --credential "
                           f"{'team-key' if name == 'team key' else 'mcp-token'}`")
    if facts.problem:
        lines.append(f"  note       {facts.problem}")
    return CredentialReport(lines, too_old)


def _team_key_lines(env, key: TeamKeyState, facts: DatabaseFacts, now, deployed_generation) -> list[str]:
    when = (f"rotated {show_instant(key.rotated_at)}, {show_duration(key.age(now))} ago" if key.rotated_at
            else "rotated before hyphae recorded rotations (age unknown)")
    lines = [f"  team key   generation {key.generation}, {when}"]
    if deployed_generation is not None and deployed_generation != key.generation:
        lines.append(f"             generation {deployed_generation} is deployed: the next `invoke up --env {env.name}` deploys "
                     f"generation {key.generation}")
    if key.previous_expires is None:
        lines.append("             no previous key: only this generation is accepted")
    elif key.previous_open(now):
        lines.append(f"             overlap: generation {key.previous_generation} accepted until "
                     f"{show_instant(key.previous_expires)} ({show_duration(key.previous_expires - now)} left)")
    else:
        lines.append(f"             overlap ended {show_instant(key.previous_expires)}: generation {key.previous_generation} "
                     "is refused; the next deploy removes its binding")
    for machine in facts.machines:
        lines.append(f"             machine {machine.machine_id} last used generation {machine.generation} "
                     f"({show_instant(machine.last_seen)}, {show_duration(now - machine.last_seen)} ago)")
    if not facts.machines and not facts.problem:
        lines.append("             no machine's last request used an older generation")
    return lines


def _mcp_token_lines(facts: DatabaseFacts, now: datetime.datetime) -> list[str]:
    event = facts.mcp_token
    if event is None:
        return ["  MCP token  no creation or rotation recorded (none since migration 0010, or no /connect yet)"]
    who = f" by {event.actor}" if event.actor else " by a client" if event.action == "rotated" else ""
    return [f"  MCP token  fingerprint {event.fingerprint}, {event.action} {show_instant(event.at)}{who}, "
            f"{show_duration(event.age(now))} ago"]


def require_young_enough(report: CredentialReport) -> None:
    if report.too_old:
        raise CredentialTooOld("; ".join(report.too_old))
