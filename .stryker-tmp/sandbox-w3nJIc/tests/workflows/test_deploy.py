"""The deploy workflow: one build job makes and attests the artifact; staging and production
deploy that artifact, fetched by id and refused unless its digest is the build job's, never
building the Worker nor installing its toolchain; each environment's migration plan and `pulumi
preview` run first, in their own job, before the approval; production runs after staging; one
deploy per environment at a time."""

from __future__ import annotations

from tests.workflows.reading import (
    DEPLOY_ENVIRONMENT,
    INVOKE_LINE,
    LOCAL_SETUP,
    WORKFLOWS_DIR,
    read_setup_action,
    read_workflows,
    run_lines,
)

NODE_TOOLS = ("npm ", "npx ", "yarn ", "pnpm ", "node ")


def deploy() -> dict:
    return read_workflows()["deploy.yml"]


def deploy_environment_job() -> dict:
    jobs = read_workflows()["deploy-environment.yml"]["jobs"]
    assert list(jobs) == ["preview", "deploy"]
    return jobs["deploy"]


def preview_job() -> dict:
    return read_workflows()["deploy-environment.yml"]["jobs"]["preview"]


def invoke_calls(steps: list[dict]) -> list[tuple[str, list[str]]]:
    calls = []
    for step in steps:
        for line in run_lines(step.get("run", "")):
            match = INVOKE_LINE.match(line)
            if match:
                calls.append((match["task"], match["args"].split()))
    return calls


def step_index(steps: list[dict], predicate) -> int:
    found = [index for index, step in enumerate(steps) if predicate(step)]
    assert len(found) == 1, f"expected one matching step, found {len(found)}"
    return found[0]


def test_deploy_runs_on_push_to_main_only():
    assert deploy()["on"] == {"push": {"branches": ["main"]}}


def test_the_build_job_builds_uploads_and_attests_the_artifact_and_outputs_its_id_and_digest():
    build = deploy()["jobs"]["build"]
    steps = build["steps"]
    assert ("build", []) in invoke_calls(steps)
    upload = steps[step_index(steps, lambda s: s.get("uses", "").startswith("actions/upload-artifact@"))]
    assert upload["with"]["path"] == "dist/" and upload["with"]["if-no-files-found"] == "error"
    attest = steps[step_index(steps, lambda s: s.get("uses", "").startswith("actions/attest-build-provenance@"))]
    assert attest["with"]["subject-path"] == "dist/manifest.json"
    assert build["outputs"] == {
        "artifact-id": "${{ steps.upload.outputs.artifact-id }}",
        "artifact-digest": "${{ steps.upload.outputs.artifact-digest }}",
    }
    assert upload["id"] == "upload"
    assert build["permissions"] == {"contents": "read", "id-token": "write", "attestations": "write"}


def test_staging_and_production_deploy_the_built_artifact_through_one_reusable_workflow():
    jobs = deploy()["jobs"]
    for environment in ("staging", "production"):
        job = jobs[environment]
        assert job["uses"] == DEPLOY_ENVIRONMENT, environment
        assert job["with"]["environment"] == environment
        assert job["with"]["artifact-id"] == "${{ needs.build.outputs.artifact-id }}"
        assert "build" in ([job["needs"]] if isinstance(job["needs"], str) else job["needs"])
    assert set(jobs) == {"build", "staging", "production"}


def test_production_needs_staging():
    needs = deploy()["jobs"]["production"]["needs"]
    assert "staging" in ([needs] if isinstance(needs, str) else needs)


def test_deploy_jobs_run_in_their_github_environment_one_at_a_time():
    job = deploy_environment_job()
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    inputs = read_workflows()["deploy-environment.yml"]["on"]["workflow_call"]["inputs"]
    assert {"environment", "artifact-id", "artifact-digest"} <= set(inputs)


