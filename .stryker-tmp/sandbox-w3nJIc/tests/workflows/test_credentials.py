"""No job a pull request starts can reach staging or production state credentials, in any workflow.

Whoever holds a stack's Pulumi state credentials (the backend's keys, or a Pulumi Cloud token)
and its passphrase can read every secret of the stack (`pulumi stack output --show-secrets`: the
team API key) and write or unlock its state. A pull request runs its branch's own code, so a job
it starts must hold none of staging's or production's. Which secrets a GitHub environment holds is
set in GitHub, not in the repository: `GITHUB_ENVIRONMENTS` declares it (docs/ci.md's table says
the same, checked below), and the check runs over every workflow file, whoever adds one:
- every job of a workflow triggered by `pull_request` or `pull_request_target`, and every job of
  a reusable workflow such a job calls, is started by a pull request;
- such a job's `environment` must be one that holds no staging/production state; an expression
  (`${{ matrix.x }}`, `${{ inputs.x }}`) counts with every value the matrix or the callers give it,
  and one that can't be resolved is refused;
- it may name a state credential (`secrets.PULUMI_*`, the backend's `AWS_*`) only in `dev`,
  whose state lives in its own backend; it never passes `secrets: inherit`.
"""

from __future__ import annotations

import re

import pytest

from infra.paths import REPO_ROOT
from tests.workflows.reading import read_workflows

STATE_CREDENTIALS = ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
NO_STATE, DEV_STATE, STAGING_PRODUCTION_STATE = "no state", "dev state only", "staging and production state"
# GitHub environment -> the state credentials it holds (docs/ci.md, "Permissions and secrets").
GITHUB_ENVIRONMENTS = {
    "dev": DEV_STATE,
    "read-only": NO_STATE,
    "main-preview": STAGING_PRODUCTION_STATE,
    "staging": STAGING_PRODUCTION_STATE,
    "production": STAGING_PRODUCTION_STATE,
}
PULL_REQUEST_TRIGGERS = ("pull_request", "pull_request_target")
EXPRESSION = re.compile(r"^\$\{\{\s*(?P<scope>matrix|inputs)\.(?P<name>[\w-]+)\s*\}\}$")


def pull_request_jobs(workflows: dict[str, dict]) -> list[tuple[str, str, dict, list[dict]]]:
    """(file, job id, job, the `with:` of each call that reached it) of every job a pull request starts."""
    found = []

    def visit(file: str, calls: list[dict]) -> None:
        for job_id, job in workflows[file]["jobs"].items():
            found.append((file, job_id, job, calls))
            called = job.get("uses", "")
            if called.startswith("./.github/workflows/"):
                visit(called.rsplit("/", 1)[-1], [job.get("with", {})])

    for file, workflow in workflows.items():
        triggers = workflow.get("on") or {}
        triggers = [triggers] if isinstance(triggers, str) else list(triggers)
        if any(trigger in PULL_REQUEST_TRIGGERS for trigger in triggers):
            visit(file, [])
    return found


def environments_of(job: dict, calls: list[dict]) -> set[str] | None:
    """Every GitHub environment the job can run in (empty: none); None when it can't be told."""
    environment = job.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    if environment is None:
        return set()
    match = EXPRESSION.match(str(environment))
    if "${{" not in str(environment):
        return {str(environment)}
    if not match:
        return None
    if match["scope"] == "inputs":
        values = {call.get(match["name"]) for call in calls}
        return None if not calls or None in values or any("${{" in str(value) for value in values) else set(values)
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    values = list(matrix.get(match["name"]) or []) + [entry.get(match["name"]) for entry in matrix.get("include") or []]
    return None if not values or None in values or any("${{" in str(value) for value in values) else set(values)


