"""The scheduled drift workflow: `invoke drift --all` from the read-only token, a preview-only
`pulumi refresh` of every stack in the environment holding its state; a failure opens the drift
issue or updates the open one."""

from __future__ import annotations

from infra.environments import REMOTE_ENVIRONMENTS
from infra.stack.cli import plan_refresh_command
from tests.workflows.reading import INVOKE_LINE, read_workflows, run_lines


def drift_job() -> dict:
    return read_workflows()["drift.yml"]["jobs"]["drift"]


def job(job_id: str) -> dict:
    return read_workflows()["drift.yml"]["jobs"][job_id]


def test_runs_on_a_schedule_and_on_demand():
    triggers = read_workflows()["drift.yml"]["on"]
    assert triggers["schedule"] and "workflow_dispatch" in triggers


def test_checks_every_environment_with_invoke_drift():
    lines = [line for step in drift_job()["steps"] for line in run_lines(step.get("run", ""))]
    calls = [(m["task"], m["args"].split()) for m in map(INVOKE_LINE.match, lines) if m]
    assert ("drift", ["--all", "--format", "markdown"]) in calls


def test_refreshes_every_stack_as_a_preview_that_expects_no_changes():
    refresh = job("refresh")
    matrix = refresh["strategy"]["matrix"]["include"]
    assert [entry["environment"] for entry in matrix] == list(REMOTE_ENVIRONMENTS)
    assert refresh["environment"] == "${{ matrix.github-environment }}"
    assert {entry["environment"]: entry["github-environment"] for entry in matrix} == {
        "dev": "dev", "staging": "main-preview", "production": "main-preview"}
    (step,) = [step for step in refresh["steps"] if "refresh" in step.get("run", "")]
    calls = [INVOKE_LINE.match(line) for line in run_lines(step["run"])]
    assert all(calls), step["run"]
    assert [(m["task"], m["args"].split()[:2]) for m in calls] == [("refresh", ["--env", '"$TARGET_ENV"'])]
    assert plan_refresh_command("staging")[:2] == ["pulumi", "refresh"]
    assert {"--preview-only", "--expect-no-changes", "--non-interactive"} <= set(plan_refresh_command("staging"))


def test_drift_reads_with_the_read_only_token_and_no_pulumi_state():
    drift = drift_job()
    assert drift["environment"] == "read-only" and drift["env"]["HYPHAE_NO_PULUMI_CLI"] == "1"
    assert "PULUMI" not in repr(drift["steps"])


def test_a_failure_opens_or_updates_the_drift_issue():
    report = job("report")
    assert report["permissions"] == {"contents": "read", "issues": "write"}
    assert report["needs"] == ["drift", "refresh"] and report["if"] == "always()"
    (script,) = [step for step in report["steps"] if step.get("uses", "").startswith("actions/github-script@")]
    assert "require('./.github/scripts/drift-issue.cjs')" in script["with"]["script"]
    for environment in REMOTE_ENVIRONMENTS:
        assert f"'{environment}'" in script["with"]["script"], f"the refresh of {environment} is in the issue"
