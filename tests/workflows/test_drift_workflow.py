"""The scheduled drift workflow: `invoke drift --all` and a preview-only `pulumi refresh` of every
stack; a failure opens the drift issue or updates the open one."""

from __future__ import annotations

import shlex

from infra.environments import REMOTE_ENVIRONMENTS
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
    (step,) = [step for step in drift_job()["steps"] if "pulumi refresh" in step.get("run", "")]
    stacks = []
    for line in run_lines(step["run"]):
        words = shlex.split(line.split(" >> ")[0])
        assert words[:2] == ["pulumi", "refresh"]
        assert {"--preview-only", "--expect-no-changes", "--non-interactive"} <= set(words), line
        stacks.append(words[words.index("--stack") + 1])
    assert stacks == list(REMOTE_ENVIRONMENTS)


def test_a_failure_opens_or_updates_the_drift_issue():
    job = drift_job()
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    (report,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/github-script@")]
    assert report["if"] == "always()"
    assert "require('./.github/scripts/drift-issue.cjs')" in report["with"]["script"]
