"""Bindings drift as pure comparisons: declared against deployed, the local config, parity."""

from __future__ import annotations

import pytest

from infra.drift.bindings import (
    Binding,
    binding_findings,
    declared_bindings,
    local_config_findings,
    parity_findings,
    read_deployed_bindings,
    resource_owners,
    rotation_findings,
)
from infra.drift.findings import DriftFinding
from infra.environments import load_environment
from infra.outputs import StackOutputs
from infra.render import plan_local_config, render_local_config


def outputs(database_id="db-staging", kv="5" * 32, schema_version=None) -> StackOutputs:
    return StackOutputs(database_id, "myco-team-staging", "myco-team-staging-vectors", kv, "myco-team-staging",
                        None, schema_version)


def test_declared_bindings_come_from_the_environment_model_and_outputs():
    declared = declared_bindings(load_environment("staging"), outputs(schema_version=5))
    assert declared["MYCO_TEAM_DB"] == Binding("MYCO_TEAM_DB", "d1", "db-staging")
    assert declared["MYCO_TEAM_VECTORS"] == Binding("MYCO_TEAM_VECTORS", "vectorize", "myco-team-staging-vectors")
    assert declared["MYCO_TEAM_API_KEY"] == Binding("MYCO_TEAM_API_KEY", "secret_text", None)
    assert declared["MYCO_SCHEMA_VERSION"].target == "5"


def test_deployed_bindings_never_carry_a_secret_value():
    deployed = read_deployed_bindings({"bindings": [
        {"type": "secret_text", "name": "MYCO_TEAM_API_KEY", "text": "s3cret"},
        {"type": "d1", "name": "MYCO_TEAM_DB", "database_id": "db-1"},
    ]})
    assert deployed["MYCO_TEAM_API_KEY"] == Binding("MYCO_TEAM_API_KEY", "secret_text", None)
    assert deployed["MYCO_TEAM_DB"].target == "db-1"


def test_a_d1_binding_is_read_from_database_id_and_from_the_older_id():
    deployed = read_deployed_bindings({"bindings": [
        {"type": "d1", "name": "NEW", "database_id": "db-new"},
        {"type": "d1", "name": "OLD", "id": "db-old"},
        {"type": "d1", "name": "BOTH", "id": "db-old", "database_id": "db-new"},
    ]})
    assert {name: binding.target for name, binding in deployed.items()} == {"NEW": "db-new", "OLD": "db-old", "BOTH": "db-new"}


def test_a_changed_plain_text_var_and_a_changed_type_are_reported():
    declared = {"SYNC_PROTOCOL_VERSION": Binding("SYNC_PROTOCOL_VERSION", "plain_text", "2"),
                "MYCO_SECRETS": Binding("MYCO_SECRETS", "kv_namespace", None)}
    deployed = {"SYNC_PROTOCOL_VERSION": Binding("SYNC_PROTOCOL_VERSION", "plain_text", "1"),
                "MYCO_SECRETS": Binding("MYCO_SECRETS", "plain_text", "x")}
    findings = binding_findings("dev", declared, deployed, {})
    assert [(f.code, f.object, f.detail) for f in findings] == [
        ("BND002", "binding SYNC_PROTOCOL_VERSION", "repository plain_text text=2, live plain_text text=1"),
        ("BND002", "binding MYCO_SECRETS", "repository kv_namespace, live plain_text text=x"),
    ]


def test_a_resource_unknown_yet_is_compared_by_type_only():
    declared = {"MYCO_TEAM_DB": Binding("MYCO_TEAM_DB", "d1", None)}
    assert binding_findings("dev", declared, {"MYCO_TEAM_DB": Binding("MYCO_TEAM_DB", "d1", "any")}, {}) == []


def test_owners_name_the_environment_a_resource_belongs_to():
    declared = {"production": {"MYCO_TEAM_DB": Binding("MYCO_TEAM_DB", "d1", "db-prod")}}
    assert resource_owners(declared) == {("d1", "db-prod"): "production"}


