"""Rules every workflow and the set-up action keep: actions pinned by commit SHA with the release
in a comment, least-privilege permissions, checkouts that keep no credentials, secrets only in jobs
bound to a GitHub environment, and every `run` step an invoke task (two named exceptions)."""

from __future__ import annotations

import re
import tomllib

from infra.paths import REPO_ROOT
from tests.workflows.reading import (
    INVOKE_LINE,
    all_steps,
    read_setup_action,
    read_workflows,
    run_lines,
    uses_lines,
)

PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")

# Steps that call a tool directly, and why no invoke task wraps them.
NOT_INVOKE = {
    ("deploy-environment.yml", "Verify the provenance attestation (built by deploy.yml from this commit)"): (
        "gh attestation verify",
        "gh is GitHub's own verifier of its attestations: one call, no logic to share with a laptop",
    ),
}

# The only jobs that may hold a write scope, and which.
WRITE_SCOPES = {
    ("deploy.yml", "build"): {"id-token", "attestations"},
    ("pull-request.yml", "review"): {"pull-requests"},
    ("drift.yml", "report"): {"issues"},
    ("backup.yml", "backup"): {"id-token", "attestations"},
    ("backup.yml", "report"): {"issues"},
}


def test_every_action_is_pinned_to_a_commit_sha_with_its_release_in_a_comment():
    problems = []
    for file, line, target, comment in uses_lines():
        if target.startswith("./"):
            continue
        if not PINNED.match(target):
            problems.append(f"{file}:{line}: {target} is not pinned to a 40-hex commit SHA")
        elif not RELEASE.match(comment):
            problems.append(f"{file}:{line}: {target} needs a `# vX.Y.Z` comment naming its release")
    assert problems == []
    assert len(uses_lines()) > 10, "no `uses:` lines were read"


def test_each_action_is_pinned_to_one_commit_everywhere():
    pins: dict[str, set[str]] = {}
    for _file, _line, target, comment in uses_lines():
        match = PINNED.match(target)
        if match:
            pins.setdefault(match["action"], set()).add(f"{match['sha']} {comment}")
    assert {action: sorted(shas) for action, shas in pins.items() if len(shas) > 1} == {}


def test_workflows_grant_nothing_at_the_top_and_every_job_declares_its_permissions():
    for name, workflow in read_workflows().items():
        assert workflow.get("permissions") == {}, f"{name}: top-level permissions must be {{}}"
        for job_id, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name} job {job_id!r} declares no permissions"
            assert isinstance(job["permissions"], dict), f"{name} job {job_id!r}: permissions must list scopes"


def test_only_the_listed_jobs_hold_write_scopes():
    granted = {}
    for name, workflow in read_workflows().items():
        for job_id, job in workflow["jobs"].items():
            writes = {scope for scope, level in job["permissions"].items() if level == "write"}
            if writes:
                granted[(name, job_id)] = writes
    assert granted == WRITE_SCOPES


def test_every_checkout_keeps_no_credentials():
    checkouts = [step for step in all_steps() if step.body.get("uses", "").startswith("actions/checkout@")]
    assert checkouts, "no checkout steps found"
    for step in checkouts:
        assert step.body.get("with", {}).get("persist-credentials") is False, step.where()


def test_secrets_are_read_only_in_jobs_bound_to_a_github_environment():
    for name, workflow in read_workflows().items():
        for job_id, job in workflow["jobs"].items():
            assert job.get("secrets") != "inherit", f"{name} job {job_id!r} passes every secret on"
            uses_secrets = "secrets." in repr(job)
            assert not uses_secrets or "environment" in job, f"{name} job {job_id!r} reads secrets outside an environment"


def test_every_run_step_calls_an_invoke_task():
    for step in all_steps():
        if "run" not in step.body:
            continue
        exception = NOT_INVOKE.get((step.file, step.body.get("name")))
        for line in run_lines(step.body["run"]):
            if exception:
                assert line.startswith(exception[0] + " "), f"{step.where()}: `{line}` is neither {exception[0]} nor a task"
            else:
                assert INVOKE_LINE.match(line), f"{step.where()}: `{line}` is not an invoke task"


def test_the_exceptions_to_invoke_exist_and_call_only_their_tool():
    steps = {(step.file, step.body.get("name")): step for step in all_steps() if "run" in step.body}
    for key, (_tool, reason) in NOT_INVOKE.items():
        assert key in steps, f"exception {key} names no step: remove it ({reason})"
        assert run_lines(steps[key].body["run"]), f"{key} runs nothing"


def test_the_pulumi_cli_pin_matches_the_pulumi_sdk_pin():
    # The CLI and the Python SDK are released together; a mismatch shows up as odd engine errors.
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    sdk = next(dep.split("==")[1] for dep in project["project"]["dependencies"] if dep.startswith("pulumi=="))
    pulumi_steps = [step for step in read_setup_action()["runs"]["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
    assert [step["with"]["pulumi-version"] for step in pulumi_steps] == [sdk]
