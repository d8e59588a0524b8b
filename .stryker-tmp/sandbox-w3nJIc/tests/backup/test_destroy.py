"""`invoke destroy`: refused for a protected environment, otherwise a verified backup, the name typed
back (or --yes-destroy ENV), then `pulumi destroy` (a stand-in records how it was called) or,
locally, the local state removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loopback import point_dev_at_new_database

from infra.backup.destroy import destroy_environment, plan_destroy_command
from infra.backup.manifest import read_manifest
from infra.errors import DestroyRefused
from infra.paths import backups_dir, wrangler_persist_dir
from tests.backup.helpers import migrate_local
from tests.stack.test_cli import install_stand_in_pulumi


def no_terminal(question: str) -> None:
    return None


@pytest.mark.parametrize("env", ["staging", "production"])
def test_a_protected_environment_is_refused_before_anything_runs(env, cloudflare_env):
    with pytest.raises(DestroyRefused, match=rf"^environment '{env}' is protected \(hyphae:protect: true in "
                                             rf"Pulumi\.{env}\.yaml\); hyphae never destroys .*nothing was destroyed$"):
        destroy_environment(env, yes_destroy=env, ask_name=no_terminal)
    assert sum(cloudflare_env.requests.values()) == 0 and not backups_dir().exists()


def test_local_destroy_backs_up_then_removes_the_local_state():
    migrate_local()
    result = destroy_environment("local", yes_destroy="local", ask_name=no_terminal)
    assert read_manifest(result.backup.path).verified
    assert not wrangler_persist_dir().exists() and "removed the local state" in result.summary
    assert result.backup.path.exists()  # the backup lives outside the state folder


def test_the_name_must_be_typed_back_and_anything_else_destroys_nothing():
    database = migrate_local()
    with pytest.raises(DestroyRefused, match=r"^'loca' is not 'local'; nothing was destroyed \(the backup is at "):
        destroy_environment("local", ask_name=lambda question: "loca\n")
    with pytest.raises(DestroyRefused, match=r"without a terminal pass --yes-destroy local; nothing was destroyed"):
        destroy_environment("local", ask_name=no_terminal)
    assert database.exists()
    asked = []
    destroy_environment("local", ask_name=lambda question: asked.append(question) or "local")
    assert "Type the environment's name to confirm" in asked[0] and not database.exists()


def test_yes_destroy_must_name_the_environment():
    migrate_local()
    with pytest.raises(DestroyRefused, match=r"^--yes-destroy 'dev' does not name the environment being destroyed "
                                             r"\('local'\); nothing was destroyed$"):
        destroy_environment("local", yes_destroy="dev", ask_name=no_terminal)
    assert not backups_dir().exists()


def test_a_remote_environment_is_backed_up_then_pulumi_destroys_its_stack(cloudflare_env, monkeypatch, tmp_path: Path):
    from infra.paths import DEFAULT_MIGRATIONS_DIR
    from infra.runner.apply import run_migrate

    point_dev_at_new_database(cloudflare_env, monkeypatch)
    run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    bin_dir, record = tmp_path / "bin", tmp_path / "pulumi.json"
    bin_dir.mkdir()
    install_stand_in_pulumi(bin_dir, record)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    result = destroy_environment("dev", yes_destroy="dev", ask_name=no_terminal)
    assert read_manifest(result.backup.path).environment == "dev"
    called = json.loads(record.read_text())
    assert called["argv"] == plan_destroy_command("dev")[1:] == ["destroy", "--stack", "dev", "--yes", "--non-interactive"]
    assert not called["token_in_argv"]


def test_without_the_pulumi_cli_a_remote_destroy_stops_before_the_backup(cloudflare_env, monkeypatch, tmp_path: Path):
    point_dev_at_new_database(cloudflare_env, monkeypatch)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    from infra.stack.cli import PulumiNotInstalled

    with pytest.raises(PulumiNotInstalled, match="nothing was destroyed$"):
        destroy_environment("dev", yes_destroy="dev", ask_name=no_terminal)
    assert cloudflare_env.requests["d1.export"] == 0
