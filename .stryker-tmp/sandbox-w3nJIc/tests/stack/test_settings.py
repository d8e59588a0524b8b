"""A wrong or missing setting in a stack file stops the program with one line naming the file and
the key, before any resource is registered: through the model (`load_environment`) and through
the Pulumi program's own checks (`build_environment`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from infra.environments import load_environment, schema_version
from infra.errors import ConfigError
from infra.paths import REPO_ROOT

from .harness import run_under_mocks, write_artifact

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _set(path: str, value):
    def edit(config: dict) -> None:
        *parents, leaf = path.split(".")
        node = config
        for parent in parents:
            node = node.setdefault(parent, {})
        if value is _REMOVE:
            del node[leaf]
        else:
            node[leaf] = value
    return edit


_REMOVE = object()

BROKEN_SETTINGS = [
    # (edit of Pulumi.staging.yaml's config, the key the message must name)
    (_set("hyphae:vectorize.metric", "manhattan"), "hyphae:vectorize.metric"),
    (_set("hyphae:vectorize.dimensions", "many"), "hyphae:vectorize.dimensions"),
    (_set("hyphae:d1.locationHint", "mars"), "hyphae:d1.locationHint"),
    (_set("hyphae:d1.name", "Myco Team"), "hyphae:d1.name"),
    (_set("hyphae:d1", _REMOVE), "hyphae:d1"),
    (_set("hyphae:kv.namespaceId", "not-an-id"), "hyphae:kv.namespaceId"),
    (_set("hyphae:worker.name", _REMOVE), "hyphae:worker.name"),
    (_set("hyphae:worker.compatibilityDate", "latest"), "hyphae:worker.compatibilityDate"),
    (_set("hyphae:protect", "maybe"), "hyphae:protect"),
    (_set("hyphae:accountId", "0123"), "hyphae:accountId"),
    (_set("hyphae:workerName", "typo"), "hyphae:workerName"),
]


def _declarations(tmp_path: Path, edit) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Pulumi.yaml", "hyphae.defaults.yaml"):
        shutil.copy(REPO_ROOT / name, root / name)
    data = yaml.safe_load((REPO_ROOT / "Pulumi.staging.yaml").read_text())
    edit(data["config"])
    (root / "Pulumi.staging.yaml").write_text(yaml.safe_dump(data))
    return root


@pytest.mark.parametrize("edit, key", BROKEN_SETTINGS, ids=[key for _edit, key in BROKEN_SETTINGS])
def test_a_wrong_or_missing_setting_is_one_line_naming_the_file_and_the_key(tmp_path, edit, key):
    with pytest.raises(ConfigError) as raised:
        load_environment("staging", _declarations(tmp_path, edit))
    message = str(raised.value)
    assert message.startswith(f"Pulumi.staging.yaml: {key}: "), message
    assert "\n" not in message


@pytest.mark.parametrize("edit, key", [
    (_set("hyphae:accountId", _REMOVE), "hyphae:accountId"),
    (_set("hyphae:workersDevSubdomain", _REMOVE), "hyphae:workersDevSubdomain"),
], ids=["accountId", "workersDevSubdomain"])
def test_a_setting_only_deploys_need_stops_the_program_before_any_resource(tmp_path, edit, key):
    from infra.stack.program import build_environment, stack_outputs

    env = load_environment("staging", _declarations(tmp_path, edit))  # valid for the model
    artifact = write_artifact(tmp_path / "dist", schema_version())
    registered: list = []

    def program() -> dict:
        try:
            return stack_outputs(build_environment(env, artifact))
        except ConfigError as error:
            registered.append(str(error))
            return {}

    run = run_under_mocks("staging", program)
    (message,) = registered
    assert message.startswith(f"Pulumi.staging.yaml: {key}: ") and "\n" not in message
    assert run.registrations == [], "nothing is registered from a configuration that cannot deploy"
