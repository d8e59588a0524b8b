"""contract/myco-client.yaml: read and checked, agreed with by the environment model and the build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from infra.contract import CONTRACT_PATH, read_contract, worker_contract
from infra.environments import load_environment
from infra.errors import ConfigError
from infra.paths import REPO_ROOT

REFERENCE_TABLES = {  # reference §5.3: the 19 synced tables, with the protocol that added them
    **dict.fromkeys(["sessions", "prompt_batches", "spores", "entities", "graph_edges", "entity_mentions", "resolution_events",
                     "plans", "artifacts", "digest_extracts", "skill_candidates", "skill_records", "skill_usage",
                     "knowledge_release_state", "team_members"], 1),
    **dict.fromkeys(["skill_lineage", "okf_generations", "okf_pages", "okf_page_revisions"], 3),
}


def test_the_contract_lists_the_references_19_tables_for_protocol_3():
    contract = read_contract()
    assert contract.protocol == 3
    assert {name: table.since for name, table in contract.tables.items()} == REFERENCE_TABLES
    embedded = {name: table.embed for name, table in contract.tables.items() if table.embed}
    assert embedded == {"sessions": "summary", "spores": "content", "plans": "content", "artifacts": "content", "skill_records": "description"}
    assert {name for name, table in contract.tables.items() if table.content_hash} == {"sessions", "prompt_batches", "spores", "plans"}
    assert {name for name, table in contract.tables.items() if table.scope == "machine"} == {"team_members"}
    assert {"thread_id", "thread_label"} <= set(contract.tables["prompt_batches"].fields)


def write_contract(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(CONTRACT_PATH.read_text())
    edit(data)
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("edit, key, problem", [
    (lambda data: data["tables"]["spores"].update(scope="team"), "tables.spores.scope", "Input should be 'project' or 'machine'"),
    (lambda data: data["tables"]["spores"]["fields"].update(tags="json"), "tables.spores.fields.tags", "Input should be"),
    (lambda data: data["tables"]["spores"].update(embed="body"), "tables.spores", "'body' is used as key or embed but is not one of the fields"),
    (lambda data: data["tables"]["okf_pages"].update(since=4), "(file)", "table okf_pages is from protocol 4, after the contract's 3"),
    (lambda data: data["tables"]["sessions"]["fields"].pop("project_id"), "tables.sessions", "a project-scoped table needs a project_id field"),
])
def test_a_malformed_contract_is_refused_naming_the_key(tmp_path, edit, key, problem):
    with pytest.raises(ConfigError) as error:
        read_contract(write_contract(tmp_path, edit))
    assert (error.value.key, error.value.source.endswith("contract.yaml")) == (key, True)
    assert problem in error.value.problem


def test_a_missing_or_unreadable_contract_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="missing; it lists the fields the Myco client sends"):
        read_contract(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("tables: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        read_contract(broken)


def test_the_worker_reads_the_contract_as_json_with_the_project_id_rule():
    bundled = worker_contract(read_contract())
    assert bundled["project_id_pattern"] == r"^proj_[0-9a-f]{32}$"
    assert bundled["tables"]["spores"]["dropped"] == ["embedded"]


def test_the_worker_may_not_advertise_a_protocol_the_contract_does_not_describe(tmp_path):
    for name in ("hyphae.defaults.yaml", "hyphae.local.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    defaults = tmp_path / "hyphae.defaults.yaml"
    defaults.write_text(defaults.read_text().replace("syncProtocolVersion: 3", "syncProtocolVersion: 4"))
    with pytest.raises(ConfigError) as error:
        load_environment("local", tmp_path)
    assert str(error.value).startswith("hyphae.defaults.yaml: hyphae:worker.syncProtocolVersion: 4 is newer than the protocol 3")


@pytest.mark.parametrize("replace, key, problem", [
    ("minCompatClientVersion: 1", "hyphae:worker", "minCompatClientVersion 4 is above syncProtocolVersion 3"),
    ('model: "@cf/baai/bge-m3"', "hyphae:embeddings.model", "did you mean '@cf/baai/bge-m3'?"),
    ("dimensions: 1024", "hyphae:(settings)", "returns 1024 dimensions but vectorize.dimensions is 768"),
])
def test_the_window_and_the_embedding_model_are_checked(tmp_path, replace, key, problem):
    for name in ("hyphae.defaults.yaml", "hyphae.local.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    defaults = tmp_path / "hyphae.defaults.yaml"
    broken = {"minCompatClientVersion: 1": "minCompatClientVersion: 4", 'model: "@cf/baai/bge-m3"': 'model: "@cf/baai/bge-m4"',
              "dimensions: 1024": "dimensions: 768"}[replace]
    defaults.write_text(defaults.read_text().replace(replace, broken))
    with pytest.raises(ConfigError) as error:
        load_environment("local", tmp_path)
    assert error.value.key == key and problem in error.value.problem
