"""The environment model: every declared environment validates, and a wrong setting names its file and key."""

import shutil
from pathlib import Path

import pytest

from infra.environments import ENVIRONMENTS, load_all, load_environment
from infra.errors import ConfigError, UsageError
from infra.paths import REPO_ROOT

DECLARATION_FILES = ["Pulumi.yaml", "hyphae.defaults.yaml", "hyphae.local.yaml",
                     "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"]


@pytest.fixture
def declarations(tmp_path: Path) -> Path:
    for name in DECLARATION_FILES:
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_every_environment_validates_with_shared_defaults_merged():
    environments = load_all()
    assert list(environments) == list(ENVIRONMENTS)
    for env in environments.values():
        assert env.vectorize.dimensions == 1024 and env.vectorize.metric == "cosine"
        assert env.worker.compatibility_date  # from hyphae.defaults.yaml, overridable per environment


def test_resource_names_are_unique_across_environments():
    environments = load_all().values()
    for attribute in ("d1", "vectorize", "worker"):
        names = [getattr(env, attribute).name for env in environments]
        assert len(set(names)) == len(names), f"{attribute} names shared between environments: {names}"


def test_staging_and_production_are_protected():
    environments = load_all()
    assert environments["staging"].protect and environments["production"].protect


def test_unknown_environment_suggests_the_closest_name():
    with pytest.raises(UsageError, match="did you mean 'production'"):
        load_environment("prodution")


def test_wrong_setting_names_file_and_key(declarations: Path):
    path = declarations / "Pulumi.staging.yaml"
    path.write_text(path.read_text().replace("name: myco-team-staging-vectors", "name: Not_Valid!"))
    with pytest.raises(ConfigError) as caught:
        load_environment("staging", declarations)
    assert str(caught.value).startswith("Pulumi.staging.yaml: hyphae:vectorize.name:")


def test_unknown_key_is_refused_not_ignored(declarations: Path):
    path = declarations / "Pulumi.dev.yaml"
    path.write_text(path.read_text() + "  hyphae:protectt: true\n")
    with pytest.raises(ConfigError, match="Pulumi.dev.yaml: hyphae:protectt"):
        load_environment("dev", declarations)


def test_missing_setting_names_file_and_key(declarations: Path):
    path = declarations / "hyphae.local.yaml"
    path.write_text(path.read_text().replace("  hyphae:kv:\n    title: myco-team-local-secrets\n", ""))
    with pytest.raises(ConfigError, match="hyphae.local.yaml: hyphae:kv: Field required"):
        load_environment("local", declarations)


def test_malformed_yaml_names_file_and_line(declarations: Path):
    (declarations / "Pulumi.dev.yaml").write_text("config:\n  hyphae:d1: [unclosed\n")
    with pytest.raises(ConfigError, match=r"Pulumi.dev.yaml: line \d+: not valid YAML"):
        load_environment("dev", declarations)


def test_missing_file_is_named(declarations: Path):
    (declarations / "Pulumi.production.yaml").unlink()
    with pytest.raises(ConfigError, match="Pulumi.production.yaml"):
        load_environment("production", declarations)


def test_bad_shared_default_names_the_defaults_file(declarations: Path):
    path = declarations / "hyphae.defaults.yaml"
    path.write_text(path.read_text().replace('compatibilityDate: "2026-04-01"', "compatibilityDate: soon"))
    with pytest.raises(ConfigError) as caught:
        load_environment("dev", declarations)
    assert str(caught.value).startswith("hyphae.defaults.yaml: hyphae:worker.compatibilityDate:")


def test_bad_override_of_a_default_names_the_environment_file(declarations: Path):
    path = declarations / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("  hyphae:vectorize:\n", "  hyphae:vectorize:\n    dimensions: -3\n"))
    with pytest.raises(ConfigError) as caught:
        load_environment("dev", declarations)
    assert str(caught.value).startswith("Pulumi.dev.yaml: hyphae:vectorize.dimensions:")
