"""A deployed Worker's settings (bindings included) through the official `cloudflare` SDK.

The read behind drift's binding check: `GET /accounts/{account}/workers/scripts/{name}/settings`,
which the SDK calls `workers.scripts.script_and_version_settings.get` (`settings.get` is the
narrower `/script-settings`, without bindings). Credentials and the API base come from the same
variables as `d1_api.py`. A read is safe to resend, so the SDK's own retries (429 with
Retry-After, 5xx, timeouts, with backoff) are on here. The token goes to the SDK and nowhere else.
"""

from __future__ import annotations

import cloudflare
import httpx
from cloudflare import Cloudflare

from infra.credentials import ACCOUNT_VARIABLE, TOKEN_VARIABLE, api_base_url, read_account_id, read_api_token
from infra.environments import Environment
from infra.errors import RemoteApiError

READ_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
READ_RETRIES = 3


def read_worker_settings(env: Environment, script_name: str) -> dict | None:
    """The script's settings as the API returns them (bindings in API shapes); None when the
    account has no such script. Raises MissingCredentials or RemoteApiError. Read-only."""
    token = read_api_token(f"environment {env.name!r} is remote and reading its Worker's bindings needs "
                           "an API token with Workers Scripts read permission")
    account_id = read_account_id(env)
    client = Cloudflare(api_token=token, base_url=api_base_url(),
                        max_retries=READ_RETRIES, timeout=READ_TIMEOUT)
    try:
        settings = client.workers.scripts.script_and_version_settings.get(script_name, account_id=account_id)
    except cloudflare.NotFoundError:
        return None
    except cloudflare.APIStatusError as error:
        raise RemoteApiError(_refusal(env, script_name, error)) from None
    except (cloudflare.APIConnectionError, cloudflare.APITimeoutError):
        raise RemoteApiError(f"the Cloudflare API is unreachable (reading Worker {script_name!r} of environment "
                             f"{env.name!r}); check the network and try again") from None
    finally:
        client.close()
    return settings.model_dump(mode="json", exclude_none=True) if settings is not None else {}


def _refusal(env: Environment, script_name: str, error: cloudflare.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    messages = "; ".join(str(item.get("message")) for item in body.get("errors") or [] if isinstance(item, dict))
    message = messages or str(error.message)
    if error.status_code in (401, 403):
        return (f"the Cloudflare API refused the credentials reading Worker {script_name!r} of environment "
                f"{env.name!r} (HTTP {error.status_code}: {message}); check {TOKEN_VARIABLE} and {ACCOUNT_VARIABLE}")
    return f"the Cloudflare API answered HTTP {error.status_code} reading Worker {script_name!r}: {message}"
