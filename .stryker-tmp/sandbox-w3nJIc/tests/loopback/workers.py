"""Workers scripts on the loopback API: a script's settings, bindings included.

`GET /accounts/{account_id}/workers/scripts/{script_name}/settings` answers as Cloudflare does
(what the SDK's `workers.scripts.script_and_version_settings.get` parses): the script's bindings
in the API's shapes (`{"type": "d1", "name", "database_id"}`, with no `id`; `{"type":
"kv_namespace", "name", "namespace_id"}`, `{"type": "vectorize", "name", "index_name"}`,
`{"type": "plain_text", "name", "text"}`, `{"type": "secret_text", "name"}`: a secret's value is
never returned), compatibility settings, usage model. An unknown script is HTTP 404 with code 10007, the API's
`workers.api.error.script_not_found`.

State is in memory: `api.workers.scripts[name]`. `deploy(name, bindings)` seeds a script, as if a
deploy had uploaded it; secret values given to it are dropped at once, as the API keeps them apart.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from .server import ApiFailure, LoopbackApi, LoopbackRequest

SCRIPT_SETTINGS = "/accounts/{account_id}/workers/scripts/{script_name}/settings"
ERROR_SCRIPT_NOT_FOUND = 10007


@dataclass
class Script:
    name: str
    bindings: list[dict]
    compatibility_date: str = "2026-04-01"
    compatibility_flags: list[str] = field(default_factory=list)

    def settings(self) -> dict:
        return {
            "bindings": copy.deepcopy(self.bindings),
            "compatibility_date": self.compatibility_date,
            "compatibility_flags": list(self.compatibility_flags),
            "logpush": False,
            "observability": {"enabled": False},
            "placement": {},
            "tags": [],
            "tail_consumers": [],
            "usage_model": "standard",
        }


class WorkersStore:
    """The loopback account's Worker scripts (settings only: no code is stored or run)."""

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}

    def deploy(self, name: str, bindings: list[dict], **settings) -> Script:
        """Seed or replace a script with `bindings` (API shapes); secret values are not kept."""
        kept = [{key: value for key, value in binding.items()
                 if not (binding.get("type") == "secret_text" and key == "text")} for binding in bindings]
        script = Script(name, kept, **settings)
        self.scripts[name] = script
        return script

    def settings(self, name: str) -> dict:
        script = self.scripts.get(name)
        if script is None:
            raise ApiFailure(404, ERROR_SCRIPT_NOT_FOUND, "This Worker does not exist on your account.")
        return script.settings()


def install(api: LoopbackApi, root: Path) -> WorkersStore:
    """Register the Workers script routes on `api`; the store is reachable as `api.workers`."""
    store = WorkersStore()

    @api.route("GET", SCRIPT_SETTINGS, "workers.settings")
    def settings(request: LoopbackRequest):
        return store.settings(request.path_params["script_name"])

    return store
