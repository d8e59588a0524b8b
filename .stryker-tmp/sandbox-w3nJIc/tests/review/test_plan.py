"""The deploy order the review shows is the order the deploy workflow runs."""

from __future__ import annotations

import re

import yaml

from infra.paths import REPO_ROOT
from infra.review.plan import DEPLOY_STEPS


def test_the_deploy_steps_are_the_deploy_workflows_tasks_in_its_order():
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "deploy-environment.yml").read_text())
    # The `deploy` job: the `preview` job before it only plans (migrate --plan, preview).
    runs = [step.get("run", "") for step in workflow["jobs"]["deploy"]["steps"]]
    tasks = [match for run in runs for match in re.findall(r"\./run ([\w-]+)", run)]
    shown = [task for task, _ in DEPLOY_STEPS]
    assert [task for task in tasks if task in shown] == shown, (
        f"deploy-environment.yml runs {tasks}; infra/review/plan.py DEPLOY_STEPS says {shown}: keep them in step")