def credential_problems(workflows: dict[str, dict]) -> list[str]:
    problems = []
    for file, job_id, job, calls in pull_request_jobs(workflows):
        where = f"{file} job {job_id!r} (started by pull requests)"
        environments = environments_of(job, calls)
        if job.get("secrets") == "inherit":
            problems.append(f"{where} passes every secret on (`secrets: inherit`)")
        if environments is None:
            problems.append(f"{where}: environment {job.get('environment')!r} can't be resolved; name it literally")
            continue
        for environment in sorted(environments):
            holds = GITHUB_ENVIRONMENTS.get(environment)
            if holds is None:
                problems.append(f"{where}: GitHub environment {environment!r} is not declared in GITHUB_ENVIRONMENTS "
                                "(and docs/ci.md): say which state credentials it holds")
            elif holds == STAGING_PRODUCTION_STATE:
                problems.append(f"{where} runs in {environment!r}, which holds staging/production state credentials")
        named = sorted(name for name in STATE_CREDENTIALS if f"secrets.{name}" in repr(job))
        if named and environments != {"dev"}:
            problems.append(f"{where} names state credentials {', '.join(named)} outside the `dev` environment")
    return problems


def test_no_job_a_pull_request_starts_can_reach_staging_or_production_state():
    workflows = read_workflows()
    assert pull_request_jobs(workflows), "no workflow runs on pull requests"
    assert credential_problems(workflows) == []


def test_pull_requests_still_preview_dev_and_review_every_environment():
    reached = {(file, job_id): environments_of(job, calls) for file, job_id, job, calls in pull_request_jobs(read_workflows())}
    assert reached[("pull-request.yml", "preview-dev")] == {"dev"}
    assert reached[("pull-request.yml", "review")] == {"read-only"}


CALLED = {"on": {"workflow_call": {"inputs": {"environment": {"type": "string"}}}},
          "jobs": {"go": {"environment": "${{ inputs.environment }}", "runs-on": "x", "steps": []}}}


@pytest.mark.parametrize("workflows, problem", [
    ({"pr.yml": {"on": {"pull_request": {}}, "jobs": {"p": {"environment": "staging"}}}},
     "pr.yml job 'p' (started by pull requests) runs in 'staging', which holds staging/production state credentials"),
    ({"pr.yml": {"on": ["push", "pull_request_target"], "jobs": {"p": {
        "environment": "${{ matrix.environment }}", "strategy": {"matrix": {"environment": ["dev", "production"]}}}}}},
     "runs in 'production'"),
    ({"pr.yml": {"on": {"pull_request": {}}, "jobs": {"p": {"uses": "./.github/workflows/called.yml",
                                                            "with": {"environment": "main-preview"}}}},
      "called.yml": CALLED},
     "called.yml job 'go' (started by pull requests) runs in 'main-preview'"),
    ({"pr.yml": {"on": {"pull_request": {}}, "jobs": {"p": {"environment": "read-only", "env": {
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}}}}},
     "names state credentials PULUMI_CONFIG_PASSPHRASE outside the `dev` environment"),
    ({"pr.yml": {"on": {"pull_request": {}}, "jobs": {"p": {"environment": "${{ github.head_ref }}"}}}},
     "can't be resolved"),
    ({"pr.yml": {"on": {"pull_request": {}}, "jobs": {"p": {"environment": "preview"}}}},
     "'preview' is not declared"),
    ({"pr.yml": {"on": {"pull_request": {}}, "jobs": {"p": {"uses": "./.github/workflows/called.yml", "secrets": "inherit",
                                                            "with": {"environment": "dev"}}}},
      "called.yml": CALLED},
     "passes every secret on"),
])
def test_the_check_refuses_each_way_a_pull_request_could_reach_state(workflows, problem):
    problems = credential_problems(workflows)
    assert any(problem in found for found in problems), problems


def test_a_workflow_pull_requests_do_not_start_may_use_the_protected_environments():
    workflows = {"deploy.yml": {"on": {"push": {"branches": ["main"]}}, "jobs": {"d": {"environment": "production", "env": {
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}}}}}
    assert credential_problems(workflows) == []


def test_docs_say_which_environment_holds_which_state_credentials():
    doc = (REPO_ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([\w-]+)` \|[^|]*\|[^|]*\| ([^|]+?) \|", doc, flags=re.MULTILINE))
    assert {name: rows.get(name) for name in GITHUB_ENVIRONMENTS} == GITHUB_ENVIRONMENTS
