"""Drift during a team key rotation and with the MCP token recorded: a rotation not deployed yet
and a previous key left bound are notices (ROT001, ROT002), the token's fingerprint is shown."""

from __future__ import annotations

import datetime
import json
import shutil
import time

import pytest
import yaml

from infra.drift.check import check_drift
from infra.drift.report import render
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT
from infra.runner.apply import run_migrate
from tests.drift import test_check_remote
from tests.drift.test_check_remote import deploy_worker

remote = test_check_remote.remote  # the fixture: three remote environments on the loopback API

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def instant(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def repository_with(tmp_path, credentials: dict):
    """The repository's declarations with staging's `hyphae:credentials` replaced."""
    root = tmp_path / "repo"
    root.mkdir()
    for path in REPO_ROOT.glob("*.yaml"):
        shutil.copy(path, root)
    data = yaml.safe_load((root / "Pulumi.staging.yaml").read_text())
    data["config"]["hyphae:credentials"] = credentials
    (root / "Pulumi.staging.yaml").write_text(yaml.safe_dump(data))
    return root


def rotated_to(generation: int, days_ago: float, window: bool = True) -> dict:
    at = NOW - datetime.timedelta(days=days_ago)
    settings = {"teamKeyGeneration": generation, "teamKeyRotatedAt": instant(at), "maxAgeDays": 90}
    if window:
        settings["previousKeyExpires"] = instant(at + datetime.timedelta(days=7))
    return settings


def generation(value: str) -> dict:
    return {"type": "plain_text", "name": "MYCO_TEAM_AUTH_GENERATION", "text": value}


def previous_key(expires: str) -> list[dict]:
    return [{"type": "secret_text", "name": "MYCO_TEAM_API_KEY_PREVIOUS", "text": "never-returned"},
            {"type": "plain_text", "name": "MYCO_TEAM_AUTH_PREVIOUS_EXPIRES", "text": expires}]


def deploy(api, *extra: dict, generation_text: str) -> None:
    """Staging's Worker with this generation (it replaces the fixture's "1": the later binding of a name wins)."""
    deploy_worker(api, "staging", extra=(generation(generation_text), *extra))


def codes(report) -> list[tuple[str, str, str]]:
    return [(finding.code, finding.severity, finding.object) for finding in report.findings]


def test_a_rotation_merged_but_not_deployed_is_a_notice(remote, tmp_path):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy(remote, generation_text="1")
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR, repository_with(tmp_path, rotated_to(2, days_ago=0)))
    assert codes(report) == [("ROT001", "notice", "team key")]
    assert report.clean
    assert report.findings[0].detail == "generation 2 declared, generation 1 deployed"
    assert report.findings[0].environment == "staging" and "`invoke up --env staging`" in report.findings[0].fix


def test_a_deployed_rotation_in_its_window_is_clean(remote, tmp_path):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    settings = rotated_to(2, days_ago=1)
    deploy(remote, *previous_key(settings["previousKeyExpires"]), generation_text="2")
    assert check_drift(["staging"], DEFAULT_MIGRATIONS_DIR, repository_with(tmp_path, settings)).findings == []


def test_a_previous_key_still_bound_after_its_window_is_a_notice(remote, tmp_path):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    settings = rotated_to(2, days_ago=8)
    deploy(remote, *previous_key(settings["previousKeyExpires"]), generation_text="2")
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR, repository_with(tmp_path, settings))
    assert codes(report) == [("ROT002", "notice", "previous team key")]
    assert f"the Worker accepts it until {settings['previousKeyExpires']}" in report.findings[0].detail


def test_a_generation_that_is_neither_the_declared_one_nor_the_one_before_is_drift(remote, tmp_path):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy(remote, generation_text="5")
    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR, repository_with(tmp_path, rotated_to(2, days_ago=0)))
    assert ("BND002", "drift", "binding MYCO_TEAM_AUTH_GENERATION") in codes(report)
    assert not report.clean


def test_the_mcp_token_is_shown_by_its_fingerprint_and_last_rotation(remote):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging")
    connection = remote.d1.connect(remote.databases["staging"])
    at = int(time.time()) - 3 * 86400
    connection.execute("INSERT INTO team_credential_events (credential, action, fingerprint, team_key_generation, actor, at) "
                       "VALUES ('mcp_token', 'rotated', '552c5040', 1, 'invoke rotate (ops@laptop)', ?)", (at,))
    connection.commit()
    connection.close()

    report = check_drift(["staging"], DEFAULT_MIGRATIONS_DIR)
    assert report.findings == []
    shown = datetime.datetime.fromtimestamp(at, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    human = render(report, "human")
    assert f"  MCP token 552c5040, rotated {shown} by invoke rotate (ops@laptop) (3 days ago)" in human
    assert f"· MCP token 552c5040, rotated {shown} by invoke rotate (ops@laptop)" in render(report, "markdown")
    assert json.loads(render(report, "json"))["environments"][0]["mcp_token"] == {
        "fingerprint": "552c5040", "action": "rotated", "at": instant(datetime.datetime.fromtimestamp(at, datetime.timezone.utc)),
        "actor": "invoke rotate (ops@laptop)"}


def test_a_previous_key_on_one_environment_is_no_parity_finding(remote):
    for env_name in ("staging", "production"):
        run_migrate(env_name, DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "production")
    deploy_worker(remote, "staging", extra=previous_key(instant(NOW)))
    report = check_drift(["staging", "production"], DEFAULT_MIGRATIONS_DIR)
    assert report.parity == []
    assert codes(report) == [("ROT002", "notice", "previous team key")]


@pytest.mark.parametrize("fmt", ["human", "json", "markdown"])
def test_no_format_shows_a_secret(remote, fmt):
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    deploy_worker(remote, "staging", extra=previous_key(instant(NOW)))
    text = render(check_drift(["staging"], DEFAULT_MIGRATIONS_DIR), fmt)
    assert "never-returned" not in text and "team-key-never-shown" not in text
