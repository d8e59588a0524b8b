"""The Worker's bindings, declared once.

Each binding says its name (what the Worker reads from `env`), its Cloudflare binding type and
which fact fills it. The Pulumi program (infra/stack/environment.py), the local wrangler config
(infra/render/), drift's expectations (infra/drift/bindings.py) are all rendered from this list,
and tests/test_bindings.py checks the Worker's code reads exactly these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from infra.environments import (
    BINDING_API_KEY,
    BINDING_D1,
    BINDING_KV,
    BINDING_VECTORIZE,
    VAR_PROTOCOL_VERSION,
    VAR_SCHEMA_VERSION,
)

# What fills a binding: keys of the `values` mapping handed to `api_bindings`.
DATABASE_ID = "database_id"
INDEX_NAME = "index_name"
KV_NAMESPACE_ID = "kv_namespace_id"
API_KEY = "api_key"
PROTOCOL_VERSION = "protocol_version"
SCHEMA_VERSION = "schema_version"

# The attribute naming the binding's target in the Cloudflare API's binding shape. D1's is
# `database_id`: the script-settings response carries it (and no `id`), and the SDK requires it on
# upload; pulumi-cloudflare accepts `id` too, but a binding written with `id` reads back as
# `database_id`, so `refresh` would show a change forever (first-real-run.md).
API_FIELD = {"d1": "database_id", "vectorize": "index_name", "kv_namespace": "namespace_id",
             "secret_text": "text", "plain_text": "text"}
# Fields older state or API answers may carry instead (read, never written).
LEGACY_API_FIELDS = {"d1": ("id",)}
RESOURCE_TYPES = ("d1", "vectorize", "kv_namespace")  # bindings that point at a resource


@dataclass(frozen=True)
class WorkerBinding:
    name: str
    type: str  # the Cloudflare API binding type
    source: str  # which value fills it (one of the constants above)
    local: bool = True  # bound in the local runtime (Vectorize has no local emulation)

    @property
    def is_secret(self) -> bool:
        return self.type == "secret_text"


WORKER_BINDINGS = (
    WorkerBinding(BINDING_D1, "d1", DATABASE_ID),
    WorkerBinding(BINDING_VECTORIZE, "vectorize", INDEX_NAME, local=False),
    WorkerBinding(BINDING_KV, "kv_namespace", KV_NAMESPACE_ID),
    WorkerBinding(BINDING_API_KEY, "secret_text", API_KEY),
    WorkerBinding(VAR_PROTOCOL_VERSION, "plain_text", PROTOCOL_VERSION),
    WorkerBinding(VAR_SCHEMA_VERSION, "plain_text", SCHEMA_VERSION),
)


def api_bindings(values: Mapping[str, Any]) -> list[dict]:
    """Every binding in the Cloudflare API's shape (`{"type", "name", <field>}`), filled from `values`.

    Values may be plain or Pulumi Outputs; this module never looks inside them.
    """
    return [{"type": binding.type, "name": binding.name, API_FIELD[binding.type]: values[binding.source]}
            for binding in WORKER_BINDINGS]
