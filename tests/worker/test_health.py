"""GET /health over HTTP against the Worker on workerd: versions, bindings, token fingerprint."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from infra.environments import schema_version
from tests.worker.conftest import MCP_TOKEN

pytestmark = pytest.mark.workerd


def test_health_reports_both_schema_versions_and_the_bindings_without_auth(running_worker):
    response = httpx.get(f"{running_worker.url}/health")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["schema_version"] == schema_version()
    assert body["schema_version_applied"] == schema_version()
    assert body["sync_protocol_version"] == 2
    assert body["bindings"] == {"d1": True, "kv": True, "vectorize": True, "api_key": True}


def test_health_shows_a_short_hash_of_the_mcp_token_never_the_token(running_worker):
    response = httpx.get(f"{running_worker.url}/health")
    assert response.json()["mcp_token_sha256_prefix"] == hashlib.sha256(MCP_TOKEN.encode()).hexdigest()[:12]
    assert MCP_TOKEN not in response.text


def test_health_says_vectorize_is_unbound_locally_and_no_token_is_stored(start_worker):
    worker = start_worker(upto=schema_version())
    body = httpx.get(f"{worker.url}/health").json()
    assert body["bindings"]["vectorize"] is False
    assert body["mcp_token_sha256_prefix"] is None


def test_unknown_route_is_404_and_wrong_method_is_405(running_worker):
    assert httpx.get(f"{running_worker.url}/nope").status_code == 404
    assert httpx.get(f"{running_worker.url}/sync").status_code == 405
