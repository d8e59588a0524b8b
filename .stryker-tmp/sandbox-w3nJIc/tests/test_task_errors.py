"""Every task answers bad input with one line naming what to fix, exit code 2, and no traceback."""

import json
import os
import subprocess
import sys

import pytest

from infra.paths import REPO_ROOT

BAD_INPUT = {
    "lint --path /nonexistent": "--path /nonexistent: no such migrations folder",
    "lint --format xml": "--format 'xml' is not one of human, json, github",
    "migrate --env prodution": "did you mean 'production'?",
    "migrate --path /nonexistent": "no such migrations folder",
    "status --env qa": "unknown environment 'qa'",
    "drift --env qa": "unknown environment 'qa'",
    "drift --format yaml": "--format 'yaml' is not one of human, json, markdown",
    "restore --env local": "restore needs --env ENV and --bookmark B",
    "verify --env stagin": "did you mean 'staging'?",
    "preview": "--env is required",
    "up --env local": "--env 'local' is not one of dev, staging, production",
    "outputs --env qa": "--env 'qa' is not one of dev, staging, production",
    "refresh --env local": "--env 'local' is not one of dev, staging, production",
    "smoke --env qa": "--env 'qa' is not one of",
    "new Bad-Slug": "migration slug 'Bad-Slug' must be lower-case",
    "migrate --env staging": "CLOUDFLARE_API_TOKEN is not set",
    "review --format json": "--format 'json' is not one of human, markdown",
    "review --env stagin": "did you mean 'staging'?",
    "review --path /nonexistent": "--path /nonexistent: no such migrations folder",
    "review --preview /nonexistent.json": "review printed, but --preview /nonexistent.json could not be read",
}


@pytest.mark.parametrize("arguments", sorted(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_without_traceback(arguments, tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CLOUDFLARE_", "HYPHAE_STAGING"))}
    environment["HYPHAE_NO_PULUMI_CLI"] = "1"
    result = subprocess.run([sys.executable, "-m", "invoke", *arguments.split()], cwd=REPO_ROOT, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, (arguments, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hyphae: error: "), result.stderr
    assert BAD_INPUT[arguments] in lines[0]


def test_a_reader_that_leaves_early_stops_neither_the_work_nor_the_verdict(tmp_path):
    """`invoke migrate | head -1`: the migration still completes (ledger and lock straight), no traceback."""
    environment = os.environ | {"HYPHAE_STATE_DIR": str(tmp_path)}
    migrate = subprocess.Popen([sys.executable, "-m", "invoke", "migrate"], cwd=REPO_ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    migrate.stdout.close()  # the reader is gone before the first line
    stderr = migrate.stderr.read().decode()
    assert migrate.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr

    status = subprocess.run([sys.executable, "-m", "invoke", "status", "--format", "json"], cwd=REPO_ROOT,
                            env=environment, capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["pending"] == [] and len(state["applied"]) == len(list((REPO_ROOT / "migrations").glob("*.sql")))
