"""Vectorize indexes through the official `cloudflare` SDK: read, create or adopt, delete.

The Pulumi dynamic provider (`infra/stack/vectorize.py`) is a thin adapter over these functions,
so they hold the rules:
- An index's shape (dimensions, metric) cannot change in place; the caller decides about
  replacement. Creating an index whose name already exists adopts it when the shape is the
  same, and raises ConfigError naming the declaration when it is not.
- Metadata indexes are separate objects: the declared set is applied by creating the missing
  ones and deleting the undeclared ones (a property whose type changed is deleted, then created).
- A client is opened per call from CLOUDFLARE_API_TOKEN (and HYPHAE_CLOUDFLARE_API_BASE, which
  points tests at the loopback API): nothing that holds the token outlives the call.

Writers: `apply_index`, `delete_index` (one index each). Reader: `read_index`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import cloudflare
from cloudflare import Cloudflare

from infra.credentials import api_base_url, read_api_token
from infra.errors import ConfigError, RemoteApiError

# Vectorize's own error codes (the v2 API answers some of them with HTTP 400, not 404/409).
ERROR_INDEX_NOT_FOUND = 3000
ERROR_DUPLICATE_NAME = 3002

MetadataIndexes = tuple[tuple[str, str], ...]  # sorted (property_name, index_type) pairs


@dataclass(frozen=True)
class IndexDeclaration:
    """What an environment declares for its index; `declared_in` names the file, for messages."""

    account_id: str
    name: str
    dimensions: int
    metric: str
    metadata_indexes: MetadataIndexes
    declared_in: str

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> IndexDeclaration:
        """Read the dynamic resource's property bag (the keys `VectorizeIndex` registers)."""
        return cls(
            account_id=props["account_id"],
            name=props["index_name"],
            dimensions=int(props["dimensions"]),
            metric=props["metric"],
            metadata_indexes=normalise_metadata_indexes(props.get("metadata_indexes") or ()),
            declared_in=props.get("declared_in") or "the stack configuration",
        )


@dataclass(frozen=True)
class LiveIndex:
    """An index as the API reports it."""

    name: str
    dimensions: int
    metric: str
    metadata_indexes: MetadataIndexes


def normalise_metadata_indexes(entries) -> MetadataIndexes:
    """Sorted (property_name, index_type) pairs from dicts with either key spelling."""
    pairs = set()
    for entry in entries:
        name = entry.get("property_name", entry.get("propertyName"))
        kind = entry.get("index_type", entry.get("indexType"))
        pairs.add((name, kind))
    return tuple(sorted(pairs))


def open_client() -> Cloudflare:
    """A client for one provider call. Raises MissingCredentials when the token is not set."""
    token = read_api_token("export an API token with Vectorize edit permission "
                           "(in CI, the environment's secret) before `invoke up`")
    return Cloudflare(api_token=token, base_url=api_base_url())


def read_index(client: Cloudflare, account_id: str, name: str) -> LiveIndex | None:
    """The live index and its metadata indexes, or None when there is no such index. Read-only."""
    try:
        found = client.vectorize.indexes.get(name, account_id=account_id)
    except cloudflare.APIStatusError as error:
        if _is_missing(error):
            return None
        raise _remote_error(name, "read", error) from None
    except cloudflare.APIConnectionError as error:
        raise _unreachable(name, "read", error) from None
    if found is None or found.config is None:
        return None
    return LiveIndex(
        name=found.name or name,
        dimensions=found.config.dimensions,
        metric=found.config.metric,
        metadata_indexes=_read_metadata_indexes(client, account_id, name),
    )


def apply_index(client: Cloudflare, declaration: IndexDeclaration) -> LiveIndex:
    """Create the index, or adopt an existing one of the same shape; then apply its metadata indexes.

    Raises ConfigError (naming the declaration's file) when an index of that name exists with
    another shape: adopting it would silently change what every stored vector means.
    """
    live = read_index(client, declaration.account_id, declaration.name)
    if live is None:
        live = _create_index(client, declaration)
    require_same_shape(declaration, live)
    metadata = apply_metadata_indexes(client, declaration, live.metadata_indexes)
    return LiveIndex(live.name, live.dimensions, live.metric, metadata)


