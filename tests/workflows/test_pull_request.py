"""The pull-request workflow: lint with annotations, the test suite, and for every remote
environment (from infra.environments, the one list) the migration plan in one comment each, with
`pulumi preview` for dev only (staging's and production's run in the deploy workflow: pull-request
code never holds their state credentials, see test_credentials.py), plus the drift report as one
comment that later runs update."""

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


def test_every_remote_environment_gets_a_migration_plan_and_dev_a_pulumi_preview():
    jobs = pull_request()["jobs"]
    dev, others = jobs["plan-dev"], jobs["plan"]
    assert dev["env"]["TARGET_ENV"] == "dev"
    assert others["strategy"]["matrix"]["environment"] == [name for name in REMOTE_ENVIRONMENTS if name != "dev"]
    assert others["env"]["TARGET_ENV"] == "${{ matrix.environment }}"
    plan = ("migrate", ["--env", '"$TARGET_ENV"', "--plan", "--format", "human"])
    assert plan in tasks_of(dev) and plan in tasks_of(others)
    assert ("preview", ["--env", '"$TARGET_ENV"']) in tasks_of(dev)
    assert [task for task, _args in tasks_of(others) if task in ("preview", "up", "outputs", "refresh")] == [], \
        "staging and production are never previewed from pull-request code"
    for job in (dev, others):
        assert all(task != "migrate" or "--plan" in args for task, args in tasks_of(job)), "a pull request must never migrate"


def test_staging_and_production_are_planned_from_the_read_only_token_alone():
    plan = pull_request()["jobs"]["plan"]
    assert plan["env"]["HYPHAE_NO_PULUMI_CLI"] == "1"
    secrets = {name for step in plan["steps"] for name in (step.get("env") or {}) if "secrets." in str(step["env"][name])}
    assert secrets == {"CLOUDFLARE_API_TOKEN"}
    assert all(step.get("with", {}).get("pulumi-cli") != "true" for step in plan["steps"])


def test_plan_and_preview_are_posted_as_one_comment_per_environment():
    for job_id in ("plan-dev", "plan"):
        (script,) = scripts_of(pull_request()["jobs"][job_id])
        assert "require('./.github/scripts/sticky-comment.cjs')" in script
        assert "marker: `hyphae:plan:${environment}`" in script
        assert "migrate-plan.txt" in script
    assert "pulumi-preview.txt" in scripts_of(pull_request()["jobs"]["plan-dev"])[0]
    assert "Runs in the deploy workflow" in scripts_of(pull_request()["jobs"]["plan"])[0]


def test_the_drift_report_covers_every_environment_in_one_updated_comment():
    drift = pull_request()["jobs"]["drift"]
    assert [args for task, args in tasks_of(drift) if task == "drift"] == [["--all", "--format", "markdown"]]
    (script,) = scripts_of(drift)
    assert "marker: 'hyphae:drift'" in script and "drift-report.md" in script


def test_jobs_that_read_live_environments_skip_forks():
    for job_id, environment in (("plan-dev", "dev"), ("plan", "read-only"), ("drift", "read-only")):
        job = pull_request()["jobs"][job_id]
        assert job["environment"] == environment, job_id
        assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository", job_id


def test_comment_steps_run_even_when_a_check_failed():
    for job_id in ("plan-dev", "plan", "drift"):
        steps = pull_request()["jobs"][job_id]["steps"]
        comment = [step for step in steps if step.get("uses", "").startswith("actions/github-script@")]
        assert [step.get("if") for step in comment] == ["always()"], job_id
