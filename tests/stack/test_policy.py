"""Each policy of the pack, called directly with a compliant and a violating resource.

Compliant resources are the ones the real program registers under Pulumi's mocks (so the pack
and the program are checked against each other); violating ones are those with one thing changed.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from infra.environments import REMOTE_ENVIRONMENTS, load_environment, schema_version
from infra.stack.policy import rules

from .harness import (
    D1_TYPE,
    KV_TYPE,
    SCRIPT_TYPE,
    VECTORIZE_TYPE,
    run_program_under_mocks,
    run_under_mocks,
    unwrap_secrets,
    write_artifact,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    return write_artifact(tmp_path / "dist", schema_version())


@pytest.fixture
def production(artifact, monkeypatch):
    return run_program_under_mocks("production", artifact, monkeypatch)


def _options(protect: bool, parent: str = "") -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def resource_args(registration, *, protect: bool | None = None, props: dict | None = None) -> ResourceValidationArgs:
    chosen = registration.protect if protect is None else protect
    values = unwrap_secrets(registration.inputs) if props is None else props
    return ResourceValidationArgs(registration.type, values, registration.urn, registration.name,
                                  _options(chosen, registration.parent), None)


def stack_args(registrations) -> StackValidationArgs:
    """The stack as the policy engine presents it: outputs, parents and property dependencies."""
    resources = {registration.urn: PolicyResource(
        registration.type, unwrap_secrets(registration.state), registration.urn, registration.name,
        _options(registration.protect, registration.parent), None, None, [], {},
    ) for registration in registrations}
    for registration in registrations:
        resource = resources[registration.urn]
        resource.parent = resources.get(registration.parent)
        resource.property_dependencies = {key: [resources[urn] for urn in urns if urn in resources]
                                          for key, urns in registration.property_dependencies.items()}
    return StackValidationArgs(list(resources.values()))


def violations_of(policy_name: str, args) -> list[str]:
    (policy,) = [policy for policy in rules.POLICIES if policy.name == policy_name]
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def _script_props(run) -> dict:
    return unwrap_secrets(run.of_type(SCRIPT_TYPE).inputs)


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_the_program_satisfies_every_policy_on_every_stack(stack, artifact, monkeypatch):
    run = run_program_under_mocks(stack, artifact, monkeypatch)
    for policy in rules.POLICIES:
        if policy.name == "bindings-in-same-environment":
            assert violations_of(policy.name, stack_args(run.registrations)) == []
        else:
            for registration in run.registrations:
                assert violations_of(policy.name, resource_args(registration)) == [], f"{policy.name} on {registration.name}"


@pytest.mark.parametrize("data_type", [D1_TYPE, KV_TYPE, VECTORIZE_TYPE])
def test_production_data_must_be_protected(production, data_type):
    registration = production.of_type(data_type)
    assert violations_of("protected-data-resources", resource_args(registration, protect=True)) == []

    (message,) = violations_of("protected-data-resources", resource_args(registration, protect=False))
    assert message.startswith(f"{registration.name} (") and "must be protected; set hyphae:protect: true" in message


def test_dev_data_may_be_unprotected(artifact, monkeypatch):
    dev = run_program_under_mocks("dev", artifact, monkeypatch)
    assert violations_of("protected-data-resources", resource_args(dev.of_type(D1_TYPE), protect=False)) == []


def test_the_worker_must_come_from_an_artifact_file_with_its_sha256(production):
    script = production.of_type(SCRIPT_TYPE)
    inline = dict(_script_props(production), content="export default {}", contentSha256="not-a-hash")
    inline.pop("contentFile")

    found = violations_of("worker-content-from-artifact", resource_args(script, props=inline))
    assert [message.split(": ", 1)[1].split(";")[0] for message in found] == [
        "inline `content` is not allowed", "no content_file", "content_sha256 must be the artifact manifest's sha256 (64 hex digits)"]

    no_module = dict(_script_props(production), mainModule="")
    assert violations_of("worker-content-from-artifact", resource_args(script, props=no_module)) == [
        f"{script.name}: main_module is required, else bindings fail (pulumi-cloudflare #1309)"]


@pytest.mark.parametrize("date", [None, "", "latest", "2026-13-01", "2026-4-1"])
def test_the_compatibility_date_must_be_a_pinned_calendar_date(production, date):
    script = production.of_type(SCRIPT_TYPE)
    assert violations_of("compatibility-date-pinned", resource_args(script)) == []

    (message,) = violations_of("compatibility-date-pinned", resource_args(script, props=dict(_script_props(production), compatibilityDate=date)))
    assert f"compatibility date {date!r} is not a pinned YYYY-MM-DD date" in message


@pytest.mark.parametrize("name", ["MYCO_TEAM_API_KEY", "STRIPE_TOKEN", "webhook_secret"])
def test_a_binding_holding_a_secret_must_be_secret_text(production, name):
    script = production.of_type(SCRIPT_TYPE)
    props = _script_props(production)
    props["bindings"] = [binding for binding in props["bindings"] if binding["name"] != name]
    compliant = copy.deepcopy(props)
    compliant["bindings"].append({"type": "secret_text", "name": name, "text": "x"})
    assert violations_of("secret-bindings-secret", resource_args(script, props=compliant)) == []

    props["bindings"].append({"type": "plain_text", "name": name, "text": "x"})
    assert violations_of("secret-bindings-secret", resource_args(script, props=props)) == [
        f"{script.name}: binding {name} holds a secret but is plain_text; make it secret_text"]


def _edit_script(run, edit) -> list:
    registrations = copy.deepcopy(run.registrations)
    script = next(registration for registration in registrations if registration.type == SCRIPT_TYPE)
    edit(script, registrations)
    return registrations


def test_a_typed_in_database_id_is_not_a_binding_to_this_environment(production):
    def type_in_id(script, _registrations):
        bindings = script.state["bindings"]["value"]
        next(binding for binding in bindings if binding["type"] == "d1")["databaseId"] = "11111111-2222-3333-4444-555555555555"

    (message,) = violations_of("bindings-in-same-environment", stack_args(_edit_script(production, type_in_id)))
    assert message.startswith("production-worker: binding MYCO_TEAM_DB (d1) is not wired to a D1Database of the same environment")


def test_a_d1_binding_from_older_state_written_with_id_is_still_read(production):
    def write_as_older_state(script, _registrations):
        binding = next(binding for binding in script.state["bindings"]["value"] if binding["type"] == "d1")
        binding["id"] = binding.pop("databaseId")

    assert violations_of("bindings-in-same-environment", stack_args(_edit_script(production, write_as_older_state))) == []


def test_an_adopted_database_must_not_declare_a_location_hint(tmp_path, artifact, monkeypatch):
    import shutil

    import yaml

    from infra.paths import REPO_ROOT
    from infra.stack.program import build_environment, stack_outputs

    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "hyphae.defaults.yaml", root)
    data = yaml.safe_load((REPO_ROOT / "Pulumi.staging.yaml").read_text())
    data["config"]["hyphae:d1"]["databaseId"] = "6f1c2a3e-1111-4222-8333-944445555666"
    (root / "Pulumi.staging.yaml").write_text(yaml.safe_dump(data))
    adopted = load_environment("staging", root)
    monkeypatch.setattr(rules, "load_environment", lambda name: load_environment(name, root))
    staging = run_under_mocks("staging", lambda: stack_outputs(build_environment(adopted, artifact)))
    database = staging.of_type(D1_TYPE)
    assert violations_of("adopted-database-without-location-hint", resource_args(database)) == []

    hinted = dict(unwrap_secrets(database.inputs), primaryLocationHint="weur")
    (message,) = violations_of("adopted-database-without-location-hint", resource_args(database, props=hinted))
    assert message == ("staging-database: the D1 database is adopted (hyphae:d1.databaseId in Pulumi.staging.yaml) but "
                       "declares primary_location_hint 'weur'; the provider never reads it back and would replace "
                       "(delete) the database: do not pass a location hint for an adopted database")


def test_a_database_created_by_the_stack_may_declare_a_location_hint(production):
    database = production.of_type(D1_TYPE)
    assert unwrap_secrets(database.inputs)["primaryLocationHint"] == "weur"
    assert violations_of("adopted-database-without-location-hint", resource_args(database)) == []


def test_a_binding_to_another_environments_resource_is_refused(production):
    def move_kv_elsewhere(_script, registrations):
        kv = next(registration for registration in registrations if registration.type == KV_TYPE)
        kv.parent = kv.parent.replace("hyphae-production", "hyphae-staging")

    (message,) = violations_of("bindings-in-same-environment", stack_args(_edit_script(production, move_kv_elsewhere)))
    assert "binding MYCO_SECRETS (kv_namespace) is not wired to a WorkersKvNamespace of the same environment" in message


def test_a_binding_without_a_dependency_on_its_resource_is_refused(production):
    def drop_dependencies(script, _registrations):
        script.property_dependencies["bindings"] = []

    found = violations_of("bindings-in-same-environment", stack_args(_edit_script(production, drop_dependencies)))
    assert [message.split(" is not wired")[0] for message in found] == [
        "production-worker: binding MYCO_TEAM_DB (d1)", "production-worker: binding MYCO_TEAM_VECTORS (vectorize)",
        "production-worker: binding MYCO_SECRETS (kv_namespace)"]


def test_the_pack_runs_in_the_repositorys_virtualenv_and_names_each_policy_once():
    import yaml

    from infra.paths import REPO_ROOT

    pack = REPO_ROOT / "infra" / "stack" / "policy"
    settings = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
    assert settings["runtime"]["name"] == "python"
    assert (pack / settings["runtime"]["options"]["virtualenv"]).resolve() == (REPO_ROOT / ".venv").resolve()
    names = [policy.name for policy in rules.POLICIES]
    assert len(names) == len(set(names)) == 8


def test_unprotected_data_is_refused_with_its_resource_kind_and_the_setting(production):
    """Guards against the message losing the resource's kind or the setting that fixes it."""
    registration = production.of_type(D1_TYPE)
    assert violations_of("protected-data-resources", resource_args(registration, protect=False)) == [
        f"{registration.name} (D1Database) holds production data and must be protected; "
        "set hyphae:protect: true in the stack file"]


