"""__main__.py as Pulumi's python runtime runs it: `runpy.run_path(".")` from the repository root.

Pulumi.yaml names no `main`, so the language host starts the program in the project folder with
that folder first on sys.path (and the engine starts plugins there too: test_plugin_launch.py).
The entry imports the `infra` package and turns a HyphaeError into Pulumi's RunError (one line,
no traceback).
"""

from __future__ import annotations

import runpy
import sys

import pulumi
import pytest
import yaml

from infra.environments import schema_version
from infra.paths import REPO_ROOT

from .harness import COMPONENT_TYPE, SCRIPT_TYPE, run_under_mocks, write_artifact

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _run_entry_as_pulumi_does(stack: str, monkeypatch):
    """The exec shim's call; the entry exports its outputs itself, so none are collected here."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(sys, "path", ["."] + sys.path)

    def entry() -> dict:
        runpy.run_path(".", run_name="__main__")
        return {}

    return run_under_mocks(stack, entry)


def test_pulumi_yaml_runs_the_program_from_the_repository_root():
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert (project["name"], project["runtime"]["name"], project.get("main")) == ("hyphae", "python", None)
    assert (REPO_ROOT / "__main__.py").is_file()


def test_the_entry_runs_the_program_for_the_selected_stack(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPHAE_ARTIFACT_DIR", str(write_artifact(tmp_path / "dist", schema_version())))
    run = _run_entry_as_pulumi_does("dev", monkeypatch)

    assert run.of_type(COMPONENT_TYPE).name == "hyphae-dev"
    assert run.of_type(SCRIPT_TYPE).inputs["scriptName"] == "myco-team-dev"
    assert sys.modules["infra"].__file__ == str(REPO_ROOT / "infra" / "__init__.py")


def test_a_hyphae_error_becomes_a_one_line_run_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPHAE_ARTIFACT_DIR", str(tmp_path / "no-artifact"))
    with pytest.raises(pulumi.RunError) as raised:
        _run_entry_as_pulumi_does("local", monkeypatch)
    assert str(raised.value) == "hyphae: the local environment is not a Pulumi stack; run `invoke local` instead"
