"""The pull-request workflow: lint with annotations, the test suite, and one review comment that
later runs update: what the new migrations change, risks, the plan of every environment (from
infra.environments, the one list) with dev's saved `pulumi preview`, and drift. dev is previewed
with dev's own credentials; the review reads the environments with the read-only token alone
(pull-request code never holds staging or production state credentials: test_credentials.py)."""

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


def test_dev_is_previewed_with_its_own_credentials_and_the_preview_is_saved_for_the_review():
    job = pull_request()["jobs"]["preview-dev"]
    assert job["environment"] == "dev"
    assert tasks_of(job) == [("preview", ["--env", "dev", "--json", "preview-dev.json"])]
    (upload,) = [step for step in job["steps"] if step.get("id") == "upload"]
    assert upload["with"]["path"] == "preview-dev.json"
    assert job["outputs"]["preview-artifact-id"] == "${{ steps.upload.outputs.artifact-id }}"


def test_one_job_reviews_every_environment_with_devs_saved_preview():
    review = pull_request()["jobs"]["review"]
    assert review["needs"] == ["build", "preview-dev"]
    calls = tasks_of(review)
    (args,) = [args for task, args in calls if task == "review"]
    assert args[:3] == ["--all", "--format", "markdown"]
    assert args[args.index("--preview") + 1] == "preview-dev.json"
    assert args[args.index("--full-output") + 1] == '"$GITHUB_STEP_SUMMARY"'  # the full text on the run's page
    fetched = [step for step in review["steps"] if step.get("name") == "Fetch dev's saved preview"]
    assert fetched and fetched[0]["with"]["artifact-ids"] == "${{ needs.preview-dev.outputs.preview-artifact-id }}"
    for job in pull_request()["jobs"].values():
        assert all(task not in ("migrate", "up", "outputs", "refresh") or "--plan" in args for task, args in tasks_of(job)), \
            "a pull request must never migrate or deploy"


def test_the_review_reads_live_environments_with_the_read_only_token_alone():
    review = pull_request()["jobs"]["review"]
    assert review["environment"] == "read-only"
    assert review["env"]["HYPHAE_NO_PULUMI_CLI"] == "1"
    secrets = {name for step in review["steps"] for name in (step.get("env") or {}) if "secrets." in str(step["env"][name])}
    assert secrets == {"CLOUDFLARE_API_TOKEN"}
    assert all(step.get("with", {}).get("pulumi-cli") != "true" for step in review["steps"])


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


def test_jobs_that_read_live_environments_skip_forks():
    jobs = pull_request()["jobs"]
    assert jobs["preview-dev"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["review"]["if"] == "${{ !cancelled() && github.event.pull_request.head.repo.full_name == github.repository }}"


def test_the_comment_is_made_even_when_the_preview_or_a_check_failed():
    review = pull_request()["jobs"]["review"]
    assert review["if"].startswith("${{ !cancelled()"), "a failed dev preview must not skip the review"
    comment = [step for step in review["steps"] if step.get("uses", "").startswith("actions/github-script@")]
    assert [step.get("if") for step in comment] == ["always()"]
    assert comment[0]["env"]["PREVIEW_RESULT"] == "${{ needs.preview-dev.result }}"
