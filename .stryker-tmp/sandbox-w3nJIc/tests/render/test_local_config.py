"""worker/wrangler.local.jsonc is a render of the environment model, never edited by hand."""

from __future__ import annotations

import json
import re

from infra.environments import load_environment, schema_version
from infra.render import LOCAL_CONFIG_PATH, plan_local_config, render_local_config


def parse_jsonc(text: str) -> dict:
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE))


def test_the_committed_render_equals_a_fresh_one():
    assert LOCAL_CONFIG_PATH.read_text() == render_local_config(), (
        f"{LOCAL_CONFIG_PATH.name} is stale: run `invoke render` and commit it"
    )


def test_the_render_binds_the_local_database_kv_and_versions_from_the_model():
    env = load_environment("local")
    config = parse_jsonc(render_local_config())
    assert config["d1_databases"] == [{"binding": "MYCO_TEAM_DB", "database_name": env.d1.name, "database_id": env.local_database_id}]
    assert config["kv_namespaces"][0]["binding"] == "MYCO_SECRETS"
    assert config["vars"] == {"SYNC_PROTOCOL_VERSION": str(env.worker.sync_protocol_version),
                              "MIN_COMPAT_CLIENT_VERSION": str(env.worker.min_compat_client_version),
                              "MYCO_SCHEMA_VERSION": str(schema_version()), "EMBEDDING_MODEL": env.embeddings.model}
    assert config["compatibility_date"] == env.worker.compatibility_date


def test_the_local_render_binds_stand_ins_for_vectorize_and_ai_and_has_no_secret():
    config = parse_jsonc(render_local_config())
    assert "vectorize" not in config and "ai" not in config
    assert {service["binding"]: service["service"] for service in config["services"]} == {
        "MYCO_TEAM_VECTORS": "hyphae-stand-ins", "AI": "hyphae-stand-ins"}
    assert "MYCO_TEAM_API_KEY" not in json.dumps(config)


def test_a_new_migration_changes_the_rendered_schema_version():
    config = plan_local_config(schema_version=schema_version() + 1)
    assert parse_jsonc(render_local_config(config))["vars"]["MYCO_SCHEMA_VERSION"] == str(schema_version() + 1)
