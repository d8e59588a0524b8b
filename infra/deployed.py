"""How to reach an environment's running Worker: its URL and the team key, for `invoke smoke` and
`invoke rotate --credential mcp-token`. Read-only; the key is returned, never printed.

The URL: the stack outputs (infra/outputs.py). The key: `MYCO_TEAM_API_KEY` when set (CI), else
the stack output `apiKey` through the Pulumi CLI; locally, the state folder's key file.
"""

from __future__ import annotations

import os

from infra.environments import BINDING_API_KEY, Environment
from infra.errors import ConfigError, MissingCredentials


def read_team_key(environment: Environment) -> str:
    if environment.is_local:
        from infra.local.api_key import read_or_create_local_api_key

        return read_or_create_local_api_key()
    key = os.environ.get(BINDING_API_KEY)
    if not key:
        from infra.stack.cli import read_secret_output  # runs the CLI; never imports pulumi

        key = read_secret_output(environment.name, "apiKey")
    if not key:
        raise MissingCredentials(
            f"{BINDING_API_KEY} is not set and the stack output apiKey of {environment.name} could not be read; "
            "set the variable, or run where the Pulumi CLI can reach the stack's state")
    return key


def read_worker_url(environment: Environment) -> str:
    from infra.outputs import read_outputs

    url = read_outputs(environment).worker_url
    if not url:
        raise ConfigError(environment.source, "workerUrl", f"no Worker URL known for {environment.name}; pass --url or "
                          f"run `invoke outputs --env {environment.name}`")
    return url
