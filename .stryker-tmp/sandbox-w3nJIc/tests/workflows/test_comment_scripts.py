"""The github-script helpers behind the sticky pull-request comments and the drift issue, run by
Node against an in-memory GitHub (tests/workflows/github_fake.cjs): later runs update the one
comment or issue instead of adding another."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.paths import REPO_ROOT

HARNESS = Path(__file__).with_name("github_fake.cjs")
STICKY = REPO_ROOT / ".github" / "scripts" / "sticky-comment.cjs"
DRIFT_ISSUE = REPO_ROOT / ".github" / "scripts" / "drift-issue.cjs"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node (the test job sets it up)")


def run_scenario(tmp_path: Path, script: Path, runs: list[dict], comments=(), issues=()) -> dict:
    scenario = tmp_path / "scenario.json"
    state = {"comments": list(comments), "issues": list(issues)}
    scenario.write_text(json.dumps({"script": str(script), "cwd": str(tmp_path), "state": state, "runs": runs}))
    result = subprocess.run(["node", str(HARNESS), str(scenario)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def drift_run(tmp_path: Path, failed: str = "", text: str = "| staging | 1 finding |") -> dict:
    (tmp_path / "drift-report.md").write_text(text)
    return {"marker": "hyphae:drift", "title": "Drift report", "failed": failed,
            "sections": [{"heading": "", "path": "drift-report.md", "fenced": False}]}


def test_the_first_run_creates_the_comment_and_later_runs_update_it(tmp_path: Path):
    other = {"id": 1, "issue_number": 7, "body": "LGTM", "user": {"type": "User"}}
    first = run_scenario(tmp_path, STICKY, [drift_run(tmp_path)], comments=[other])
    (created,) = [c for c in first["state"]["comments"] if c["id"] != 1]
    assert created["body"].startswith("<!-- hyphae:drift -->") and "| staging | 1 finding |" in created["body"]

    second = run_scenario(tmp_path, STICKY, [drift_run(tmp_path, text="all clean")], comments=first["state"]["comments"])
    comments = second["state"]["comments"]
    assert [c["id"] for c in comments] == [1, created["id"]]
    assert "all clean" in comments[1]["body"] and "1 finding" not in comments[1]["body"]
    assert comments[0]["body"] == "LGTM"
    assert second["failures"] == []


def test_each_environment_keeps_its_own_plan_comment(tmp_path: Path):
    (tmp_path / "plan.txt").write_text("0002_add_index.sql pending")
    runs = [
        {"marker": f"hyphae:plan:{env}", "title": f"Plan for {env}", "failed": "",
         "sections": [{"heading": "Migrations", "path": "plan.txt", "fenced": True}]}
        for env in ("dev", "staging", "dev")
    ]
    result = run_scenario(tmp_path, STICKY, runs)
    bodies = [c["body"] for c in result["state"]["comments"]]
    assert len(bodies) == 2
    assert bodies[0].startswith("<!-- hyphae:plan:dev -->") and "```\n0002_add_index.sql pending\n```" in bodies[0]


def test_a_missing_report_is_said_and_a_failure_fails_the_step(tmp_path: Path):
    run = {"marker": "hyphae:drift", "title": "Drift report", "failed": "invoke drift could not run (exit 2)",
           "sections": [{"heading": "", "path": "never-written.md", "fenced": False}]}
    result = run_scenario(tmp_path, STICKY, [run])
    assert "never-written.md was not written" in result["state"]["comments"][0]["body"]
    assert result["failures"] == ["invoke drift could not run (exit 2)"]


def issue_run(tmp_path: Path, failed: str) -> dict:
    (tmp_path / "drift-report.md").write_text("staging: column `notes` added out of band")
    return {"failed": failed, "sections": [{"heading": "invoke drift --all", "path": "drift-report.md", "fenced": False}]}


def test_a_failing_run_opens_the_drift_issue_and_the_next_updates_it(tmp_path: Path):
    result = run_scenario(tmp_path, DRIFT_ISSUE, [issue_run(tmp_path, "drift exited 1"), issue_run(tmp_path, "drift exited 1")])
    (issue,) = result["state"]["issues"]
    assert issue["state"] == "open" and issue["labels"] == ["drift"]
    assert "column `notes` added out of band" in issue["body"]
    assert [c["issue_number"] for c in result["state"]["comments"]] == [issue["number"]]
    assert result["failures"] == ["drift exited 1", "drift exited 1"]


def test_a_clean_run_closes_the_open_drift_issue_and_otherwise_does_nothing(tmp_path: Path):
    result = run_scenario(tmp_path, DRIFT_ISSUE, [issue_run(tmp_path, "drift exited 1"), issue_run(tmp_path, "")])
    (issue,) = result["state"]["issues"]
    assert issue["state"] == "closed"
    assert "Clean again" in result["state"]["comments"][-1]["body"]
    quiet = run_scenario(tmp_path, DRIFT_ISSUE, [issue_run(tmp_path, "")])
    assert quiet["state"] == {"comments": [], "issues": []} and quiet["failures"] == []


def review_run(tmp_path: Path, text: str, failed: str = "", replaces=()) -> dict:
    (tmp_path / "review.md").write_text(text)
    return {"marker": "hyphae-review", "body": "review.md", "replaces": list(replaces), "failed": failed}


def test_the_review_file_is_the_comment_and_replaces_the_old_plan_and_drift_comments(tmp_path: Path):
    old = [{"id": 1, "issue_number": 7, "body": "<!-- hyphae:plan:dev -->\n## Plan for dev", "user": {"type": "Bot"}},
           {"id": 2, "issue_number": 7, "body": "<!-- hyphae:drift -->\n## Drift report", "user": {"type": "Bot"}},
           {"id": 3, "issue_number": 7, "body": "LGTM <!-- hyphae:drift -->", "user": {"type": "User"}}]
    text = "<!-- hyphae-review -->\n### ✅ hyphae review: 1 new migration\n"
    first = run_scenario(tmp_path, STICKY, [review_run(tmp_path, text, replaces=["hyphae:plan:dev", "hyphae:drift"])],
                         comments=old)
    comments = first["state"]["comments"]
    assert [c["id"] for c in comments] == [3, 1000]  # the old ones are gone; a person's comment stays
    assert comments[1]["body"] == text

    second = run_scenario(tmp_path, STICKY, [review_run(tmp_path, text.replace("1 new", "2 new"))], comments=comments)
    assert [c["body"] for c in second["state"]["comments"]][1] == text.replace("1 new", "2 new")
    assert len(second["state"]["comments"]) == 2


def test_a_failed_step_is_said_under_the_review_and_fails_the_step(tmp_path: Path):
    run = review_run(tmp_path, "<!-- hyphae-review -->\nreview\n", failed="invoke review exited 2")
    result = run_scenario(tmp_path, STICKY, [run])
    body = result["state"]["comments"][0]["body"]
    assert body.startswith("<!-- hyphae-review -->\nreview\n")
    assert "> ⚠️ invoke review exited 2: see [the run](https://github.com/myco/hyphae/actions/runs/42)." in body
    assert result["failures"] == ["invoke review exited 2"]


def test_a_review_that_was_not_written_still_leaves_a_comment_saying_so(tmp_path: Path):
    run = {"marker": "hyphae-review", "body": "never-written.md", "failed": "invoke review exited 2"}
    result = run_scenario(tmp_path, STICKY, [run])
    (comment,) = result["state"]["comments"]
    assert comment["body"].startswith("<!-- hyphae-review -->\n(no review: never-written.md was not written")


def test_a_comment_over_githubs_limit_is_cut_with_a_pointer_to_the_run(tmp_path: Path):
    run = review_run(tmp_path, "<!-- hyphae-review -->\n" + "x" * 70000)
    body = run_scenario(tmp_path, STICKY, [run])["state"]["comments"][0]["body"]
    assert len(body) <= 65536 and body.rstrip().endswith("the full text is in [the run's summary]"
                                                         "(https://github.com/myco/hyphae/actions/runs/42))")


def test_each_scheduled_check_keeps_its_own_issue(tmp_path: Path):
    scheduled = REPO_ROOT / ".github" / "scripts" / "scheduled-issue.cjs"
    (tmp_path / "report.txt").write_text("staging: export did not finish")
    backup = {"failed": "a nightly backup failed", "marker": "hyphae:scheduled-backup", "title": "Backup failed",
              "label": "backup", "sections": [{"heading": "staging", "path": "report.txt", "fenced": True}]}
    drift = {"number": 1, "title": "Drift", "body": "<!-- hyphae:scheduled-drift -->\n## Drift", "labels": ["drift"],
             "state": "open"}
    both = run_scenario(tmp_path, scheduled, [backup], issues=[drift])
    assert sorted(issue["labels"][0] for issue in both["state"]["issues"]) == ["backup", "drift"]
    (opened,) = [issue for issue in both["state"]["issues"] if issue["labels"] == ["backup"]]
    assert opened["body"].startswith("<!-- hyphae:scheduled-backup -->") and "export did not finish" in opened["body"]
    clean = run_scenario(tmp_path, scheduled, [{**backup, "failed": ""}], issues=both["state"]["issues"])
    assert {issue["labels"][0]: issue["state"] for issue in clean["state"]["issues"]} == {"drift": "open",
                                                                                          "backup": "closed"}
