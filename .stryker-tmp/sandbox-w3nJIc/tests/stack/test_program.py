"""The Pulumi program for every stack, run under Pulumi's mocks (see harness.py).

What the engine would receive for dev, staging and production: the resource set and names from
the environment model, every binding's id equal to its resource's id, protection where the
environment requires it, the API key secret everywhere, the schema version equal to the latest
migration, the Worker's bytes from the artifact with their sha256.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from infra.environments import (
    BINDING_AI,
    BINDING_API_KEY,
    BINDING_D1,
    BINDING_KV,
    BINDING_VECTORIZE,
    REMOTE_ENVIRONMENTS,
    VAR_EMBEDDING_MODEL,
    VAR_MIN_COMPAT_VERSION,
    VAR_PROTOCOL_VERSION,
    VAR_SCHEMA_VERSION,
    load_environment,
    schema_version,
)
from infra.errors import ArtifactRejected, ConfigError, UsageError
from infra.outputs import OUTPUT_KEYS
from infra.paths import REPO_ROOT

from .harness import (
    COMPONENT_TYPE,
    CRON_TYPE,
    D1_TYPE,
    KV_TYPE,
    PASSWORD_TYPE,
    SCRIPT_TYPE,
    SUBDOMAIN_TYPE,
    VECTORIZE_TYPE,
    is_secret_value,
    run_program_under_mocks,
    run_under_mocks,
    write_artifact,
)

DATA_TYPES = (D1_TYPE, KV_TYPE, VECTORIZE_TYPE)

# pulumi_cloudflare warns about its own deprecated resources when imported; none are used here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def latest_migration_number() -> int:
    """Read independently of infra.history: the highest NNNN prefix in migrations/."""
    return max(int(path.name[:4]) for path in (REPO_ROOT / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    return write_artifact(tmp_path / "dist", schema_version())


def _bindings(run) -> dict[str, dict]:
    bindings = run.of_type(SCRIPT_TYPE).inputs["bindings"]
    assert is_secret_value(bindings), "the bindings carry the API key, so Pulumi must hold them as a secret"
    return {binding["name"]: binding for binding in bindings["value"]}


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_each_stack_declares_one_component_with_its_resources_named_from_the_model(stack, artifact, monkeypatch):
    env = load_environment(stack)
    run = run_program_under_mocks(stack, artifact, monkeypatch)

    types = sorted(registration.type for registration in run.registrations)
    assert types == sorted([COMPONENT_TYPE, D1_TYPE, KV_TYPE, VECTORIZE_TYPE, PASSWORD_TYPE, SCRIPT_TYPE, SUBDOMAIN_TYPE, CRON_TYPE])
    component = run.of_type(COMPONENT_TYPE)
    assert component.name == f"hyphae-{stack}"
    for registration in run.registrations:
        if registration.type != COMPONENT_TYPE:
            assert registration.parent == component.urn, f"{registration.name} must belong to the {stack} component"
            assert registration.name.startswith(f"{stack}-"), registration.name
            assert registration.import_id == "", f"{registration.name}: {stack} declares no ids to adopt"
    assert run.of_type(D1_TYPE).inputs["name"] == env.d1.name
    assert run.of_type(D1_TYPE).inputs["primaryLocationHint"] == env.d1.location_hint
    assert run.of_type(KV_TYPE).inputs["title"] == env.kv.title
    vectors = run.of_type(VECTORIZE_TYPE).inputs
    assert (vectors["index_name"], vectors["dimensions"], vectors["metric"]) == (env.vectorize.name, 1024, "cosine")
    assert vectors["metadata_indexes"] == [{"property_name": "project_id", "index_type": "string"},
                                           {"property_name": "table", "index_type": "string"}]
    assert vectors["allow_replace"] is False and vectors["declared_in"] == f"Pulumi.{stack}.yaml"
    script = run.of_type(SCRIPT_TYPE).inputs
    assert script["scriptName"] == env.worker.name
    assert script["compatibilityDate"] == env.worker.compatibility_date
    assert run.of_type(SUBDOMAIN_TYPE).inputs["scriptName"] == env.worker.name
    cron = run.of_type(CRON_TYPE).inputs
    assert (cron["scriptName"], cron["schedules"]) == (env.worker.name, [{"cron": env.embeddings.backlog_cron}])
    assert {registration.inputs.get("accountId", registration.inputs.get("account_id"))
            for registration in run.registrations if registration.type in DATA_TYPES + (SCRIPT_TYPE,)} == {env.account_id}


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_every_binding_points_at_the_resource_registered_for_it(stack, artifact, monkeypatch):
    run = run_program_under_mocks(stack, artifact, monkeypatch)
    bindings = _bindings(run)

    assert set(bindings) == {BINDING_D1, BINDING_VECTORIZE, BINDING_KV, BINDING_AI, BINDING_API_KEY, VAR_PROTOCOL_VERSION,
                             VAR_MIN_COMPAT_VERSION, VAR_SCHEMA_VERSION, VAR_EMBEDDING_MODEL}
    # database_id: what the API returns and the SDK requires (a binding written as `id` reads back
    # as database_id, so every refresh would show a change)
    assert bindings[BINDING_D1] == {"type": "d1", "name": BINDING_D1, "databaseId": run.of_type(D1_TYPE).id}
    assert bindings[BINDING_VECTORIZE] == {"type": "vectorize", "name": BINDING_VECTORIZE, "indexName": run.of_type(VECTORIZE_TYPE).id}
    assert bindings[BINDING_KV] == {"type": "kv_namespace", "name": BINDING_KV, "namespaceId": run.of_type(KV_TYPE).id}
    assert bindings[BINDING_API_KEY]["type"] == "secret_text"
    env = load_environment(stack)
    assert bindings[BINDING_AI] == {"type": "ai", "name": BINDING_AI}
    assert bindings[VAR_PROTOCOL_VERSION] == {"type": "plain_text", "name": VAR_PROTOCOL_VERSION, "text": str(env.worker.sync_protocol_version)}
    assert bindings[VAR_MIN_COMPAT_VERSION] == {"type": "plain_text", "name": VAR_MIN_COMPAT_VERSION,
                                               "text": str(env.worker.min_compat_client_version)}
    assert bindings[VAR_EMBEDDING_MODEL] == {"type": "plain_text", "name": VAR_EMBEDDING_MODEL, "text": env.embeddings.model}


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_the_schema_version_binding_and_output_are_the_latest_migration_number(stack, artifact, monkeypatch):
    run = run_program_under_mocks(stack, artifact, monkeypatch)

    assert _bindings(run)[VAR_SCHEMA_VERSION] == {"type": "plain_text", "name": VAR_SCHEMA_VERSION, "text": str(latest_migration_number())}
    assert run.outputs["schemaVersion"] == latest_migration_number()


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_data_resources_are_protected_exactly_where_the_environment_says(stack, artifact, monkeypatch):
    run = run_program_under_mocks(stack, artifact, monkeypatch)
    protected = {registration.type for registration in run.registrations if registration.protect}

    if stack in ("staging", "production"):
        assert protected == set(DATA_TYPES), f"{stack}: D1, KV and Vectorize must be protected, nothing else"
    else:
        assert protected == set(), "dev can be torn down"
    assert load_environment(stack).protect == (stack != "dev")


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_the_api_key_is_secret_in_the_binding_and_the_output_and_plain_nowhere(stack, artifact, monkeypatch):
    run = run_program_under_mocks(stack, artifact, monkeypatch)
    key = run.generated_api_key

    assert key and _bindings(run)[BINDING_API_KEY]["text"] == key
    assert run.outputs["apiKey"] == key
    assert run.secret_outputs == {"apiKey"}, "only the API key output is secret"
    for registration in run.registrations:
        if registration.type == PASSWORD_TYPE:
            continue  # the generator itself; the engine stores its result encrypted
        plain = {name: value for name, value in registration.inputs.items() if not is_secret_value(value)}
        assert key not in json.dumps(plain), f"{registration.name} carries the API key outside a secret"


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_stack_outputs_are_the_ones_the_outputs_reader_reads(stack, artifact, monkeypatch):
    env = load_environment(stack)
    run = run_program_under_mocks(stack, artifact, monkeypatch)

    assert set(run.outputs) == set(OUTPUT_KEYS.values()) | {"apiKey"}
    assert run.outputs["databaseId"] == run.of_type(D1_TYPE).id
    assert run.outputs["databaseName"] == env.d1.name
    assert run.outputs["indexName"] == env.vectorize.name
    assert run.outputs["kvNamespaceId"] == run.of_type(KV_TYPE).id
    assert run.outputs["workerName"] == env.worker.name
    assert run.outputs["workerUrl"] == f"https://{env.worker.name}.{env.workers_dev_subdomain}.workers.dev"


def test_the_worker_uploads_the_artifacts_main_module_with_its_sha256(artifact, monkeypatch):
    run = run_program_under_mocks("production", artifact, monkeypatch)
    script = run.of_type(SCRIPT_TYPE).inputs

    assert script["mainModule"] == "worker.js"
    assert script["contentFile"] == str((artifact / "worker.js").resolve())
    assert script["contentSha256"] == hashlib.sha256((artifact / "worker.js").read_bytes()).hexdigest()
    assert "content" not in script, "the Worker's bytes come from the artifact file only"


def _stack_root(tmp_path: Path, stack: str, edit) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "hyphae.defaults.yaml", root)
    data = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    edit(data["config"])
    (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data))
    return root


def test_ids_declared_in_the_stack_file_become_import_options(tmp_path, artifact):
    from infra.stack.program import build_environment, stack_outputs

    database_id, namespace_id = "6f1c2a3e-1111-4222-8333-944445555666", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

    def adopt(config):
        config["hyphae:d1"]["databaseId"] = database_id
        config["hyphae:kv"]["namespaceId"] = namespace_id
        config["hyphae:worker"]["adoptExisting"] = True

    env = load_environment("staging", _stack_root(tmp_path, "staging", adopt))
    run = run_under_mocks("staging", lambda: stack_outputs(build_environment(env, artifact)))

    account = env.account_id
    assert run.of_type(D1_TYPE).import_id == f"{account}/{database_id}"
    assert run.of_type(KV_TYPE).import_id == f"{account}/{namespace_id}"
    assert run.of_type(SCRIPT_TYPE).import_id == f"{account}/{env.worker.name}"
    assert run.of_type(SUBDOMAIN_TYPE).import_id == f"{account}/{env.worker.name}"
    assert run.of_type(VECTORIZE_TYPE).import_id == "", "the Vectorize provider adopts by name itself"
    assert _bindings(run)[BINDING_D1]["databaseId"] == database_id
    # the hint is never read back for an imported database: declaring it would plan a replace (a delete)
    assert env.d1.location_hint == "weur" and run.of_type(D1_TYPE).inputs.get("primaryLocationHint") is None
    assert _bindings(run)[BINDING_KV]["namespaceId"] == namespace_id
    assert all(run.of_type(type_).protect for type_ in DATA_TYPES), "adopted data stays protected"


@pytest.mark.parametrize("stack, protect", [("dev", True), ("staging", False)])
def test_protection_follows_the_stack_files_setting_not_the_stack_name(tmp_path, artifact, stack, protect):
    from infra.stack.program import build_environment, stack_outputs

    env = load_environment(stack, _stack_root(tmp_path, stack, lambda config: config.update({"hyphae:protect": protect})))
    run = run_under_mocks(stack, lambda: stack_outputs(build_environment(env, artifact)))

    protected = {registration.type for registration in run.registrations if registration.protect}
    assert protected == (set(DATA_TYPES) if protect else set())


def test_the_local_environment_is_not_a_pulumi_stack(artifact):
    from infra.stack.program import build_environment

    with pytest.raises(UsageError, match="the local environment is not a Pulumi stack; run `invoke local`"):
        build_environment(load_environment("local"), artifact)


def test_a_worker_on_workers_dev_needs_the_accounts_subdomain(tmp_path, artifact):
    from infra.stack.program import build_environment

    env = load_environment("dev", _stack_root(tmp_path, "dev", lambda config: config.pop("hyphae:workersDevSubdomain")))
    with pytest.raises(ConfigError) as raised:
        build_environment(env, artifact)
    assert str(raised.value).startswith("Pulumi.dev.yaml: hyphae:workersDevSubdomain: required while")


def test_an_artifact_built_for_another_schema_version_is_refused(tmp_path):
    from infra.stack.program import read_worker_content

    stale = write_artifact(tmp_path / "stale", schema_version() - 1)
    with pytest.raises(ArtifactRejected) as raised:
        read_worker_content(stale, schema_version())
    message = str(raised.value)
    assert f"built for schema version {schema_version() - 1}, but migrations/ is at {schema_version()}" in message
    assert message.endswith("rebuild with `invoke build`")


def test_a_missing_artifact_says_how_to_build_it(tmp_path):
    from infra.stack.program import read_worker_content

    with pytest.raises(ArtifactRejected, match="missing; build the artifact with `invoke build`"):
        read_worker_content(tmp_path / "nothing-here", schema_version())


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_the_data_stage_registers_the_data_resources_at_the_urns_invoke_up_targets(stack, artifact, monkeypatch):
    from infra.stack.names import data_resource_urns

    full = run_program_under_mocks(stack, artifact, monkeypatch)
    monkeypatch.setenv("HYPHAE_DEPLOY_STAGE", "data")
    data = run_program_under_mocks(stack, tmp_path_without_artifact(artifact), monkeypatch)

    wanted = [COMPONENT_TYPE, D1_TYPE, KV_TYPE, VECTORIZE_TYPE]
    assert sorted(registration.type for registration in data.registrations) == sorted(wanted)
    assert [engine_urn(data.of_type(type_).urn) for type_ in wanted] == data_resource_urns(stack)
    assert [engine_urn(full.of_type(type_).urn) for type_ in wanted] == data_resource_urns(stack), \
        "the data stage must not move a resource: same URNs as the full program"
    assert sorted(data.outputs) == ["databaseId", "databaseName", "indexName", "kvNamespaceId"]
    assert data.of_type(D1_TYPE).protect == load_environment(stack).protect


def tmp_path_without_artifact(artifact: Path) -> Path:
    """The data stage reads no artifact: give it a folder that has none."""
    empty = artifact.parent / "no-artifact"
    empty.mkdir(exist_ok=True)
    return empty


def engine_urn(mock_urn: str) -> str:
    """The URN the real engine gives a resource the mocks registered: Python's MockMonitor keeps
    the root stack's type in a top-level child's URN, the engine leaves it out (pulumi/pulumi
    pkg/resource/deploy/deployment.go generateURN: "don't use the root stack type")."""
    return mock_urn.replace("::pulumi:pulumi:Stack$", "::", 1)
