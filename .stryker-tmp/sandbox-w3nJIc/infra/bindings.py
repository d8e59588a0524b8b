"""The Worker's bindings, declared once.

Each binding says its name (what the Worker reads from `env`), its Cloudflare binding type and
which fact fills it. Bindings with no local emulation (Vectorize, Workers AI) name the stand-in
that the local runtime binds in their place (`worker/dev/stand_ins.mjs`, a service binding). The Pulumi program (infra/stack/environment.py), the local wrangler config
(infra/render/), drift's expectations (infra/drift/bindings.py) are all rendered from this list,
and tests/test_bindings.py checks the Worker's code reads exactly these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from infra.environments import (
    BINDING_AI,
    BINDING_API_KEY,
    BINDING_D1,
    BINDING_KV,
    BINDING_VECTORIZE,
    VAR_EMBEDDING_MODEL,
    VAR_MIN_COMPAT_VERSION,
    VAR_PROTOCOL_VERSION,
    VAR_SCHEMA_VERSION,
)

# What fills a binding: keys of the `values` mapping handed to `api_bindings`.
DATABASE_ID = "database_id"
INDEX_NAME = "index_name"
KV_NAMESPACE_ID = "kv_namespace_id"
API_KEY = "api_key"
PROTOCOL_VERSION = "protocol_version"
MIN_COMPAT_VERSION = "min_compat_version"
SCHEMA_VERSION = "schema_version"
EMBEDDING_MODEL = "embedding_model"

# The attribute naming the binding's target in the Cloudflare API's binding shape (an `ai`
# binding has none: the account's Workers AI). D1's is `database_id`: the script-settings
# response carries it (and no `id`), and the SDK requires it on upload; pulumi-cloudflare accepts
# `id` too, but a binding written with `id` reads back as `database_id`, so `refresh` would show a
# change forever (first-real-run.md).
API_FIELD = {"d1": "database_id", "vectorize": "index_name", "kv_namespace": "namespace_id",
             "secret_text": "text", "plain_text": "text"}
# Fields older state or API answers may carry instead (read, never written).
LEGACY_API_FIELDS = {"d1": ("id",)}
STAND_IN_SERVICE = "hyphae-stand-ins"  # the local worker serving worker/dev/stand_ins.mjs
RESOURCE_TYPES = ("d1", "vectorize", "kv_namespace")  # bindings that point at a resource


@dataclass(frozen=True)
class WorkerBinding:
    name: str
    type: str  # the Cloudflare API binding type
    source: str | None  # which value fills it (one of the constants above); None for `ai`
    local: bool = True  # bound natively in the local runtime
    stand_in: str | None = None  # else: the stand-in's entrypoint in worker/dev/stand_ins.mjs

    @property
    def is_secret(self) -> bool:
        return self.type == "secret_text"


WORKER_BINDINGS = (
    WorkerBinding(BINDING_D1, "d1", DATABASE_ID),
    WorkerBinding(BINDING_VECTORIZE, "vectorize", INDEX_NAME, local=False, stand_in="StandInVectorize"),
    WorkerBinding(BINDING_KV, "kv_namespace", KV_NAMESPACE_ID),
    WorkerBinding(BINDING_AI, "ai", None, local=False, stand_in="StandInAi"),
    WorkerBinding(BINDING_API_KEY, "secret_text", API_KEY),
    WorkerBinding(VAR_PROTOCOL_VERSION, "plain_text", PROTOCOL_VERSION),
    WorkerBinding(VAR_MIN_COMPAT_VERSION, "plain_text", MIN_COMPAT_VERSION),
    WorkerBinding(VAR_SCHEMA_VERSION, "plain_text", SCHEMA_VERSION),
    WorkerBinding(VAR_EMBEDDING_MODEL, "plain_text", EMBEDDING_MODEL),
)


def api_bindings(values: Mapping[str, Any]) -> list[dict]:
    """Every binding in the Cloudflare API's shape (`{"type", "name", <field>}`), filled from `values`.

    Values may be plain or Pulumi Outputs; this module never looks inside them.
    """
    shapes = []
    for binding in WORKER_BINDINGS:
        shape = {"type": binding.type, "name": binding.name}
        if binding.type in API_FIELD:
            shape[API_FIELD[binding.type]] = values[binding.source]
        shapes.append(shape)
    return shapes
