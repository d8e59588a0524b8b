"""`invoke rotate --credential team-key` and `--finish` (infra/rotation/team_key.py): the stack file
is the only thing written remotely, the plan and the teammates' steps are shown, and ending a window
early is refused while a machine still used the previous key (read from D1 on the loopback API)."""

from __future__ import annotations

import datetime
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from infra.environments import load_environment
from infra.errors import RotationRefused
from infra.local.api_key import (
    api_key_path,
    local_team_key_bindings,
    previous_key_path,
    read_local_key_state,
    read_or_create_local_api_key,
    record_path,
)
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT
from infra.rotation.team_key import finish_window, rotate_team_key
from infra.runner.apply import run_migrate

NOW = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for path in REPO_ROOT.glob("*.yaml"):
        shutil.copy(path, root)
    return root


def files_of(root: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(root.glob("*.yaml"))}


def test_a_scheduled_rotation_writes_the_stack_file_only_and_says_what_teammates_do(root):
    before = files_of(root)
    lines: list[str] = []
    rotation = rotate_team_key("staging", NOW, compromised=False, report=lines.append, root=root)

    after = files_of(root)
    assert [name for name in after if after[name] != before[name]] == ["Pulumi.staging.yaml"]
    settings = load_environment("staging", root).credentials
    assert (settings.team_key_generation, settings.team_key_rotated_at, settings.previous_key_expires) == (2, NOW, NOW + 7 * DAY)
    assert rotation.after.previous_generation == 1
    text = "\n".join(lines)
    assert lines[0] == "team key of staging: generation 1 -> 2 (scheduled)"
    assert "+  random.RandomPassword staging-api-key-even (keepers teamKeyGeneration=2): generation 2, a new key" in text
    assert "=  random.RandomPassword staging-api-key: generation 1, kept as it is" in text
    assert "MYCO_TEAM_AUTH_PREVIOUS_EXPIRES = 2026-11-29T10:00:00Z" in text
    assert "pulumi stack output apiKey --show-secrets --stack staging" in text
    assert "each teammate re-joins the team in the Myco daemon with the new key before 2026-11-29 10:00 UTC" in text
    assert lines[-1] == "  nothing else was written: commit Pulumi.staging.yaml and open a pull request"


def test_a_compromised_rotation_keeps_no_previous_key(root):
    lines: list[str] = []
    rotate_team_key("production", NOW, compromised=True, report=lines.append, root=root)
    settings = load_environment("production", root).credentials
    assert (settings.team_key_generation, settings.previous_key_expires, settings.max_age_days) == (2, None, 90)
    text = "\n".join(lines)
    assert "-  random.RandomPassword production-api-key: generation 1, deleted" in text
    assert "  generation 1 stops at the deploy: 401 at once for every machine still using it" in lines


def test_a_second_rotation_inside_the_window_is_refused_and_writes_nothing(root):
    rotate_team_key("dev", NOW, compromised=False, report=lambda line: None, root=root)
    before = files_of(root)
    with pytest.raises(RotationRefused, match=r"^Pulumi.dev.yaml: generation 1 still works until 2026-11-29 10:00 UTC"):
        rotate_team_key("dev", NOW + DAY, compromised=False, report=lambda line: None, root=root)
    assert files_of(root) == before


@pytest.fixture
def staging_database(cloudflare_env, monkeypatch):
    """Staging's D1 on the loopback API, migrated; returns a connection to write `nodes` rows."""
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    database_id = cloudflare_env.d1.add_database(name="myco-team-staging")
    monkeypatch.setenv("HYPHAE_STAGING_DATABASE_ID", database_id)
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    connection = cloudflare_env.d1.connect(database_id)
    yield connection
    connection.close()


def seen(connection, machine_id: str, generation: int, at: datetime.datetime) -> None:
    connection.execute("INSERT INTO nodes (machine_id, last_seen, registered_at, team_key_generation) VALUES (?, ?, ?, ?)",
                       (machine_id, int(at.timestamp()), 0, generation))
    connection.commit()


def test_finishing_early_is_refused_while_a_machine_used_the_previous_key_in_the_last_day(root, staging_database):
    rotate_team_key("staging", NOW, compromised=False, report=lambda line: None, root=root)
    seen(staging_database, "m-laptop", 1, NOW + DAY - datetime.timedelta(hours=2))
    seen(staging_database, "m-old-box", 1, NOW - 3 * DAY)  # silent for days: does not hold the finish back
    seen(staging_database, "hyphae-smoke", 1, NOW + DAY)  # the smoke test's own node is no teammate
    seen(staging_database, "m-desktop", 2, NOW + DAY)
    before = files_of(root)

    with pytest.raises(RotationRefused) as refused:
        finish_window("staging", NOW + DAY, force=False, report=lambda line: None, root=root)
    assert str(refused.value) == ("Pulumi.staging.yaml: 1 machine(s) used generation 1 in the last day: m-laptop (2 hours ago); "
                                  "they would get 401 at once. Ask them to re-join with the new key (`invoke credentials "
                                  "--env staging` lists them), or pass --force")
    assert files_of(root) == before

    lines: list[str] = []
    finish_window("staging", NOW + DAY, force=True, report=lines.append, root=root)
    settings = load_environment("staging", root).credentials
    assert (settings.team_key_generation, settings.previous_key_expires) == (2, None)
    assert "  wrote Pulumi.staging.yaml: hyphae:credentials previousKeyExpires removed" in lines


