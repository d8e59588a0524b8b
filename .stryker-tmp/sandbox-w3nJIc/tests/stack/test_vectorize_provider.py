"""The Vectorize dynamic provider's methods, called directly against the loopback Cloudflare API.

Under Pulumi's mocks a dynamic provider's CRUD methods never run, so they are exercised here
the way the engine calls them, with the properties the program registers for `dev`.
"""

from __future__ import annotations

import base64

import pytest
from loopback import ApiFailure, Fault
from pulumi.dynamic.dynamic import serialize_provider

from infra.environments import load_environment
from infra.errors import ConfigError, MissingCredentials, RemoteApiError
from infra.stack.vectorize import VectorizeIndexProvider, index_properties

INDEX = "myco-team-dev-vectors"


@pytest.fixture
def provider() -> VectorizeIndexProvider:
    return VectorizeIndexProvider()


@pytest.fixture
def props() -> dict:
    return index_properties(load_environment("dev"))


def _mutating_requests(api) -> int:
    return sum(count for route, count in api.requests.items()
               if route in ("vectorize.create", "vectorize.delete") or route.endswith(("metadata_index.create", "metadata_index.delete")))


def test_create_makes_the_index_with_the_declared_shape_and_metadata_indexes(provider, props, cloudflare_env):
    result = provider.create(props)

    index = cloudflare_env.vectorize.indexes[INDEX]
    assert result.id == INDEX
    assert (index.dimensions, index.metric) == (1024, "cosine")
    assert index.metadata_indexes == {"project_id": "string", "table": "string"}
    assert result.outs["metadata_indexes"] == [
        {"property_name": "project_id", "index_type": "string"}, {"property_name": "table", "index_type": "string"}]
    assert cloudflare_env.requests["vectorize.create"] == 1


def test_create_adopts_an_existing_index_of_the_same_shape_and_applies_its_metadata_indexes(provider, props, cloudflare_env):
    cloudflare_env.vectorize.add_index(INDEX, 1024, "cosine", {"table": "string", "legacy": "number"})

    result = provider.create(props)

    assert result.id == INDEX
    assert cloudflare_env.requests["vectorize.create"] == 0, "an existing index of the same shape is adopted, not created"
    assert cloudflare_env.vectorize.indexes[INDEX].metadata_indexes == {"project_id": "string", "table": "string"}
    assert cloudflare_env.vectorize.deleted == []


def test_create_refuses_an_existing_index_of_another_shape_and_changes_nothing(provider, props, cloudflare_env):
    cloudflare_env.vectorize.add_index(INDEX, 768, "euclidean", {"legacy": "number"})

    with pytest.raises(ConfigError) as raised:
        provider.create(props)

    message = str(raised.value)
    assert message.startswith("Pulumi.dev.yaml: hyphae:vectorize: ")
    assert "768 dimensions and metric euclidean" in message and "1024 dimensions and metric cosine" in message
    assert "\n" not in message
    index = cloudflare_env.vectorize.indexes[INDEX]
    assert (index.dimensions, index.metric, index.metadata_indexes) == (768, "euclidean", {"legacy": "number"})
    assert _mutating_requests(cloudflare_env) == 0


def test_a_create_that_races_another_creator_adopts_the_index_it_finds(provider, props, cloudflare_env):
    store = cloudflare_env.vectorize
    original_get = store.get
    calls = []

    def get_then_appear(name):
        # The first read finds nothing; meanwhile another run creates the same index.
        if not calls:
            calls.append(name)
            store.add_index(INDEX, 1024, "cosine")
            raise ApiFailure(400, 3000, f'vectorize.index.not_found - Index name "{name}"')
        return original_get(name)

    store.get = get_then_appear
    result = provider.create(props)

    assert result.id == INDEX
    # Refused as a duplicate (the SDK retries a 409 twice first), then adopted.
    assert cloudflare_env.requests["vectorize.create"] >= 1
    assert store.indexes[INDEX].metadata_indexes == {"project_id": "string", "table": "string"}


def test_diff_refuses_a_dimension_change_unless_replacement_is_allowed(provider, props, cloudflare_env):
    olds = provider.create(props).outs
    news = dict(props, dimensions=768)

    with pytest.raises(ConfigError) as raised:
        provider.diff(INDEX, olds, news)

    message = str(raised.value)
    assert message.startswith("Pulumi.dev.yaml: hyphae:vectorize.allowReplace: ")
    assert "dimensions 1024 -> 768" in message and "loses every vector" in message
    assert cloudflare_env.vectorize.indexes[INDEX].dimensions == 1024

    allowed = provider.diff(INDEX, olds, dict(news, allow_replace=True))
    assert allowed.changes is True
    assert allowed.replaces == ["dimensions"]
    assert allowed.delete_before_replace is True, "the same name cannot exist twice: delete first"


