"""`invoke rotate` and `invoke credentials`: the credential lifecycle (docs/credentials.md).

Thin skins over `infra.rotation`. Neither prints a secret: a new team key is read by the operator
with `pulumi stack output apiKey --show-secrets` (locally, from the state folder's key file); the
MCP token is shown only by its fingerprint.
"""

from __future__ import annotations

from invoke import task

from infra.commands import choose, reports_errors

CREDENTIALS = ("team-key", "mcp-token")


@task(help={
    "env": "the environment: local, dev, staging or production",
    "credential": "what to rotate: team-key (a reviewed change to the stack file) or mcp-token (through the Worker)",
    "compromised": "team-key: no overlap, the previous key stops at the deploy",
    "finish": "team-key: end the previous key's overlap window now (refused while machines used it in the last day)",
    "force": "with --finish: end the window even though machines still used the previous key",
    "url": "mcp-token: the Worker's URL (default: the stack outputs; locally, dist/ started on workerd)",
})
@reports_errors
def rotate(c, env="", credential="", compromised=False, finish=False, force=False, url=None):
    """Rotate a credential: the team key (stack file edit + teammates' steps) or the MCP token (via the Worker)."""
    from infra.environments import ENVIRONMENTS
    from infra.errors import UsageError
    from infra.rotation.window import utc_now

    if not env:
        raise UsageError(f"--env is required: one of {', '.join(ENVIRONMENTS)}")
    env = choose(env, ENVIRONMENTS, "--env")
    credential = choose(credential or ("team-key" if finish else ""), CREDENTIALS, "--credential")
    if credential == "mcp-token" and (compromised or finish or force):
        raise UsageError("--compromised, --finish and --force are for --credential team-key; an MCP token rotates at once")
    if force and not finish:
        raise UsageError("--force goes with --finish")
    if compromised and finish:
        raise UsageError("--finish ends an overlap window; --compromised rotates without one: pick one")
    if credential == "mcp-token":
        _rotate_mcp_token(env, url)
        return
    from infra.rotation.team_key import finish_window, rotate_team_key

    if finish:
        finish_window(env, utc_now(), force=force, report=print)
    else:
        rotate_team_key(env, utc_now(), compromised=compromised, report=print)


def _rotate_mcp_token(env_name: str, url: str | None) -> None:
    import datetime

    from infra.deployed import read_team_key, read_worker_url
    from infra.environments import load_environment
    from infra.rotation.mcp_token import PROPAGATION_SECONDS, rotate_mcp_token
    from infra.rotation.window import show_instant

    environment = load_environment(env_name)
    if environment.is_local and url is None:
        result = _rotate_on_local_artifact()
    else:
        wait = 0.0 if environment.is_local else PROPAGATION_SECONDS
        result = rotate_mcp_token(url or read_worker_url(environment), read_team_key(environment), wait_seconds=wait)
    when = show_instant(datetime.datetime.fromtimestamp(result.rotated_at, datetime.timezone.utc)) if result.rotated_at else "now"
    print(f"MCP token of {env_name} rotated {when}: fingerprint {result.before or '(none)'} -> {result.after}")
    print("  recorded by the Worker (team_credential_events); /health shows the new fingerprint, so each client")
    print("  fetches the new token through /connect on its next health check. The token is not shown.")


def _rotate_on_local_artifact():
    from infra.environments import BINDING_API_KEY
    from infra.local.api_key import deploy_local_team_keys
    from infra.local.pipeline import DEFAULT_ARTIFACT
    from infra.local.runtime import start_local_worker
    from infra.rotation.mcp_token import rotate_mcp_token
    from infra.rotation.window import utc_now

    keys = deploy_local_team_keys(utc_now())
    with start_local_worker(DEFAULT_ARTIFACT, key_bindings=keys) as worker:
        return rotate_mcp_token(worker.url, keys[BINDING_API_KEY])


@task(help={"env": "the environment: local (default), dev, staging or production"})
@reports_errors
def credentials(c, env="local"):
    """Generation, age and overlap of the team key, the MCP token's fingerprint and age; 1 when one is too old."""
    from infra.environments import ENVIRONMENTS, load_environment
    from infra.rotation.status import plan_report, read_database_facts, require_young_enough
    from infra.rotation.window import declared_team_key, utc_now

    environment = load_environment(choose(env, ENVIRONMENTS, "--env"))
    if environment.is_local:
        from infra.local.api_key import read_local_key_state

        key, deployed = read_local_key_state(), None
    else:
        from infra.outputs import read_outputs

        key, deployed = declared_team_key(environment), read_outputs(environment).team_key_generation
    now = utc_now()
    report = plan_report(environment, key, read_database_facts(environment, key.generation), now, deployed)
    print("\n".join(report.lines))
    require_young_enough(report)
    print(f"credentials {environment.name}: ok" + (f" (none older than {environment.credentials.max_age_days} days)"
                                                    if environment.credentials.max_age_days else ""))