def test_deploy_jobs_fetch_the_artifact_by_id_checking_its_digest_and_never_build_or_install_the_worker_toolchain():
    for job in (preview_job(), deploy_environment_job()):
        steps = job["steps"]
        assert job["env"]["HYPHAE_SKIP_NODE"] == "1", "./run would install node_modules"
        fetch = steps[step_index(steps, lambda s: "fetch-artifact" in s.get("run", ""))]
        assert invoke_calls([fetch]) == [("fetch-artifact", ["--artifact-id", '"$ARTIFACT_ID"', "--digest",
                                                             '"$ARTIFACT_DIGEST"', "--to", "dist"])]
        assert fetch["env"] == {"GH_TOKEN": "${{ github.token }}", "ARTIFACT_ID": "${{ inputs.artifact-id }}",
                                "ARTIFACT_DIGEST": "${{ inputs.artifact-digest }}"}
        assert job["permissions"]["actions"] == "read"
        # download-artifact v4 only warns when the digest differs: it must not be what deploys
        assert not any(step.get("uses", "").startswith("actions/download-artifact@") for step in steps)
        assert "build" not in [task for task, _args in invoke_calls(steps)]
        for step in steps:
            text = step.get("run", "")
            assert not any(tool in text for tool in NODE_TOOLS), f"{step.get('name')}: runs a Node tool"
            assert not step.get("uses", "").startswith("actions/setup-node@")
            if step.get("uses") == LOCAL_SETUP:
                assert step["with"]["worker-toolchain"] == "false"
    for caller in ("staging", "production"):
        assert deploy()["jobs"][caller]["permissions"]["actions"] == "read"


def test_the_preview_runs_before_the_approval_and_is_shown_in_the_runs_summary():
    preview, job = preview_job(), deploy_environment_job()
    assert job["needs"] == "preview", "the deploy job (and its approval) waits for the preview"
    assert preview["environment"] == "main-preview", "main only, no reviewers: it runs before the approval"
    calls = invoke_calls(preview["steps"])
    assert ("migrate", ["--env", '"$TARGET_ENV"', "--plan", "--format", "human"]) in calls
    assert ("preview", ["--env", '"$TARGET_ENV"']) in calls
    assert all(task != "migrate" or "--plan" in args for task, args in calls) and ("up", ['--env', '"$TARGET_ENV"']) not in calls
    (summary,) = [step for step in preview["steps"] if step.get("uses", "").startswith("actions/github-script@")]
    assert summary["if"] == "always()"
    assert "core.summary" in summary["with"]["script"] and "pulumi-preview.txt" in summary["with"]["script"]


def test_the_setup_action_installs_the_worker_toolchain_only_when_asked():
    steps = read_setup_action()["runs"]["steps"]
    node = [step for step in steps if step.get("uses", "").startswith("actions/setup-node@")]
    assert [step["if"] for step in node] == ["inputs.worker-toolchain == 'true'"]
    bootstrap = [step for step in steps if "run" in step]
    assert [step["env"]["HYPHAE_SKIP_NODE"] for step in bootstrap] == ["${{ inputs.worker-toolchain == 'true' && '0' || '1' }}"]
    assert read_setup_action()["inputs"]["worker-toolchain"]["default"] == "false"


def test_a_deploy_verifies_then_migrates_then_deploys_then_smoke_tests():
    steps = deploy_environment_job()["steps"]

    def calls(task):
        return lambda step: any(INVOKE_LINE.match(line) and INVOKE_LINE.match(line)["task"] == task for line in run_lines(step.get("run", "")))

    order = [
        step_index(steps, lambda s: "fetch-artifact" in s.get("run", "")),
        step_index(steps, lambda s: "gh attestation verify dist/manifest.json" in s.get("run", "")),
        step_index(steps, calls("verify")),
        step_index(steps, calls("migrate")),
        step_index(steps, calls("up")),
        step_index(steps, calls("smoke")),
    ]
    assert order == sorted(order)
    migrate_args = invoke_calls([steps[order[3]]])[0][1]
    assert "--yes" in migrate_args and "--plan" not in migrate_args


def test_the_attestation_must_come_from_the_deploy_workflow_at_this_commit():
    steps = deploy_environment_job()["steps"]
    verify = next(step["run"] for step in steps if "gh attestation verify" in step.get("run", ""))
    assert '--signer-workflow "$GITHUB_REPOSITORY/.github/workflows/deploy.yml"' in verify
    assert '--source-digest "$GITHUB_SHA"' in verify and '--source-ref "$GITHUB_REF"' in verify
    assert "--deny-self-hosted-runners" in verify
    assert (WORKFLOWS_DIR / "deploy.yml").exists()


def test_deploy_tasks_get_the_artifact_directory():
    assert deploy_environment_job()["env"]["HYPHAE_ARTIFACT_DIR"] == "dist"
