"""The scheduled drift workflow: `invoke drift --all` and a preview-only `pulumi refresh` of every
stack; a failure opens the drift issue or updates the open one."""

from __future__ import annotations

from infra.environments import REMOTE_ENVIRONMENTS
from infra.stack.cli import plan_refresh_command
from tests.workflows.reading import INVOKE_LINE, read_workflows, run_lines


def drift_job() -> dict:
    return read_workflows()["drift.yml"]["jobs"]["drift"]


def test_runs_on_a_schedule_and_on_demand():
    triggers = read_workflows()["drift.yml"]["on"]
    assert triggers["schedule"] and "workflow_dispatch" in triggers


def test_checks_every_environment_with_invoke_drift():
    lines = [line for step in drift_job()["steps"] for line in run_lines(step.get("run", ""))]
    calls = [(m["task"], m["args"].split()) for m in map(INVOKE_LINE.match, lines) if m]
    assert ("drift", ["--all", "--format", "markdown"]) in calls


def test_refreshes_every_stack_as_a_preview_that_expects_no_changes():
    (step,) = [step for step in drift_job()["steps"] if "refresh" in step.get("run", "")]
    calls = [INVOKE_LINE.match(line) for line in run_lines(step["run"])]
    assert all(calls), step["run"]
    assert [(m["task"], m["args"].split()[:2]) for m in calls] == [
        ("refresh", ["--env", env]) for env in REMOTE_ENVIRONMENTS]
    assert plan_refresh_command("staging")[:2] == ["pulumi", "refresh"]
    assert {"--preview-only", "--expect-no-changes", "--non-interactive"} <= set(plan_refresh_command("staging"))


def test_a_failure_opens_or_updates_the_drift_issue():
    job = drift_job()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    (report,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/github-script@")]
    assert report["if"] == "always()"
    assert "require('./.github/scripts/drift-issue.cjs')" in report["with"]["script"]
