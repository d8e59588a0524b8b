"""The nightly backup workflow: `invoke backup` for staging and production with the Cloudflare token
only, each backup uploaded with the one retention setting and attested; a failure goes to the backup
issue through the same script as the drift issue (scheduled-issue.cjs)."""

from __future__ import annotations

import re

from infra.environments import REMOTE_ENVIRONMENTS, load_environment
from infra.paths import REPO_ROOT
from tests.workflows.reading import INVOKE_LINE, WORKFLOWS_DIR, read_workflows, run_lines

WORKFLOW = WORKFLOWS_DIR / "backup.yml"


def backup_workflow() -> dict:
    return read_workflows()["backup.yml"]


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]


def test_runs_nightly_and_on_demand_only_from_main():
    workflow = backup_workflow()
    assert workflow["on"]["schedule"] and "workflow_dispatch" in workflow["on"]
    assert all("github.ref == 'refs/heads/main'" in job["if"] for job in workflow["jobs"].values())


def test_backs_up_every_protected_remote_environment_in_its_own_github_environment():
    job = backup_workflow()["jobs"]["backup"]
    protected = [name for name in REMOTE_ENVIRONMENTS if load_environment(name).protect]
    assert job["strategy"]["matrix"]["environment"] == protected == ["staging", "production"]
    assert job["strategy"]["fail-fast"] is False and job["environment"] == "${{ matrix.environment }}"
    calls = [(m["task"], m["args"].split()) for step in job["steps"] for m in map(INVOKE_LINE.match,
             run_lines(step.get("run", ""))) if m]
    assert ("backup", ["--env", '"$TARGET_ENV"']) in calls


def test_uses_only_the_cloudflare_token_and_reads_database_ids_from_variables():
    job = backup_workflow()["jobs"]["backup"]
    assert set(re.findall(r"secrets\.([A-Z_]+)", repr(job))) == {"CLOUDFLARE_API_TOKEN"}
    assert job["env"]["HYPHAE_NO_PULUMI_CLI"] == "1" and job["env"]["HYPHAE_SKIP_NODE"] == "1"
    for name in ("staging", "production"):
        variable = f"HYPHAE_{name.upper()}_DATABASE_ID"  # infra/outputs.py reads it before anything else
        assert job["env"][variable] == f"${{{{ vars.{variable} }}}}"


def test_the_retention_is_set_in_one_place_and_every_upload_uses_it():
    workflow = backup_workflow()
    days = workflow["env"]["BACKUP_RETENTION_DAYS"]
    assert isinstance(days, int) and days >= 30
    uploads = steps_using(workflow["jobs"]["backup"], "actions/upload-artifact")
    assert len(uploads) == 2
    assert all(step["with"]["retention-days"] == "${{ env.BACKUP_RETENTION_DAYS }}" for step in uploads)
    assert not re.search(r"retention-days:\s*\d", WORKFLOW.read_text()), "a retention typed in a second place"


def test_the_backup_is_uploaded_then_attested_and_only_after_it_was_verified():
    steps = backup_workflow()["jobs"]["backup"]["steps"]
    names = [step.get("run", "") or step.get("uses", "").split("@")[0] for step in steps]
    backup_at = next(i for i, name in enumerate(names) if name.startswith("./run backup"))
    upload_at = names.index("actions/upload-artifact")
    attest_at = names.index("actions/attest-build-provenance")
    assert backup_at < upload_at < attest_at
    assert "if" not in steps[upload_at] and "if" not in steps[attest_at]  # a failed backup is neither kept nor attested
    assert steps[upload_at]["with"]["path"] == "backups/${{ matrix.environment }}/"
    assert steps[attest_at]["with"]["subject-path"] == "backups/${{ matrix.environment }}/*"


def test_a_failure_opens_or_updates_the_backup_issue_through_the_shared_script():
    report = backup_workflow()["jobs"]["report"]
    assert report["needs"] == "backup" and report["if"].startswith("always()")
    assert report["permissions"] == {"contents": "read", "issues": "write"}
    (script,) = steps_using(report, "actions/github-script")
    assert "require('./.github/scripts/scheduled-issue.cjs')" in script["with"]["script"]
    assert "hyphae:scheduled-backup" in script["with"]["script"]
    drift = (REPO_ROOT / ".github" / "scripts" / "drift-issue.cjs").read_text()
    assert "require('./scheduled-issue.cjs')" in drift  # one implementation for both scheduled checks


def test_a_deploy_keeps_the_backup_migrate_takes_before_a_destructive_change():
    steps = read_workflows()["deploy-environment.yml"]["jobs"]["deploy"]["steps"]
    migrate_at = next(i for i, step in enumerate(steps) if step.get("run", "").startswith("./run migrate"))
    kept = steps[migrate_at + 1]
    assert kept["uses"].startswith("actions/upload-artifact@") and kept["if"] == "always()"
    assert kept["with"]["path"] == "backups/" and kept["with"]["if-no-files-found"] == "ignore"
