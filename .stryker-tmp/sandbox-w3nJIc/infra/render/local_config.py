"""The local wrangler config, rendered with jinja2 from `load_environment("local")`.

Bindings: D1 `MYCO_TEAM_DB` (database_id = the environment's `local_database_id`, the key of the
local SQLite file), KV `MYCO_SECRETS`, the plain-text vars of infra/bindings.py, and service
bindings in place of Vectorize and Workers AI, which have no local emulation: their stand-ins
(`worker/dev/stand_ins.mjs`, served as the worker `hyphae-stand-ins`). The team API key is a
secret passed to the runtime at start, never part of this file.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from infra import environments
from infra.bindings import (
    DATABASE_ID,
    EMBEDDING_MODEL,
    KV_NAMESPACE_ID,
    MIN_COMPAT_VERSION,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    STAND_IN_SERVICE,
    WORKER_BINDINGS,
)
from infra.environments import Environment
from infra.paths import REPO_ROOT

LOCAL_CONFIG_PATH = REPO_ROOT / "worker" / "wrangler.local.jsonc"
TEMPLATE = "wrangler.local.jsonc.j2"
# Relative to the config file, as wrangler resolves `main`: the module `invoke build` writes.
MAIN_MODULE = "../dist/worker.js"


def plan_local_config(env: Environment | None = None, schema_version: int | None = None) -> dict:
    """The local Worker's name, compatibility settings, bindings and vars. Read-only.

    The bindings come from infra/bindings.py: every one bound locally, except the secret team key,
    which the runtime receives at start.
    """
    env = env or environments.load_environment("local")
    values = {
        DATABASE_ID: env.local_database_id,
        KV_NAMESPACE_ID: env.kv.namespace_id or env.kv.title,
        PROTOCOL_VERSION: str(env.worker.sync_protocol_version),
        MIN_COMPAT_VERSION: str(env.worker.min_compat_client_version),
        SCHEMA_VERSION: str(environments.schema_version() if schema_version is None else schema_version),
        EMBEDDING_MODEL: env.embeddings.model,
    }
    config = {
        "name": env.worker.name,
        "main": MAIN_MODULE,
        "compatibility_date": env.worker.compatibility_date,
        "compatibility_flags": list(env.worker.compatibility_flags),
        "d1_databases": [],
        "kv_namespaces": [],
        "services": [],
        "vars": {},
        # What the stand-ins need to behave like the real index and model (not Worker bindings).
        "stand_in_vars": {"DIMENSIONS": str(env.vectorize.dimensions), "METRIC": env.vectorize.metric},
    }
    for binding in WORKER_BINDINGS:
        if binding.stand_in:
            config["services"].append({"binding": binding.name, "service": STAND_IN_SERVICE, "entrypoint": binding.stand_in})
        if not binding.local or binding.is_secret:
            continue
        value = values[binding.source]
        if binding.type == "d1":
            config["d1_databases"].append({"binding": binding.name, "database_name": env.d1.name, "database_id": value})
        elif binding.type == "kv_namespace":
            config["kv_namespaces"].append({"binding": binding.name, "id": value})
        elif binding.type == "plain_text":
            config["vars"][binding.name] = value
    return config


def render_local_config(config: dict | None = None) -> str:
    """The text of worker/wrangler.local.jsonc. Read-only."""
    loader = jinja2.FileSystemLoader(Path(__file__).parent / "templates")
    template = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True).get_template(TEMPLATE)
    return template.render(config=config or plan_local_config())


def apply_local_config(path: Path = LOCAL_CONFIG_PATH) -> bool:
    """Write the fresh render to `path`; returns whether it changed."""
    fresh = render_local_config()
    if path.exists() and path.read_text() == fresh:
        return False
    path.write_text(fresh)
    return True
