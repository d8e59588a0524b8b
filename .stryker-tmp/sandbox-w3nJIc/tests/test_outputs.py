"""Stack outputs are read without the Pulumi engine, and a missing id names how to get it."""


import pytest

from infra.environments import load_environment
from infra.errors import ConfigError
from infra.outputs import read_outputs, write_outputs_file


@pytest.fixture(autouse=True)
def no_pulumi_cli(monkeypatch):
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")


def test_outputs_file_written_after_pulumi_up_is_read(isolated_state_dir):
    staging = load_environment("staging")
    path = write_outputs_file("staging", {"databaseId": "0f1e2d3c-0000-4000-8000-00000000abcd",
                                          "apiKey": "secret-value-never-written"})
    assert "secret-value-never-written" not in path.read_text()
    assert read_outputs(staging).database_id == "0f1e2d3c-0000-4000-8000-00000000abcd"


def test_environment_variable_wins_over_the_outputs_file(monkeypatch, isolated_state_dir):
    write_outputs_file("dev", {"databaseId": "from-file"})
    monkeypatch.setenv("HYPHAE_DEV_DATABASE_ID", "from-variable")
    assert read_outputs(load_environment("dev")).database_id == "from-variable"


def test_missing_database_id_says_how_to_provide_it(monkeypatch):
    monkeypatch.delenv("HYPHAE_PRODUCTION_DATABASE_ID", raising=False)
    production = load_environment("production")
    with pytest.raises(ConfigError, match="HYPHAE_PRODUCTION_DATABASE_ID"):
        read_outputs(production).require("database_id", production)


def test_malformed_outputs_file_is_a_config_error(isolated_state_dir):
    path = isolated_state_dir / "outputs" / "staging.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_outputs(load_environment("staging"))


def test_local_ids_are_the_declared_names():
    local = load_environment("local")
    assert read_outputs(local).database_id == local.d1.name