def test_an_allowed_replacement_deletes_the_old_index_then_creates_the_new_shape(provider, props, cloudflare_env):
    olds = provider.create(props).outs
    news = dict(props, dimensions=768, allow_replace=True)

    diff = provider.diff(INDEX, olds, news)
    assert diff.delete_before_replace is True
    # The engine's order for delete_before_replace: delete the old resource, then create the new one.
    provider.delete(INDEX, olds)
    result = provider.create(news)

    index = cloudflare_env.vectorize.indexes[INDEX]
    assert (result.id, result.outs["dimensions"], index.dimensions, index.metric) == (INDEX, 768, 768, "cosine")
    assert cloudflare_env.vectorize.deleted == [INDEX]
    assert cloudflare_env.requests["vectorize.create"] == 2


def test_diff_refuses_a_metric_change_too(provider, props, cloudflare_env):
    olds = provider.create(props).outs
    with pytest.raises(ConfigError, match="metric 'cosine' -> 'euclidean'"):
        provider.diff(INDEX, olds, dict(props, metric="euclidean"))


def test_diff_reports_no_change_for_the_same_declaration(provider, props, cloudflare_env):
    olds = provider.create(props).outs
    assert provider.diff(INDEX, olds, dict(props)).changes is False


def test_a_metadata_index_change_is_an_update_in_place(provider, props, cloudflare_env):
    olds = provider.create(props).outs
    news = dict(props, metadata_indexes=[{"property_name": "project_id", "index_type": "string"},
                                         {"property_name": "updated_at", "index_type": "number"}])

    diff = provider.diff(INDEX, olds, news)
    assert (diff.changes, diff.replaces) == (True, [])

    provider.update(INDEX, olds, news)
    assert cloudflare_env.vectorize.indexes[INDEX].metadata_indexes == {"project_id": "string", "updated_at": "number"}
    assert cloudflare_env.vectorize.deleted == []


def test_read_reports_the_live_shape_and_an_empty_id_when_the_index_is_gone(provider, props, cloudflare_env):
    provider.create(props)
    cloudflare_env.vectorize.indexes[INDEX].metric = "dot-product"  # changed outside Pulumi

    assert provider.read(INDEX, props).outs["metric"] == "dot-product"

    del cloudflare_env.vectorize.indexes[INDEX]
    assert provider.read(INDEX, props).id == ""


def test_delete_removes_the_index_and_tolerates_one_already_gone(provider, props, cloudflare_env):
    provider.create(props)

    provider.delete(INDEX, props)
    assert INDEX not in cloudflare_env.vectorize.indexes
    provider.delete(INDEX, props)  # a second delete finds nothing and succeeds
    assert cloudflare_env.vectorize.deleted == [INDEX]


def test_an_api_failure_is_one_line_naming_the_index_without_the_token(provider, props, cloudflare_env):
    # The SDK retries a 500 twice; the third failure is reported.
    cloudflare_env.inject("vectorize.get", *[Fault.status_code(500)] * 3)

    with pytest.raises(RemoteApiError) as raised:
        provider.create(props)

    message = str(raised.value)
    assert message.startswith(f"Vectorize index '{INDEX}': read failed with HTTP 500")
    assert cloudflare_env.token not in message
    assert INDEX not in cloudflare_env.vectorize.indexes


def test_without_a_token_the_provider_says_which_variable_to_set(provider, props, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(MissingCredentials, match="^CLOUDFLARE_API_TOKEN is not set"):
        provider.create(props)


def test_the_pickled_provider_holds_no_client_and_no_token(provider, props, cloudflare_env):
    provider.create(props)
    provider.read(INDEX, props)

    assert vars(provider) == {}, "the provider keeps nothing between calls"
    pickled = base64.b64decode(serialize_provider(provider))
    assert cloudflare_env.token.encode() not in pickled


def test_check_reports_each_invalid_setting(provider, props):
    bad = dict(props, dimensions=4096, metric="manhattan", index_name="Bad_Name",
               metadata_indexes=[{"property_name": "x", "index_type": "date"}])
    failures = {failure.property: failure.reason for failure in provider.check({}, bad).failures}
    assert set(failures) == {"dimensions", "metric", "index_name", "metadata_indexes"}
    assert provider.check({}, props).failures == []