def require_same_shape(declaration: IndexDeclaration, live: LiveIndex) -> None:
    """Raise ConfigError unless the live index has the declared dimensions and metric."""
    if (live.dimensions, live.metric) == (declaration.dimensions, declaration.metric):
        return
    raise ConfigError(
        declaration.declared_in,
        "hyphae:vectorize",
        f"Vectorize index {declaration.name!r} already exists with {live.dimensions} dimensions and "
        f"metric {live.metric}, but {declaration.dimensions} dimensions and metric {declaration.metric} "
        "are declared; declare the existing shape, or choose another index name",
    )


def apply_metadata_indexes(client: Cloudflare, declaration: IndexDeclaration, live: MetadataIndexes) -> MetadataIndexes:
    """Make the index's metadata indexes exactly the declared ones. Returns the declared set."""
    declared = dict(declaration.metadata_indexes)
    existing = dict(live)
    for property_name, index_type in existing.items():
        if declared.get(property_name) != index_type:
            _call(declaration.name, f"delete metadata index {property_name!r}",
                  client.vectorize.indexes.metadata_index.delete, declaration.name,
                  account_id=declaration.account_id, property_name=property_name)
    for property_name, index_type in declared.items():
        if existing.get(property_name) != index_type:
            _call(declaration.name, f"create metadata index {property_name!r}",
                  client.vectorize.indexes.metadata_index.create, declaration.name,
                  account_id=declaration.account_id, property_name=property_name, index_type=index_type)
    return declaration.metadata_indexes


def delete_index(client: Cloudflare, account_id: str, name: str) -> bool:
    """Delete the index and every vector in it. False when it was already gone."""
    try:
        client.vectorize.indexes.delete(name, account_id=account_id)
    except cloudflare.APIStatusError as error:
        if _is_missing(error):
            return False
        raise _remote_error(name, "delete", error) from None
    except cloudflare.APIConnectionError as error:
        raise _unreachable(name, "delete", error) from None
    return True


def _create_index(client: Cloudflare, declaration: IndexDeclaration) -> LiveIndex:
    config = {"dimensions": declaration.dimensions, "metric": declaration.metric}
    try:
        client.vectorize.indexes.create(account_id=declaration.account_id, name=declaration.name, config=config)
    except cloudflare.APIStatusError as error:
        # Another run created it between our read and our create: adopt it like any existing index.
        if not _has_error_code(error, ERROR_DUPLICATE_NAME) and error.status_code != 409:
            raise _remote_error(declaration.name, "create", error) from None
    except cloudflare.APIConnectionError as error:
        raise _unreachable(declaration.name, "create", error) from None
    live = read_index(client, declaration.account_id, declaration.name)
    if live is None:
        raise RemoteApiError(f"Vectorize index {declaration.name!r}: created, but the API does not return it")
    return live


def _read_metadata_indexes(client: Cloudflare, account_id: str, name: str) -> MetadataIndexes:
    listed = _call(name, "list metadata indexes", client.vectorize.indexes.metadata_index.list, name,
                   account_id=account_id)
    entries = (listed.metadata_indexes or []) if listed is not None else []
    return tuple(sorted((entry.property_name, entry.index_type) for entry in entries))


def _call(index_name: str, operation: str, method, *args, **kwargs):
    try:
        return method(*args, **kwargs)
    except cloudflare.APIStatusError as error:
        raise _remote_error(index_name, operation, error) from None
    except cloudflare.APIConnectionError as error:
        raise _unreachable(index_name, operation, error) from None


def _is_missing(error: cloudflare.APIStatusError) -> bool:
    return error.status_code == 404 or _has_error_code(error, ERROR_INDEX_NOT_FOUND)


def _has_error_code(error: cloudflare.APIStatusError, code: int) -> bool:
    return any(entry.get("code") == code for entry in _api_errors(error))


def _api_errors(error: cloudflare.APIStatusError) -> list[dict]:
    body = error.body if isinstance(error.body, dict) else {}
    return [entry for entry in body.get("errors") or [] if isinstance(entry, dict)]


def _remote_error(index_name: str, operation: str, error: cloudflare.APIStatusError) -> RemoteApiError:
    detail = "; ".join(f"{entry.get('code')}: {entry.get('message')}" for entry in _api_errors(error))
    return RemoteApiError(
        f"Vectorize index {index_name!r}: {operation} failed with HTTP {error.status_code}"
        + (f" ({detail})" if detail else "")
    )


def _unreachable(index_name: str, operation: str, error: cloudflare.APIConnectionError) -> RemoteApiError:
    return RemoteApiError(f"Vectorize index {index_name!r}: {operation} could not reach the Cloudflare API ({error})")