def test_parity_needs_two_deployed_workers_to_compare_names():
    one = {"staging": {"A": Binding("A", "plain_text", "1")}}
    assert parity_findings({}, one) == []


def test_the_local_config_matches_a_fresh_render_or_says_what_differs(tmp_path):
    env = load_environment("local")
    fresh = render_local_config(plan_local_config(env, schema_version=5))
    committed = tmp_path / "wrangler.local.jsonc"
    committed.write_text(fresh)
    assert local_config_findings(committed, fresh) == []
    committed.write_text(fresh.replace('"MYCO_SCHEMA_VERSION": "5"', '"MYCO_SCHEMA_VERSION": "4"'))
    [finding] = local_config_findings(committed, fresh)
    assert (finding.code, finding.change, finding.object) == ("CFG001", "changed", "file wrangler.local.jsonc")
    vars_then = ('"SYNC_PROTOCOL_VERSION": "3", "MIN_COMPAT_CLIENT_VERSION": "1", "MYCO_SCHEMA_VERSION": "{}", "EMBEDDING_MODEL": "@cf/baai/bge-m3", '
                 '"D1_QUERY_BUDGET": "1000", "SUBREQUEST_BUDGET": "1000", "MAX_BODY_BYTES": "16777216"')
    assert finding.detail == f"vars: repository {{{vars_then.format(5)}}}, committed {{{vars_then.format(4)}}}"
    committed.unlink()
    assert [f.change for f in local_config_findings(committed, fresh)] == ["missing"]


def test_local_config_differences_name_every_key_and_the_fix(tmp_path):
    """Guards against a key only one side has going unreported, several changes run together,
    a comment-only edit or invalid JSONC reported vaguely, or the finding losing its cause and fix."""
    fresh = '// rendered by hyphae\n{"name": "w", "main": "src/index.ts", "compatibility_date": "2026-01-01"}\n'
    committed = tmp_path / "wrangler.local.jsonc"
    committed.write_text('{"name": "x", "main": "src/index.ts", "extra": 1}\n')
    [finding] = local_config_findings(committed, fresh)
    assert finding == DriftFinding(
        "CFG001", "local", "config", "changed", "file wrangler.local.jsonc",
        'compatibility_date: repository "2026-01-01", committed null; extra: repository null, committed 1; '
        'name: repository "w", committed "x"',
        "edited by hand or not re-rendered", "regenerate it with `invoke render` and commit it; never edit it by hand")
    committed.write_text(fresh.replace("// rendered by hyphae", "// edited"))
    assert local_config_findings(committed, fresh)[0].detail == "comments or layout differ from the render"
    committed.write_text(fresh.replace('"w",', '"w"'))
    assert local_config_findings(committed, fresh)[0].detail == "not valid JSONC at line 2"
    committed.unlink()
    assert local_config_findings(committed, fresh) == [DriftFinding(
        "CFG001", "local", "config", "missing", "file wrangler.local.jsonc", "not committed", "",
        "regenerate it with `invoke render` and commit it; never edit it by hand")]


GENERATION, PREVIOUS, EXPIRES = "MYCO_TEAM_AUTH_GENERATION", "MYCO_TEAM_API_KEY_PREVIOUS", "MYCO_TEAM_AUTH_PREVIOUS_EXPIRES"


def _rotation(declared: dict, deployed: dict) -> list[DriftFinding]:
    return rotation_findings("staging", declared, deployed, binding_findings("staging", declared, deployed, {}))


def test_a_rotation_declared_not_deployed_explains_the_generation_and_the_unbound_previous_key():
    """Guards against a pending rotation being reported as drift (BND001/BND002) instead of one
    ROT001 notice, or the notice losing what it says and how to settle it."""
    declared = {GENERATION: Binding(GENERATION, "plain_text", "3"), PREVIOUS: Binding(PREVIOUS, "secret_text", None),
                EXPIRES: Binding(EXPIRES, "plain_text", "2026-12-01T00:00:00Z")}
    deployed = {GENERATION: Binding(GENERATION, "plain_text", "2")}
    assert _rotation(declared, deployed) == [DriftFinding(
        "ROT001", "staging", "bindings", "pending", "team key", "generation 3 declared, generation 2 deployed",
        "a rotation not deployed yet",
        "`invoke up --env staging` deploys it; then teammates re-join with the new key (docs/credentials.md)", "notice")]


