"""docs/ci.md keeps up with the workflows: it names every workflow file, every invoke task a
workflow calls, every GitHub environment a job uses and every secret a job reads."""

from __future__ import annotations

import re

from infra.paths import REPO_ROOT
from tests.workflows.reading import INVOKE_LINE, all_steps, read_workflows, run_lines, workflow_files

DOC = (REPO_ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


def test_every_workflow_file_is_described():
    assert [path.name for path in workflow_files() if f"`{path.name}`" not in DOC] == []


def test_every_task_a_workflow_calls_is_described():
    tasks = {
        match["task"]
        for step in all_steps()
        for line in run_lines(step.body.get("run", ""))
        if (match := INVOKE_LINE.match(line)) and match["task"] != "--list"
    }
    assert len(tasks) >= 10
    assert sorted(task for task in tasks if not re.search(rf"`(?:\./run )?{task}\b", DOC)) == []


def test_every_github_environment_and_secret_is_described():
    from tests.workflows.test_credentials import GITHUB_ENVIRONMENTS

    text = repr(read_workflows())
    environments = set(GITHUB_ENVIRONMENTS)
    secrets = set(re.findall(r"secrets\.([A-Z_]+)", text))
    variables = set(re.findall(r"vars\.([A-Z_]+)", text))
    assert secrets and variables
    assert sorted(name for name in environments | secrets | variables if f"`{name}`" not in DOC) == []
