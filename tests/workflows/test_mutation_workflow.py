"""The weekly mutation workflow: `invoke mutate` for every module of infra/mutation/modules.py, one
job each, on a schedule and on demand, with no secret at all; its report uploaded whatever the score."""

from __future__ import annotations

from infra.mutation.modules import MODULES
from tests.workflows.reading import INVOKE_LINE, read_workflows, run_lines


def mutation_job() -> dict:
    return read_workflows()["mutation.yml"]["jobs"]["mutate"]


def test_runs_weekly_and_on_demand_and_never_on_pull_requests():
    triggers = read_workflows()["mutation.yml"]["on"]
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (schedule,) = triggers["schedule"]
    assert schedule["cron"].split()[2:] == ["*", "*", "1"], "once a week"


def test_every_module_gets_its_own_job_calling_invoke_mutate():
    job = mutation_job()
    assert job["strategy"]["matrix"]["module"] == list(MODULES)
    assert job["strategy"]["fail-fast"] is False
    calls = [(m["task"], m["args"].split()) for step in job["steps"] for m in map(INVOKE_LINE.match,
             run_lines(step.get("run", ""))) if m]
    assert calls == [("mutate", ["--module", '"$MODULE"', "--jobs", "2", "--fresh", "--report", "mutation-report"])]
    assert job["env"]["MODULE"] == "${{ matrix.module }}"


def test_needs_no_secret_no_environment_and_only_reads():
    job = mutation_job()
    assert "secrets." not in repr(read_workflows()["mutation.yml"])
    assert "environment" not in job and job["permissions"] == {"contents": "read"}


def test_the_report_is_uploaded_even_when_the_goal_is_missed():
    upload = next(step for step in mutation_job()["steps"] if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "mutation-report/"


def test_the_normal_test_run_never_mutates():
    for name, workflow in read_workflows().items():
        if name == "mutation.yml":
            continue
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                assert not any(m and m["task"] == "mutate" for m in map(INVOKE_LINE.match, run_lines(step.get("run", "")))), name