def test_finishing_when_nobody_is_left_on_the_previous_key_needs_no_force(root, staging_database):
    rotate_team_key("staging", NOW, compromised=False, report=lambda line: None, root=root)
    seen(staging_database, "m-desktop", 2, NOW + DAY)
    finish_window("staging", NOW + DAY, force=False, report=lambda line: None, root=root)
    assert load_environment("staging", root).credentials.previous_key_expires is None


def test_finishing_a_window_that_already_ended_needs_no_database(root, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    rotate_team_key("dev", NOW, compromised=False, report=lambda line: None, root=root)
    finish_window("dev", NOW + 8 * DAY, force=False, report=lambda line: None, root=root)
    assert load_environment("dev", root).credentials.previous_key_expires is None


def test_finishing_without_a_readable_database_is_refused_unless_forced(root, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    rotate_team_key("dev", NOW, compromised=False, report=lambda line: None, root=root)
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    from infra.errors import MissingCredentials

    with pytest.raises(MissingCredentials, match="^CLOUDFLARE_API_TOKEN is not set"):
        finish_window("dev", NOW + DAY, force=False, report=lambda line: None, root=root)
    finish_window("dev", NOW + DAY, force=True, report=lambda line: None, root=root)
    assert load_environment("dev", root).credentials.previous_key_expires is None


# -- local: the state folder's key files ----------------------------------------------------------

def test_a_local_rotation_moves_the_key_files_owner_only_and_binds_both_during_the_window():
    first = read_or_create_local_api_key()
    lines: list[str] = []
    rotate_team_key("local", NOW, compromised=False, report=lines.append)

    second = read_or_create_local_api_key()
    assert second != first and previous_key_path().read_text().strip() == first
    for path in (api_key_path(), previous_key_path(), record_path()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert read_local_key_state().generation == 2
    assert local_team_key_bindings(NOW + DAY) == {
        "MYCO_TEAM_API_KEY": second, "MYCO_TEAM_AUTH_GENERATION": "2",
        "MYCO_TEAM_API_KEY_PREVIOUS": first, "MYCO_TEAM_AUTH_PREVIOUS_EXPIRES": "2026-11-29T10:00:00Z"}
    assert set(local_team_key_bindings(NOW + 7 * DAY)) == {"MYCO_TEAM_API_KEY", "MYCO_TEAM_AUTH_GENERATION"}
    assert not [line for line in lines if first in line or second in line]


def test_the_first_local_start_after_the_window_retires_the_previous_key_file():
    from infra.local.api_key import deploy_local_team_keys

    rotate_team_key("local", NOW, compromised=False, report=lambda line: None)
    assert "MYCO_TEAM_API_KEY_PREVIOUS" in deploy_local_team_keys(NOW + DAY)
    assert previous_key_path().exists()
    assert "MYCO_TEAM_API_KEY_PREVIOUS" not in deploy_local_team_keys(NOW + 8 * DAY)
    assert not previous_key_path().exists() and read_local_key_state().previous_expires is None


# -- the task's flags -----------------------------------------------------------------------------

def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", "rotate", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={**os.environ, "HYPHAE_NO_PULUMI_CLI": "1"}, timeout=120)


@pytest.mark.parametrize("args, message", [
    ((), "hyphae: error: --env is required: one of local, dev, staging, production"),
    (("--env", "local"), "hyphae: error: --credential '' is not one of team-key, mcp-token"),
    (("--env", "local", "--credential", "team-keys"), "hyphae: error: --credential 'team-keys' is not one of team-key, mcp-token; did you mean 'team-key'?"),
    (("--env", "local", "--credential", "mcp-token", "--compromised"), "hyphae: error: --compromised, --finish and --force are for --credential team-key"),
    (("--env", "local", "--credential", "team-key", "--force"), "hyphae: error: --force goes with --finish"),
    (("--env", "local", "--finish", "--compromised"), "hyphae: error: --finish ends an overlap window; --compromised rotates without one"),
    (("--env", "prod", "--credential", "team-key"), "hyphae: error: --env 'prod' is not one of local, dev, staging, production"),
])
def test_a_wrong_flag_is_one_line_exit_2_and_writes_nothing(args, message, isolated_state_dir):
    before = files_of(REPO_ROOT)
    result = invoke(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert files_of(REPO_ROOT) == before
    assert not (isolated_state_dir / "secrets").exists()


def test_finishing_a_local_key_without_a_window_is_refused_with_exit_1():
    result = invoke("--env", "local", "--finish")
    assert result.returncode == 1
    assert result.stderr.startswith("hyphae: error: local key (") and "generation 1 has no previous key to retire" in result.stderr
