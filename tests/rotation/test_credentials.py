"""`invoke credentials`: where each credential stands, exit 1 when one is older than the
environment's maximum age, and never a secret in the output."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

import pytest

from infra.environments import load_environment
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT
from infra.rotation.status import DatabaseFacts, MachineOnOlderKey, McpTokenEvent, plan_report, require_young_enough
from infra.rotation.window import TeamKeyState
from infra.runner.apply import run_migrate

NOW = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def test_the_report_shows_generation_age_window_machines_and_the_mcp_fingerprint():
    key = TeamKeyState(3, NOW - 2 * DAY, NOW + 5 * DAY)
    facts = DatabaseFacts(machines=[MachineOnOlderKey("m-laptop", 2, NOW - datetime.timedelta(hours=3))],
                          mcp_token=McpTokenEvent("rotated", "552c5040", NOW - 6 * DAY, 3, "invoke rotate (ops@laptop)"))
    report = plan_report(load_environment("staging"), key, facts, NOW, deployed_generation=2)
    assert report.lines == [
        "credentials staging (Pulumi.staging.yaml; maximum age 90 days)",
        "  team key   generation 3, rotated 2026-11-20 10:00 UTC, 2 days ago",
        "             generation 2 is deployed: the next `invoke up --env staging` deploys generation 3",
        "             overlap: generation 2 accepted until 2026-11-27 10:00 UTC (5 days left)",
        "             machine m-laptop last used generation 2 (2026-11-22 07:00 UTC, 3 hours ago)",
        "  MCP token  fingerprint 552c5040, rotated 2026-11-16 10:00 UTC by invoke rotate (ops@laptop), 6 days ago",
    ]
    assert report.too_old == []


def test_a_credential_older_than_the_maximum_age_fails_naming_the_setting_and_the_fix():
    key = TeamKeyState(2, NOW - 91 * DAY)
    facts = DatabaseFacts(mcp_token=McpTokenEvent("created", "0000abcd", NOW - 100 * DAY, 1, None))
    report = plan_report(load_environment("production"), key, facts, NOW)
    assert report.too_old == [
        "the team key of production is 91 days old, above hyphae:credentials.maxAgeDays 90 (Pulumi.production.yaml); "
        "rotate it: `invoke rotate --env production --credential team-key`",
        "the MCP token of production is 100 days old, above hyphae:credentials.maxAgeDays 90 (Pulumi.production.yaml); "
        "rotate it: `invoke rotate --env production --credential mcp-token`",
    ]
    from infra.errors import CredentialTooOld

    with pytest.raises(CredentialTooOld) as raised:
        require_young_enough(report)
    assert raised.value.exit_code == 1


def test_without_a_maximum_age_nothing_is_too_old():
    report = plan_report(load_environment("dev"), TeamKeyState(2, NOW - 900 * DAY), DatabaseFacts(), NOW)
    assert report.too_old == [] and "no maximum age set (hyphae:credentials.maxAgeDays)" in report.lines[0]


def invoke_credentials(env: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", "credentials", "--env", env], cwd=REPO_ROOT, capture_output=True,
                          text=True, env={**os.environ, "HYPHAE_NO_PULUMI_CLI": "1", **variables}, timeout=120)


@pytest.fixture
def staging(cloudflare_env, monkeypatch):
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    database_id = cloudflare_env.d1.add_database(name="myco-team-staging")
    monkeypatch.setenv("HYPHAE_STAGING_DATABASE_ID", database_id)
    run_migrate("staging", DEFAULT_MIGRATIONS_DIR)
    connection = cloudflare_env.d1.connect(database_id)
    yield connection
    connection.close()


def record_mcp_event(connection, days_ago: float) -> None:
    connection.execute("INSERT INTO team_credential_events (credential, action, fingerprint, team_key_generation, actor, at) "
                       "VALUES ('mcp_token', 'rotated', '1a2b3c4d', 1, 'invoke rotate (ci)', ?)",
                       (int(time.time() - days_ago * 86400),))
    connection.commit()


def test_the_task_reads_the_remote_database_and_exits_0_when_everything_is_young(staging, cloudflare_env):
    record_mcp_event(staging, days_ago=3)
    staging.execute("INSERT INTO nodes (machine_id, last_seen, registered_at, team_key_generation) VALUES ('m-1', 0, 0, 1)")
    staging.commit()
    result = invoke_credentials("staging")
    assert result.returncode == 0, result.stderr
    assert "  MCP token  fingerprint 1a2b3c4d, rotated " in result.stdout and "by invoke rotate (ci), 3 days ago" in result.stdout
    assert "no machine's last request used an older generation" in result.stdout
    assert result.stdout.rstrip().endswith("credentials staging: ok (none older than 90 days)")
    assert cloudflare_env.token not in result.stdout + result.stderr


def test_the_task_exits_1_when_the_mcp_token_is_older_than_the_maximum_age(staging):
    record_mcp_event(staging, days_ago=120)
    result = invoke_credentials("staging")
    assert result.returncode == 1
    assert "  MCP token  fingerprint 1a2b3c4d" in result.stdout, "the report is printed before the verdict"
    assert result.stderr.strip() == ("hyphae: error: the MCP token of staging is 120 days old, above hyphae:credentials.maxAgeDays "
                                     "90 (Pulumi.staging.yaml); rotate it: `invoke rotate --env staging --credential mcp-token`")


def test_the_task_without_a_token_for_a_remote_database_is_one_line_exit_2(monkeypatch):
    result = invoke_credentials("production", CLOUDFLARE_API_TOKEN="")
    assert result.returncode == 2
    assert result.stderr.startswith("hyphae: error: CLOUDFLARE_API_TOKEN is not set") and "Traceback" not in result.stderr
