"""Vectorize v2 on the loopback API: indexes (create, list, get, delete) and their metadata indexes.

What the Pulumi dynamic provider calls, with the platform's rules: an index's name is its id and
is unique per account; its dimensions (1 to 1536) and metric are fixed at creation; metadata
indexes are separate objects (at most 10 per index). Vectorize reports its own failures with
error codes in the envelope: 3000 `vectorize.index.not_found` (sent with HTTP 400, as the API
does, so clients must read the code, not only the status) and 3002
`vectorize.index.duplicate_name`, the messages public clients match on.

State is in memory: `api.vectorize.indexes[name]`. `add_index` seeds one, as if made earlier
with wrangler.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .server import ApiFailure, LoopbackApi, LoopbackRequest

INDEXES = "/accounts/{account_id}/vectorize/v2/indexes"
INDEX = INDEXES + "/{index_name}"

ERROR_NOT_FOUND = 3000
ERROR_DUPLICATE_NAME = 3002
ERROR_INVALID = 40001  # a malformed create or metadata index request
METRICS = ("cosine", "euclidean", "dot-product")
INDEX_TYPES = ("string", "number", "boolean")
MAX_DIMENSIONS = 1536
MAX_METADATA_INDEXES = 10


@dataclass
class Index:
    name: str
    dimensions: int
    metric: str
    description: str = ""
    created_on: str = field(default_factory=lambda: _now())
    metadata_indexes: dict[str, str] = field(default_factory=dict)  # property name -> type

    def describe(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "config": {"dimensions": self.dimensions, "metric": self.metric},
            "created_on": self.created_on,
            "modified_on": self.created_on,
        }


class VectorizeStore:
    """The loopback account's Vectorize indexes."""

    def __init__(self) -> None:
        self.indexes: dict[str, Index] = {}
        self.deleted: list[str] = []
        self._lock = threading.Lock()
        self._mutations = itertools.count(1)

    def add_index(self, name: str, dimensions: int, metric: str, metadata_indexes: dict[str, str] | None = None) -> Index:
        """Seed an index, as if it had been made earlier outside hyphae (e.g. with wrangler)."""
        index = Index(name, dimensions, metric, metadata_indexes=dict(metadata_indexes or {}))
        with self._lock:
            self.indexes[name] = index
        return index

    def create(self, body: dict) -> dict:
        name, config = body.get("name"), body.get("config") or {}
        dimensions, metric = config.get("dimensions"), config.get("metric")
        if not isinstance(name, str) or not name:
            raise ApiFailure(400, ERROR_INVALID, "vectorize.invalid_request - name is required")
        if not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
            raise ApiFailure(400, ERROR_INVALID, f"vectorize.invalid_request - dimensions must be 1 to {MAX_DIMENSIONS}")
        if metric not in METRICS:
            raise ApiFailure(400, ERROR_INVALID, f"vectorize.invalid_request - metric must be one of {', '.join(METRICS)}")
        with self._lock:
            if name in self.indexes:
                raise ApiFailure(409, ERROR_DUPLICATE_NAME, f'vectorize.index.duplicate_name - Index name "{name}"')
            self.indexes[name] = Index(name, dimensions, metric, body.get("description") or "")
            return self.indexes[name].describe()

    def get(self, name: str) -> Index:
        with self._lock:
            index = self.indexes.get(name)
        if index is None:
            raise ApiFailure(400, ERROR_NOT_FOUND, f'vectorize.index.not_found - Index name "{name}"')
        return index

    def delete(self, name: str) -> None:
        with self._lock:
            if self.indexes.pop(name, None) is None:
                raise ApiFailure(400, ERROR_NOT_FOUND, f'vectorize.index.not_found - Index name "{name}"')
            self.deleted.append(name)

    def create_metadata_index(self, name: str, body: dict) -> dict:
        index = self.get(name)
        property_name, index_type = body.get("propertyName"), body.get("indexType")
        if not property_name or index_type not in INDEX_TYPES:
            raise ApiFailure(400, ERROR_INVALID, "vectorize.invalid_request - propertyName and indexType are required")
        with self._lock:
            if property_name not in index.metadata_indexes and len(index.metadata_indexes) >= MAX_METADATA_INDEXES:
                raise ApiFailure(400, ERROR_INVALID, f"vectorize.invalid_request - at most {MAX_METADATA_INDEXES} metadata indexes")
            index.metadata_indexes[property_name] = index_type
        return self._mutation()

    def delete_metadata_index(self, name: str, body: dict) -> dict:
        index = self.get(name)
        with self._lock:
            if index.metadata_indexes.pop(body.get("propertyName"), None) is None:
                raise ApiFailure(400, ERROR_INVALID, f"vectorize.invalid_request - no metadata index {body.get('propertyName')!r}")
        return self._mutation()

    def list_metadata_indexes(self, name: str) -> dict:
        index = self.get(name)
        entries = [{"propertyName": key, "indexType": value} for key, value in sorted(index.metadata_indexes.items())]
        return {"metadataIndexes": entries}

    def _mutation(self) -> dict:
        return {"mutationId": f"mutation-{next(self._mutations):06d}"}


def install(api: LoopbackApi, root: Path) -> VectorizeStore:
    """Register Vectorize's routes on `api`; the store is reachable as `api.vectorize`."""
    store = VectorizeStore()

    @api.route("POST", INDEXES, "vectorize.create")
    def create(request: LoopbackRequest):
        return store.create(request.json())

    @api.route("GET", INDEXES, "vectorize.list")
    def list_indexes(request: LoopbackRequest):
        return [index.describe() for index in list(store.indexes.values())]

    @api.route("GET", INDEX, "vectorize.get")
    def get(request: LoopbackRequest):
        return store.get(request.path_params["index_name"]).describe()

    @api.route("DELETE", INDEX, "vectorize.delete")
    def delete(request: LoopbackRequest):
        store.delete(request.path_params["index_name"])
        return None

    @api.route("POST", INDEX + "/metadata_index/create", "vectorize.metadata_index.create")
    def create_metadata_index(request: LoopbackRequest):
        return store.create_metadata_index(request.path_params["index_name"], request.json())

    @api.route("GET", INDEX + "/metadata_index/list", "vectorize.metadata_index.list")
    def list_metadata_indexes(request: LoopbackRequest):
        return store.list_metadata_indexes(request.path_params["index_name"])

    @api.route("POST", INDEX + "/metadata_index/delete", "vectorize.metadata_index.delete")
    def delete_metadata_index(request: LoopbackRequest):
        return store.delete_metadata_index(request.path_params["index_name"], request.json())

    return store


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
