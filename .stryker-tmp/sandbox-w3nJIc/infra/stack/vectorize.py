"""The Vectorize index as a Pulumi dynamic resource (pulumi-cloudflare has none: terraform #7005).

`VectorizeIndexProvider` is pickled into the stack's state with the resource, so it keeps nothing
on `self`: each CRUD method opens its own SDK client from CLOUDFLARE_API_TOKEN (see
`vectorize_api.open_client`). The rules it enforces:
- dimensions and metric cannot change in place; a change is a replacement that loses every
  vector, refused (ConfigError naming the stack file and `hyphae:vectorize.allowReplace`) unless
  the environment sets `allowReplace: true`;
- creating an index that already exists adopts it if the shape matches, else ConfigError;
- metadata indexes are updated in place.
The resource's id is the index name (Vectorize identifies indexes by name).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra.environments import Environment
from infra.errors import ConfigError
from infra.stack import vectorize_api

# Changing any of these means a different index: Cloudflare cannot alter them in place.
REPLACING_PROPERTIES = ("account_id", "index_name", "dimensions", "metric")
METRICS = ("cosine", "euclidean", "dot-product")
INDEX_TYPES = ("string", "number", "boolean")
MAX_DIMENSIONS = 1536
INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
PROVIDER_KEY = "__provider"


class VectorizeIndexProvider(ResourceProvider):
    """CRUD for one Vectorize index. Stateless: safe to pickle into the stack's state."""

    # The pickled provider holds only code, no token; Pulumi need not encrypt it.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, list(_check_failures(news)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Refuse a replacement unless `allow_replace`; metadata index changes update in place."""
        replaces = [key for key in REPLACING_PROPERTIES if olds.get(key) != news.get(key)]
        if replaces and not news.get("allow_replace"):
            raise refused_replacement(olds, news, replaces)
        changed = _changed_keys(olds, news)
        if replaces:
            # Same name on both sides: the old index must go before the new one can exist.
            same_name = olds.get("index_name") == news.get("index_name")
            return DiffResult(changes=True, replaces=replaces, delete_before_replace=same_name)
        return DiffResult(changes=bool(changed), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        declaration = vectorize_api.IndexDeclaration.from_props(props)
        live = vectorize_api.apply_index(vectorize_api.open_client(), declaration)
        return CreateResult(live.name, _outputs(props, live))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = vectorize_api.read_index(vectorize_api.open_client(), props["account_id"], id_)
        if live is None:
            return ReadResult("", {})
        return ReadResult(live.name, _outputs(props, live))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        declaration = vectorize_api.IndexDeclaration.from_props(news)
        live = vectorize_api.apply_index(vectorize_api.open_client(), declaration)
        return UpdateResult(_outputs(news, live))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        vectorize_api.delete_index(vectorize_api.open_client(), props["account_id"], id_)


class VectorizeIndex(Resource, module="hyphae", name="VectorizeIndex"):
    """One environment's Vectorize index; its id is the index name."""

    index_name: pulumi.Output[str]
    dimensions: pulumi.Output[int]
    metric: pulumi.Output[str]

    def __init__(self, resource_name: str, env: Environment, opts: pulumi.ResourceOptions | None = None):
        super().__init__(VectorizeIndexProvider(), resource_name, index_properties(env), opts)


def index_properties(env: Environment) -> dict[str, Any]:
    """The resource's inputs, from the environment model (the keys IndexDeclaration reads)."""
    return {
        "account_id": env.account_id,
        "index_name": env.vectorize.name,
        "dimensions": env.vectorize.dimensions,
        "metric": env.vectorize.metric,
        "metadata_indexes": [
            {"property_name": index.property_name, "index_type": index.index_type}
            for index in env.vectorize.metadata_indexes
        ],
        "allow_replace": env.vectorize.allow_replace,
        "declared_in": env.source,
    }


def refused_replacement(olds: Mapping[str, Any], news: Mapping[str, Any], replaces: list[str]) -> ConfigError:
    changes = ", ".join(f"{key} {olds.get(key)!r} -> {news.get(key)!r}" for key in replaces)
    return ConfigError(
        news.get("declared_in") or "the stack configuration",
        "hyphae:vectorize.allowReplace",
        f"changing {changes} replaces Vectorize index {olds.get('index_name')!r} and loses every vector "
        "in it; revert the change, or set allowReplace: true for the deploy that should replace it",
    )


def _outputs(props: Mapping[str, Any], live: vectorize_api.LiveIndex) -> dict[str, Any]:
    """The inputs as declared, with the shape and metadata indexes as the API reports them."""
    outputs = {key: value for key, value in props.items() if key != PROVIDER_KEY}
    outputs.update(
        index_name=live.name,
        dimensions=live.dimensions,
        metric=live.metric,
        metadata_indexes=[{"property_name": name, "index_type": kind} for name, kind in live.metadata_indexes],
    )
    return outputs


def _changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    keys = (set(olds) | set(news)) - {PROVIDER_KEY}
    changed = []
    for key in sorted(keys):
        old, new = olds.get(key), news.get(key)
        if key == "metadata_indexes":
            old = vectorize_api.normalise_metadata_indexes(old or ())
            new = vectorize_api.normalise_metadata_indexes(new or ())
        if old != new:
            changed.append(key)
    return changed


def _check_failures(news: Mapping[str, Any]):
    if not news.get("account_id"):
        yield CheckFailure("account_id", "an account id is required (hyphae:accountId)")
    if not INDEX_NAME.match(str(news.get("index_name") or "")):
        yield CheckFailure("index_name", "lower-case letters, digits and dashes, at most 63 characters")
    dimensions = news.get("dimensions")
    if not isinstance(dimensions, (int, float)) or not 1 <= int(dimensions) <= MAX_DIMENSIONS:
        yield CheckFailure("dimensions", f"an integer from 1 to {MAX_DIMENSIONS}")
    if news.get("metric") not in METRICS:
        yield CheckFailure("metric", f"one of {', '.join(METRICS)}")
    for entry in news.get("metadata_indexes") or []:
        if entry.get("index_type") not in INDEX_TYPES:
            yield CheckFailure("metadata_indexes", f"index type of {entry.get('property_name')!r}: one of {', '.join(INDEX_TYPES)}")
