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
    shapes = {shape["name"]: shape for shape in api_bindings({b.source: f"<{b.source}>" for b in WORKER_BINDINGS})}
    assert shapes["MYCO_TEAM_DB"] == {"type": "d1", "name": "MYCO_TEAM_DB", "database_id": "<database_id>"}
    assert shapes["MYCO_TEAM_VECTORS"]["index_name"] == "<index_name>"
    assert shapes["MYCO_SECRETS"]["namespace_id"] == "<kv_namespace_id>"
    assert shapes["MYCO_TEAM_API_KEY"]["type"] == "secret_text"


def test_local_config_binds_every_local_binding_but_the_secret():
    config = plan_local_config(load_environment("local"), schema_version=5)
    rendered = {entry["binding"] for entry in config["d1_databases"] + config["kv_namespaces"]} | set(config["vars"])
    expected = {binding.name for binding in WORKER_BINDINGS if binding.local and not binding.is_secret}
    assert rendered == expected
    assert "MYCO_TEAM_VECTORS" not in rendered, "Vectorize has no local emulation"
