"""The pull-request workflow: lint with annotations, the test suite, and one review comment that
later runs update: what the new migrations change, risks, the plan of every environment (from
infra.environments, the one list) with dev's saved `pulumi preview`, and drift."""

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


def test_one_job_reviews_every_environment_with_devs_saved_preview():
    review = pull_request()["jobs"]["review"]
    calls = tasks_of(review)
    assert ("preview", ["--env", "dev", "--json", "preview-dev.json"]) in calls
    (args,) = [args for task, args in calls if task == "review"]
    assert args[:3] == ["--all", "--format", "markdown"]
    assert args[args.index("--preview") + 1] == "preview-dev.json"
    assert args[args.index("--full-output") + 1] == '"$GITHUB_STEP_SUMMARY"'  # the full text on the run's page
    assert all(task not in ("migrate", "up") for task, _ in calls), "a pull request must never migrate or deploy"


def test_the_review_finds_its_merge_base_in_the_whole_history():
    (checkout,) = [step for step in pull_request()["jobs"]["review"]["steps"]
                   if step.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0 and checkout["with"]["persist-credentials"] is False


def test_the_review_is_the_only_comment_and_replaces_the_old_ones():
    jobs = pull_request()["jobs"]
    commenting = [job_id for job_id, job in jobs.items() if scripts_of(job)]
    assert commenting == ["review"]
    (script,) = scripts_of(jobs["review"])
    assert "require('./.github/scripts/sticky-comment.cjs')" in script
    assert "marker: 'hyphae-review'" in script and "body: 'review.md'" in script
    old = [f"hyphae:plan:{env}" for env in REMOTE_ENVIRONMENTS] + ["hyphae:drift"]
    assert f"replaces: {old!r}".replace('"', "'") in script


def test_the_job_that_reads_live_environments_uses_the_read_only_environment_and_skips_forks():
    job = pull_request()["jobs"]["review"]
    assert job["environment"] == "preview"
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


def test_the_comment_step_runs_even_when_a_check_failed():
    steps = pull_request()["jobs"]["review"]["steps"]
    comment = [step for step in steps if step.get("uses", "").startswith("actions/github-script@")]
    assert [step.get("if") for step in comment] == ["always()"]
