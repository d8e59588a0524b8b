"""A loopback Cloudflare v4 API for the tests: the subset hyphae calls, backed by real SQLite.

`server.py` is the HTTP core (routes, envelope, request counts, fault injection). Each API area
is a module here with `install(api, root) -> state`; `start_loopback_api` installs every such
module it finds in this package (d1.py, and the ones later issues add), so adding an area means
adding a file. Each area's state is reachable as `api.<module name>` (e.g. `api.d1`).

Fixtures (made available to every test by tests/conftest.py):
- `loopback_api`: a started server with a fresh token and account id;
- `cloudflare_env`: `loopback_api` plus CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and
  HYPHAE_CLOUDFLARE_API_BASE pointing hyphae (through the official SDK) at it.
`point_dev_at_new_database(cloudflare_env, monkeypatch)` gives environment `dev` a fresh database.
"""

from __future__ import annotations

import importlib
import pkgutil
import secrets
from pathlib import Path

import pytest

from .server import ApiFailure, Fault, LoopbackApi, LoopbackRequest, RawResponse, envelope

__all__ = ["ApiFailure", "Fault", "LoopbackApi", "LoopbackRequest", "RawResponse", "envelope",
           "start_loopback_api", "loopback_api", "cloudflare_env", "point_dev_at_new_database", "LOOPBACK_ACCOUNT_ID"]

# The account id the committed stack files declare, so remote environments resolve against the loopback.
LOOPBACK_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
_NOT_AREAS = {"server"}


def start_loopback_api(root: Path, *, token: str | None = None, account_id: str = LOOPBACK_ACCOUNT_ID) -> LoopbackApi:
    """A started loopback API with every area module of this package installed (stop it with close())."""
    api = LoopbackApi(token or f"loopback-token-{secrets.token_hex(12)}", account_id)
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name in _NOT_AREAS or module_info.name.startswith(("test_", "_")):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        install = getattr(module, "install", None)
        if install is not None:
            setattr(api, module_info.name, install(api, Path(root)))
    return api.start()


@pytest.fixture
def loopback_api(tmp_path: Path):
    api = start_loopback_api(tmp_path / "loopback")
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def cloudflare_env(loopback_api: LoopbackApi, monkeypatch: pytest.MonkeyPatch) -> LoopbackApi:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", loopback_api.token)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", loopback_api.account_id)
    monkeypatch.setenv("HYPHAE_CLOUDFLARE_API_BASE", loopback_api.base_url)
    return loopback_api


def point_dev_at_new_database(api: LoopbackApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment `dev` pointed at a fresh loopback D1 database (no Pulumi CLI asked); its SQLite file."""
    database_id = api.d1.add_database(name="myco-team-dev")
    monkeypatch.setenv("HYPHAE_DEV_DATABASE_ID", database_id)
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    return api.d1.path(database_id)
