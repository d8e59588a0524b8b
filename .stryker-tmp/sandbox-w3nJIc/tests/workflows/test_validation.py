"""Every workflow and the set-up action pass GitHub's JSON schemas (check-jsonschema's vendored
copies) and zizmor's offline audit with no finding of medium severity or above. Both tools run
with a proxy that refuses every connection, so a test passes only if they never need the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflows.reading import GITHUB_DIR, SETUP_ACTION, WORKFLOWS_DIR, workflow_files

BIN = Path(sys.executable).parent
BLOCKING_SEVERITIES = {"medium", "high"}


def offline_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"):
        env.pop(key, None)
    # Port 9 (discard) on loopback: any attempt to reach the network fails at once.
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="", ALL_PROXY="http://127.0.0.1:9")
    return env


def check_schema(schema: str, path: Path) -> subprocess.CompletedProcess:
    command = [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)]
    return subprocess.run(command, capture_output=True, text=True, env=offline_env(), timeout=120)


def zizmor_findings(target: Path) -> list[dict]:
    command = [str(BIN / "zizmor"), "--offline", "--format", "json", str(target)]
    result = subprocess.run(command, capture_output=True, text=True, env=offline_env(), timeout=120)
    # zizmor exits non-zero when it reports findings; a crash leaves no JSON on stdout.
    assert result.stdout.strip().startswith("["), f"zizmor did not report: {result.stderr[-2000:]}"
    return json.loads(result.stdout)


def blocking(findings: list[dict]) -> list[str]:
    return [
        f"{finding['ident']} ({finding['determinations']['severity']}) at "
        f"{finding['locations'][0]['symbolic']['key']['Local']['verbatim_path']}:"
        f"{finding['locations'][0]['concrete']['location']['start_point']['row'] + 1}: {finding['desc']}"
        for finding in findings
        if finding["determinations"]["severity"].lower() in BLOCKING_SEVERITIES
    ]


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_workflow_matches_githubs_workflow_schema(path: Path):
    result = check_schema("vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_setup_action_matches_githubs_action_schema():
    result = check_schema("vendor.github-actions", SETUP_ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_config_matches_its_schema():
    result = check_schema("vendor.dependabot", GITHUB_DIR / "dependabot.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_misspelled_job_key(tmp_path: Path):
    text = (WORKFLOWS_DIR / "pull-request.yml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("    runs-on: ubuntu-24.04\n", "    runs_on: ubuntu-24.04\n", 1), encoding="utf-8")
    result = check_schema("vendor.github-workflows", broken)
    assert result.returncode == 1, "the schema check accepted `runs_on`; it cannot be trusted to catch errors"


def test_zizmor_finds_nothing_of_medium_severity_or_above():
    findings = zizmor_findings(GITHUB_DIR)
    assert blocking(findings) == []


def test_zizmor_audit_catches_a_template_injection(tmp_path: Path):
    # The same audit on a copy with one injectable step must fail: the severity filter is live.
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = (WORKFLOWS_DIR / "pull-request.yml").read_text(encoding="utf-8")
    injected = text.replace(
        "      - name: Lint migrations\n",
        "      - name: Echo the title\n        run: echo \"${{ github.event.pull_request.title }}\"\n"
        "      - name: Lint migrations\n",
        1,
    )
    assert injected != text
    (workflows / "pull-request.yml").write_text(injected, encoding="utf-8")
    found = blocking(zizmor_findings(workflows / "pull-request.yml"))
    assert any(line.startswith("template-injection") for line in found), found
