"""`invoke drift` as CI runs it: exit 0 clean, 1 drift, 2 error; the markdown pull-request comment."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from infra.environments import load_environment
from infra.history.files import latest_version, read_migrations
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, local_d1_file
from infra.runner.apply import run_migrate

INVOKE = str(REPO_ROOT / ".venv" / "bin" / "invoke")
LATEST = f"{latest_version(read_migrations(DEFAULT_MIGRATIONS_DIR)):04d}"


def invoke_drift(*flags: str, **variables: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "HYPHAE_NO_PULUMI_CLI": "1", **variables}
    return subprocess.run([INVOKE, "drift", *flags], cwd=REPO_ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def migrated_local():
    run_migrate("local", DEFAULT_MIGRATIONS_DIR)
    return local_d1_file(load_environment("local").local_database_id)


def add_column_out_of_band(path) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("ALTER TABLE sessions ADD COLUMN mood TEXT")
    connection.execute("DROP INDEX idx_spores_status")
    connection.close()


def test_exit_0_when_clean(migrated_local):
    result = invoke_drift()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"local: clean; schema at {LATEST} of {LATEST}, ")
    assert result.stdout.splitlines()[-1] == "drift: none"


def test_exit_1_on_drift_with_each_finding_named(migrated_local):
    add_column_out_of_band(migrated_local)
    result = invoke_drift("--env", "local")
    assert result.returncode == 1
    assert "  SCH002 extra column sessions.mood: mood TEXT in the database only" in result.stdout
    assert "  SCH001 missing index idx_spores_status: ON spores(status) in the repository, not in the database" \
        in result.stdout
    assert result.stderr.strip() == "hyphae: error: drift found in local (details above)"
    assert "Traceback" not in result.stderr


def test_exit_2_for_an_unknown_environment_with_a_suggestion():
    result = invoke_drift("--env", "stagin")
    assert result.returncode == 2
    assert result.stderr.strip() == ("hyphae: error: unknown environment 'stagin' (known: local, dev, staging, "
                                     "production); did you mean 'staging'?")
    assert result.stdout == ""


def test_exit_2_when_credentials_are_missing():
    variables = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDFLARE_")}
    result = subprocess.run([INVOKE, "drift", "--env", "staging"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**variables, "HYPHAE_NO_PULUMI_CLI": "1",
                                 "HYPHAE_STAGING_DATABASE_ID": "00000000-0000-0000-0000-000000000000"}, timeout=120)
    assert result.returncode == 2
    assert "CLOUDFLARE_API_TOKEN is not set" in result.stderr


def test_exit_2_when_the_api_is_unreachable(cloudflare_env):
    result = invoke_drift("--env", "staging", HYPHAE_CLOUDFLARE_API_BASE="http://127.0.0.1:9/client/v4",
                          HYPHAE_STAGING_DATABASE_ID="00000000-0000-0000-0000-000000000000")
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("hyphae: error: ")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_exit_2_for_a_missing_folder_or_an_unknown_format(tmp_path):
    assert invoke_drift("--path", str(tmp_path / "nope")).returncode == 2
    result = invoke_drift("--format", "markdwon")
    assert result.returncode == 2 and "did you mean 'markdown'?" in result.stderr


def test_a_remote_environment_through_the_loopback_api(cloudflare_env, tmp_path):
    database_id = cloudflare_env.d1.add_database(name="myco-team-dev")
    variables = {"HYPHAE_DEV_DATABASE_ID": database_id, "HYPHAE_DEV_KV_NAMESPACE_ID": "d" * 32}
    os.environ.update(variables)  # run_migrate in this process reads the same outputs
    try:
        run_migrate("dev", DEFAULT_MIGRATIONS_DIR)
    finally:
        for key in variables:
            del os.environ[key]
    cloudflare_env.workers.deploy("myco-team-dev", [
        {"type": "d1", "name": "MYCO_TEAM_DB", "id": database_id},
        {"type": "vectorize", "name": "MYCO_TEAM_VECTORS", "index_name": "myco-team-dev-vectors"},
        {"type": "kv_namespace", "name": "MYCO_SECRETS", "namespace_id": "0" * 32},
        {"type": "secret_text", "name": "MYCO_TEAM_API_KEY"},
        {"type": "ai", "name": "AI"},
        {"type": "plain_text", "name": "SYNC_PROTOCOL_VERSION", "text": "3"},
        {"type": "plain_text", "name": "MIN_COMPAT_CLIENT_VERSION", "text": "1"},
        {"type": "plain_text", "name": "EMBEDDING_MODEL", "text": "@cf/baai/bge-m3"},
        {"type": "plain_text", "name": "MYCO_SCHEMA_VERSION", "text": "5"},
    ])
    result = invoke_drift("--env", "dev", "--format", "json", **variables)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [(f["code"], f["object"], f["detail"]) for f in report["environments"][0]["findings"]] == [
        ("BND002", "binding MYCO_SECRETS",
         f"repository kv_namespace namespace_id={'d' * 32}, live kv_namespace namespace_id={'0' * 32}"),
    ]
    assert cloudflare_env.token not in result.stdout + result.stderr


def test_markdown_is_one_stable_comment(migrated_local):
    add_column_out_of_band(migrated_local)
    first = invoke_drift("--format", "markdown")
    second = invoke_drift("--format", "markdown")
    assert first.returncode == 1 and first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert lines[0] == "<!-- hyphae-drift -->"
    assert lines[1] == "**hyphae drift**: 1 of 1 environment drifted"
    assert lines[3].startswith(f"- ❌ `local`: 2 findings (schema: 2); schema at {LATEST} of {LATEST}, ")
    assert "| environment | code | change | object | what differs | likely cause |" in lines
    assert "| local | SCH002 | extra | column sessions.mood | mood TEXT in the database only | changed out of band |" \
        in lines
    assert ("| local | SCH001 | missing | index idx_spores_status | ON spores(status) in the repository, not in the "
            "database | changed out of band |") in lines
    assert "<details><summary>How to fix each finding</summary>" in lines and lines[-1] == "</details>"


def test_markdown_is_the_same_text_from_another_state_folder_and_run(migrated_local, tmp_path, monkeypatch):
    # CI updates one comment in place: no path, time or run-specific value may reach it.
    add_column_out_of_band(migrated_local)
    first = invoke_drift("--format", "markdown").stdout
    elsewhere = tmp_path / "other-state"
    monkeypatch.setenv("HYPHAE_STATE_DIR", str(elsewhere))
    run_migrate("local", DEFAULT_MIGRATIONS_DIR)
    add_column_out_of_band(local_d1_file(load_environment("local").local_database_id))
    assert local_d1_file(load_environment("local").local_database_id) != migrated_local
    assert invoke_drift("--format", "markdown").stdout == first


def test_markdown_when_clean_has_the_marker_and_a_summary_line(migrated_local):
    result = invoke_drift("--format", "markdown")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[:3] == ["<!-- hyphae-drift -->", "**hyphae drift**: no drift", ""]
    assert re.fullmatch(rf"- ✅ `local`: clean; schema at {LATEST} of {LATEST}, \d+ objects compared; "
                        "checked schema, history, contract, local config", lines[3])
    assert "|" not in result.stdout


def test_drift_does_not_import_pulumi(migrated_local):
    code = ("import sys; from infra.drift.check import check_drift; from infra.paths import DEFAULT_MIGRATIONS_DIR; "
            "check_drift(['local'], DEFAULT_MIGRATIONS_DIR); import tasks; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_cloudflare')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr


def test_an_environment_not_created_yet_exits_0_with_a_notice(cloudflare_env):
    result = invoke_drift("--env", "production", "--format", "markdown",
                          CLOUDFLARE_API_TOKEN=cloudflare_env.token, CLOUDFLARE_ACCOUNT_ID=cloudflare_env.account_id,
                          HYPHAE_CLOUDFLARE_API_BASE=cloudflare_env.base_url)
    assert result.returncode == 0, result.stderr
    assert "not created yet" in result.stdout and "NEW001" in result.stdout
