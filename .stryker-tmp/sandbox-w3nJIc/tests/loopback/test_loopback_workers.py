"""The loopback API's Worker script settings parse with the official SDK's own call."""

from __future__ import annotations

import cloudflare
import pytest
from cloudflare import Cloudflare


@pytest.fixture
def client(loopback_api):
    sdk = Cloudflare(api_token=loopback_api.token, base_url=loopback_api.base_url, max_retries=0)
    yield sdk
    sdk.close()


def test_script_settings_return_bindings_in_the_sdk_shapes(client, loopback_api):
    loopback_api.workers.deploy("myco-team-dev", [
        {"type": "d1", "name": "MYCO_TEAM_DB", "database_id": "a" * 8 + "-0000-0000-0000-" + "0" * 12},
        {"type": "kv_namespace", "name": "MYCO_SECRETS", "namespace_id": "f" * 32},
        {"type": "vectorize", "name": "MYCO_TEAM_VECTORS", "index_name": "myco-team-dev-vectors"},
        {"type": "plain_text", "name": "SYNC_PROTOCOL_VERSION", "text": "2"},
        {"type": "secret_text", "name": "MYCO_TEAM_API_KEY", "text": "never-returned"},
    ])
    settings = client.workers.scripts.script_and_version_settings.get("myco-team-dev", account_id=loopback_api.account_id)
    by_name = {binding.name: binding for binding in settings.bindings}
    assert by_name["MYCO_TEAM_DB"].type == "d1" and by_name["MYCO_TEAM_DB"].database_id.startswith("aaaaaaaa")
    assert by_name["MYCO_SECRETS"].namespace_id == "f" * 32
    assert by_name["MYCO_TEAM_VECTORS"].index_name == "myco-team-dev-vectors"
    assert by_name["SYNC_PROTOCOL_VERSION"].text == "2"
    assert "never-returned" not in settings.model_dump_json()
    assert loopback_api.requests["workers.settings"] == 1


def test_an_unknown_script_is_a_404_with_the_apis_code(client, loopback_api):
    with pytest.raises(cloudflare.NotFoundError) as raised:
        client.workers.scripts.script_and_version_settings.get("nope", account_id=loopback_api.account_id)
    assert "10007" in str(raised.value)
