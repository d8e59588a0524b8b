"""Each environment's Pulumi resource names, types and URNs, without importing Pulumi.

The program (environment.py) registers its resources under these names; `invoke up` targets the
data resources by URN on a new environment's first deploy (cli.py), before Pulumi runs the
program. A test checks these URNs equal the ones Pulumi's own engine gives the resources.
"""

from __future__ import annotations

import yaml

from infra.paths import REPO_ROOT

COMPONENT_TYPE = "hyphae:index:Environment"
D1_TYPE = "cloudflare:index/d1Database:D1Database"
KV_TYPE = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
VECTORIZE_TYPE = "pulumi-python:dynamic/hyphae:VectorizeIndex"


def component_name(env_name: str) -> str:
    return f"hyphae-{env_name}"


def database_name(env_name: str) -> str:
    return f"{env_name}-database"


def kv_namespace_name(env_name: str) -> str:
    return f"{env_name}-kv"


def vector_index_name(env_name: str) -> str:
    return f"{env_name}-vectors"


def project_name() -> str:
    """The Pulumi project's name, from Pulumi.yaml (the middle of every URN)."""
    return yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]


def resource_urn(stack: str, type_: str, name: str, parent_type: str | None = None) -> str:
    """`urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>`; a child of the stack itself
    (the component) has no parent type in its URN."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project_name()}::{qualified}::{name}"


def data_resource_urns(env_name: str) -> list[str]:
    """The environment's component and its D1, KV and Vectorize resources: what a new
    environment's first `pulumi up --target` creates before its database is migrated. The
    component is targeted too: the engine refuses to create a child whose parent it skips."""
    return [
        resource_urn(env_name, COMPONENT_TYPE, component_name(env_name)),
        resource_urn(env_name, D1_TYPE, database_name(env_name), COMPONENT_TYPE),
        resource_urn(env_name, KV_TYPE, kv_namespace_name(env_name), COMPONENT_TYPE),
        resource_urn(env_name, VECTORIZE_TYPE, vector_index_name(env_name), COMPONENT_TYPE),
    ]
