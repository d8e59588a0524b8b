"""The pull-request workflow: lint with annotations, the test suite, and for every remote
environment (from infra.environments, the one list) the migration plan and `pulumi preview` in one
comment each, plus the drift report as one comment that later runs update."""

from __future__ import annotations

from infra.environments import REMOTE_ENVIRONMENTS
from tests.workflows.reading import INVOKE_LINE, read_workflows, run_lines


def pull_request() -> dict:
    return read_workflows()["pull-request.yml"]


def tasks_of(job: dict) -> list[tuple[str, list[str]]]:
    calls = []
    for step in job["steps"]:
        for line in run_lines(step.get("run", "")):
            match = INVOKE_LINE.match(line)
            if match:
                calls.append((match["task"], match["args"].split()))
    return calls


def scripts_of(job: dict) -> list[str]:
    return [step["with"]["script"] for step in job["steps"] if step.get("uses", "").startswith("actions/github-script@")]


def test_runs_on_pull_requests_without_the_target_branchs_privileges():
    triggers = pull_request()["on"]
    assert "pull_request" in triggers and "pull_request_target" not in triggers


def test_lint_writes_annotations_on_the_diff():
    assert ("lint", ["--format", "github"]) in tasks_of(pull_request()["jobs"]["lint"])


def test_the_test_suite_runs():
    assert ("test", []) in tasks_of(pull_request()["jobs"]["test"])


def test_every_remote_environment_gets_a_migration_plan_and_a_pulumi_preview():
    plan = pull_request()["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["environment"] == list(REMOTE_ENVIRONMENTS)
    assert plan["env"]["TARGET_ENV"] == "${{ matrix.environment }}"
    calls = tasks_of(plan)
    assert ("migrate", ["--env", '"$TARGET_ENV"', "--plan", "--format", "human"]) in calls
    assert ("preview", ["--env", '"$TARGET_ENV"']) in calls
    assert all(task != "migrate" or "--plan" in args for task, args in calls), "a pull request must never migrate"


def test_plan_and_preview_are_posted_as_one_comment_per_environment():
    (script,) = scripts_of(pull_request()["jobs"]["plan"])
    assert "require('./.github/scripts/sticky-comment.cjs')" in script
    assert "marker: `hyphae:plan:${environment}`" in script
    assert "migrate-plan.txt" in script and "pulumi-preview.txt" in script


def test_the_drift_report_covers_every_environment_in_one_updated_comment():
    drift = pull_request()["jobs"]["drift"]
    assert [args for task, args in tasks_of(drift) if task == "drift"] == [["--all", "--format", "markdown"]]
    (script,) = scripts_of(drift)
    assert "marker: 'hyphae:drift'" in script and "drift-report.md" in script


def test_jobs_that_read_live_environments_use_the_read_only_environment_and_skip_forks():
    for job_id in ("plan", "drift"):
        job = pull_request()["jobs"][job_id]
        assert job["environment"] == "preview", job_id
        assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository", job_id


def test_comment_steps_run_even_when_a_check_failed():
    for job_id in ("plan", "drift"):
        steps = pull_request()["jobs"][job_id]["steps"]
        comment = [step for step in steps if step.get("uses", "").startswith("actions/github-script@")]
        assert [step.get("if") for step in comment] == ["always()"], job_id