def test_an_unpinned_compatibility_date_names_the_setting_to_fix(production):
    """Guards against the message losing where the date is set."""
    script = production.of_type(SCRIPT_TYPE)
    props = dict(_script_props(production), compatibilityDate="latest")
    assert violations_of("compatibility-date-pinned", resource_args(script, props=props)) == [
        f"{script.name}: compatibility date 'latest' is not a pinned YYYY-MM-DD date; "
        "set hyphae:worker.compatibilityDate in hyphae.defaults.yaml"]


def test_a_plain_text_binding_without_a_name_is_not_taken_for_a_secret(production):
    """Guards against a nameless binding crashing the secret rule (the policy would error, not judge)."""
    script = production.of_type(SCRIPT_TYPE)
    props = _script_props(production)
    props["bindings"] = props["bindings"] + [{"type": "plain_text", "text": "x"}]
    assert violations_of("secret-bindings-secret", resource_args(script, props=props)) == []


def _violations_with_urns(args) -> list[tuple[str, str | None]]:
    (policy,) = [policy for policy in rules.POLICIES if policy.name == "bindings-in-same-environment"]
    found: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


def test_a_binding_not_wired_to_its_environment_is_reported_in_full_against_the_worker(production):
    """Guards against a stack violation attached to no resource (the engine would not name the
    Worker) and against the message losing the resource kind or what to do."""
    def type_in_id(script, _registrations):
        bindings = script.state["bindings"]["value"]
        next(binding for binding in bindings if binding["type"] == "d1")["databaseId"] = "11111111-2222-3333-4444-555555555555"

    registrations = _edit_script(production, type_in_id)
    script = next(registration for registration in registrations if registration.type == SCRIPT_TYPE)
    assert _violations_with_urns(stack_args(registrations)) == [(
        "production-worker: binding MYCO_TEAM_DB (d1) is not wired to a D1Database of the same environment; "
        "bind that resource's output, never a typed-in or other environment's id", script.urn)]