@pytest.mark.parametrize("live", ["1", "3", "x"])
def test_a_generation_not_one_behind_stays_drift(live):
    """Guards against a generation two behind, ahead, or not a number passing as a pending rotation."""
    declared = {GENERATION: Binding(GENERATION, "plain_text", "3")}
    deployed = {GENERATION: Binding(GENERATION, "plain_text", live)}
    expected = [] if live == "3" else ["BND002"]
    assert [finding.code for finding in _rotation(declared, deployed)] == expected


def test_a_previous_key_left_bound_is_one_notice_with_or_without_its_expiry():
    """Guards against a stale previous key being drift, two notices, or a notice claiming an expiry it does not have."""
    declared = {GENERATION: Binding(GENERATION, "plain_text", "2")}
    deployed = {**declared, PREVIOUS: Binding(PREVIOUS, "secret_text", None),
                EXPIRES: Binding(EXPIRES, "plain_text", "2026-11-01T00:00:00Z")}
    notice = DriftFinding("ROT002", "staging", "bindings", "extra", "previous team key",
                          "still bound (the Worker accepts it until 2026-11-01T00:00:00Z); the repository declares no "
                          "overlap window for it", "its window ended, or was finished early",
                          "the next `invoke up --env staging` removes it", "notice")
    assert _rotation(declared, deployed) == [notice]
    del deployed[EXPIRES]
    assert _rotation(declared, deployed) == [DriftFinding(
        notice.code, notice.environment, notice.area, notice.change, notice.object,
        "still bound; the repository declares no overlap window for it", notice.cause, notice.fix, notice.severity)]


def test_parity_names_every_environment_with_and_without_a_binding():
    """Guards against PAR001 naming the wrong or unsorted environments, or missing a binding absent from two."""
    deployed = {env: {"A": Binding("A", "plain_text", "1")} for env in ("staging", "production", "dev", "qa")}
    deployed["staging"]["B"] = Binding("B", "plain_text", "2")
    deployed["production"]["B"] = Binding("B", "plain_text", "2")
    assert parity_findings({}, deployed) == [DriftFinding(
        "PAR001", "dev, production, qa, staging", "parity", "changed", "binding B", "on production, staging, not on dev, qa",
        "changed out of band", "every environment's Worker has the same binding names; redeploy the odd one out")]


def test_a_resource_declared_twice_is_one_par002_naming_both_and_values_are_never_resources():
    """Guards against a shared KV namespace or Vectorize index going unreported, one reported twice,
    or two environments with the same plain-text value (or no id yet) taken for a shared resource."""
    declared = {
        "production": {"X0": Binding("X0", "plain_text", "first"), "KV": Binding("KV", "kv_namespace", "k1"),
                       "V": Binding("V", "vectorize", "idx"),
                       "X": Binding("X", "plain_text", "same"), "DB": Binding("DB", "d1", None)},
        "staging": {"X0": Binding("X0", "plain_text", "first"), "KV": Binding("KV", "kv_namespace", "k1"),
                    "V": Binding("V", "vectorize", "idx"),
                    "X": Binding("X", "plain_text", "same"), "DB": Binding("DB", "d1", None)},
    }
    assert parity_findings(declared, {}) == [
        DriftFinding("PAR002", "production, staging", "parity", "changed", "KV namespace k1",
                     "declared by both production and staging (KV)", "copied configuration",
                     "give each environment its own KV namespace: fix the id in Pulumi.staging.yaml or its outputs"),
        DriftFinding("PAR002", "production, staging", "parity", "changed", "Vectorize index idx",
                     "declared by both production and staging (V)", "copied configuration",
                     "give each environment its own Vectorize index: fix the id in Pulumi.staging.yaml or its outputs"),
    ]


