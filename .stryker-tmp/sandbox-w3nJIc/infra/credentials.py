"""Cloudflare credentials from the environment, read in one place and never printed.

The token comes only from `CLOUDFLARE_API_TOKEN` (a GitHub environment secret in CI); the account
id from `CLOUDFLARE_ACCOUNT_ID` or the environment's declaration; `HYPHAE_CLOUDFLARE_API_BASE`
points the SDK at another API (the loopback server in tests). Read-only; no SDK import here.
"""

from __future__ import annotations

import os

from infra.environments import Environment
from infra.errors import MissingCredentials

TOKEN_VARIABLE = "CLOUDFLARE_API_TOKEN"
ACCOUNT_VARIABLE = "CLOUDFLARE_ACCOUNT_ID"
API_BASE_VARIABLE = "HYPHAE_CLOUDFLARE_API_BASE"


def read_api_token(needed_for: str) -> str:
    """The API token; MissingCredentials says what it is needed for (`needed_for`) when unset."""
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise MissingCredentials(f"{TOKEN_VARIABLE} is not set; {needed_for}")
    return token


def read_account_id(env: Environment) -> str:
    account_id = os.environ.get(ACCOUNT_VARIABLE) or env.account_id
    if not account_id:
        raise MissingCredentials(f"{ACCOUNT_VARIABLE} is not set and {env.source} declares no hyphae:accountId "
                                 f"for environment {env.name!r}")
    return account_id


def api_base_url() -> str | None:
    """The API's base URL when overridden (tests), else None for the SDK's default."""
    return os.environ.get(API_BASE_VARIABLE) or None
