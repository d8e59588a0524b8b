"""The Worker's bindings are declared once (infra/bindings.py) and every render agrees with it."""

import re

from infra.bindings import WORKER_BINDINGS, api_bindings
from infra.environments import load_environment
from infra.paths import REPO_ROOT
from infra.render.local_config import plan_local_config

WORKER_SOURCES = "\n".join(path.read_text() for path in (REPO_ROOT / "worker" / "src").glob("*.js"))


def test_the_worker_reads_exactly_the_declared_bindings():
    read = set(re.findall(r"\benv\.([A-Z][A-Z0-9_]+)", WORKER_SOURCES))
    assert read == {binding.name for binding in WORKER_BINDINGS}


def test_api_shapes_name_each_target_by_the_apis_field():
    shapes = {shape["name"]: shape for shape in api_bindings({b.source: f"<{b.source}>" for b in WORKER_BINDINGS if b.source})}
    assert shapes["MYCO_TEAM_DB"] == {"type": "d1", "name": "MYCO_TEAM_DB", "database_id": "<database_id>"}
    assert shapes["MYCO_TEAM_VECTORS"]["index_name"] == "<index_name>"
    assert shapes["MYCO_SECRETS"]["namespace_id"] == "<kv_namespace_id>"
    assert shapes["MYCO_TEAM_API_KEY"]["type"] == "secret_text"


def test_local_config_binds_every_local_binding_but_the_secret():
    config = plan_local_config(load_environment("local"), schema_version=5)
    rendered = {entry["binding"] for entry in config["d1_databases"] + config["kv_namespaces"]} | set(config["vars"])
    expected = {binding.name for binding in WORKER_BINDINGS if binding.local and not binding.is_secret}
    assert rendered == expected


def test_the_bindings_without_local_emulation_are_bound_to_their_stand_ins():
    config = plan_local_config(load_environment("local"), schema_version=5)
    services = {entry["binding"]: entry["entrypoint"] for entry in config["services"]}
    assert services == {"MYCO_TEAM_VECTORS": "StandInVectorize", "AI": "StandInAi"}
    stand_ins = (REPO_ROOT / "worker" / "dev" / "stand_ins.mjs").read_text()
    assert all(f"export class {entrypoint} " in stand_ins for entrypoint in services.values())


def test_the_ai_binding_has_no_target_and_the_versions_come_from_the_model():
    env = load_environment("staging")
    shapes = {shape["name"]: shape for shape in api_bindings({"protocol_version": "3", "min_compat_version": "1",
                                                               "embedding_model": env.embeddings.model, "database_id": "d",
                                                               "index_name": "i", "kv_namespace_id": "k", "api_key": "s",
                                                               "schema_version": "8"})}
    assert shapes["AI"] == {"type": "ai", "name": "AI"}
    assert shapes["MIN_COMPAT_CLIENT_VERSION"]["text"] == "1" and shapes["EMBEDDING_MODEL"]["text"] == "@cf/baai/bge-m3"