def test_a_binding_bound_to_a_resource_of_its_own_environment_elsewhere_is_out_of_band():
    """Guards against BND002 blaming another environment when the resource is this one's (or nobody's)."""
    declared = {"DB": Binding("DB", "d1", "db-staging")}
    owners = {("d1", "db-staging-old"): "staging", ("d1", "db-prod"): "production"}
    own = binding_findings("staging", declared, {"DB": Binding("DB", "d1", "db-staging-old")}, owners)
    other = binding_findings("staging", declared, {"DB": Binding("DB", "d1", "db-prod")}, owners)
    nobody = binding_findings("staging", declared, {"DB": Binding("DB", "d1", "db-unknown")}, owners)
    assert [(f.code, f.cause) for f in own + other + nobody] == [
        ("BND002", "changed out of band"), ("BND002", "bound to production's D1 database"), ("BND002", "changed out of band")]


def test_the_committed_local_config_is_read_as_utf8_under_any_locale(tmp_path):
    """Guards against reading worker/wrangler.local.jsonc in the machine's locale encoding: a
    non-ASCII character in it would fail drift on a machine without a UTF-8 locale."""
    import locale

    fresh = '// rendered for the café team\n{"name": "w"}\n'
    committed = tmp_path / "wrangler.local.jsonc"
    committed.write_text(fresh, encoding="utf-8")
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        assert local_config_findings(committed, fresh) == []
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)


def test_a_pending_rotation_explains_only_the_previous_key_bindings_not_yet_bound():
    """Guards against a pending rotation also hiding a previous-key expiry that is bound with
    another value (that one is drift, BND002)."""
    declared = {GENERATION: Binding(GENERATION, "plain_text", "3"),
                EXPIRES: Binding(EXPIRES, "plain_text", "2026-12-01T00:00:00Z")}
    deployed = {GENERATION: Binding(GENERATION, "plain_text", "2"),
                EXPIRES: Binding(EXPIRES, "plain_text", "2026-11-01T00:00:00Z")}
    assert [(f.code, f.object) for f in _rotation(declared, deployed)] == [
        ("BND002", f"binding {EXPIRES}"), ("ROT001", "team key")]


def test_an_empty_api_field_falls_back_to_the_older_one():
    """Guards against an empty `database_id` being taken as the D1 binding's target over its `id`."""
    deployed = read_deployed_bindings({"bindings": [{"type": "d1", "name": "DB", "database_id": "", "id": "db-old"}]})
    assert deployed["DB"].target == "db-old"


def test_a_new_rotation_pending_while_the_last_ones_key_is_still_bound_is_two_notices():
    """Guards against the stale previous key's notice undoing what the pending rotation explains
    (the generation would show as drift, BND002)."""
    declared = {GENERATION: Binding(GENERATION, "plain_text", "3")}
    deployed = {GENERATION: Binding(GENERATION, "plain_text", "2"), PREVIOUS: Binding(PREVIOUS, "secret_text", None)}
    assert [finding.code for finding in _rotation(declared, deployed)] == ["ROT001", "ROT002"]


def test_without_an_index_output_the_declared_index_is_the_environments_own_name():
    """Guards against a Vectorize binding declared without a target (never compared) when the
    stack has no index output yet."""
    env = load_environment("staging")
    declared = declared_bindings(env, StackOutputs("db-staging", None, None, "5" * 32, "myco-team-staging", None, None))
    assert declared["MYCO_TEAM_VECTORS"] == Binding("MYCO_TEAM_VECTORS", "vectorize", env.vectorize.name)
    assert declared["MYCO_SCHEMA_VERSION"].target is None


def test_only_resources_with_a_known_id_have_an_owner():
    """Guards against a plain-text value, or a resource whose id is not known yet, being taken for
    an environment's resource (a BND002 would then blame the wrong environment)."""
    declared = {"production": {"V": Binding("V", "plain_text", "3"), "DB": Binding("DB", "d1", None),
                               "KV": Binding("KV", "kv_namespace", "k1")}}
    assert resource_owners(declared) == {("kv_namespace", "k1"): "production"}