def test_bindings_after_one_of_another_type_are_still_checked(production):
    """Guards against the check stopping at the first binding that is not a resource (a plain-text
    variable listed first would hide a typed-in database id after it)."""
    def variable_first_then_typed_in_id(script, _registrations):
        bindings = script.state["bindings"]["value"]
        next(binding for binding in bindings if binding["type"] == "d1")["databaseId"] = "11111111-2222-3333-4444-555555555555"
        bindings.insert(0, {"type": "plain_text", "name": "MYCO_NOTE", "text": "x"})

    found = violations_of("bindings-in-same-environment", stack_args(_edit_script(production, variable_first_then_typed_in_id)))
    assert [message.split(" is not wired")[0] for message in found] == ["production-worker: binding MYCO_TEAM_DB (d1)"]


def test_a_worker_without_any_binding_dependency_or_database_id_is_refused_not_crashed(production):
    """Guards against the rule crashing (not reporting) when the engine gives no `bindings`
    dependency at all, or a D1 binding carries no id in any field."""
    def no_dependency_no_id(script, _registrations):
        del script.property_dependencies["bindings"]
        binding = next(binding for binding in script.state["bindings"]["value"] if binding["type"] == "d1")
        binding.pop("databaseId", None)
        binding.pop("id", None)

    found = violations_of("bindings-in-same-environment", stack_args(_edit_script(production, no_dependency_no_id)))
    assert [message.split(" is not wired")[0] for message in found] == [
        "production-worker: binding MYCO_TEAM_DB (d1)", "production-worker: binding MYCO_TEAM_VECTORS (vectorize)",
        "production-worker: binding MYCO_SECRETS (kv_namespace)"]


def test_a_worker_and_resources_outside_any_environment_component_can_be_wired(production):
    """Guards against the rule failing on a Worker registered without a parent component (it
    compares parents, and both sides then have none)."""
    def without_components(_script, registrations):
        for registration in registrations:
            registration.parent = ""

    assert violations_of("bindings-in-same-environment", stack_args(_edit_script(production, without_components))) == []
