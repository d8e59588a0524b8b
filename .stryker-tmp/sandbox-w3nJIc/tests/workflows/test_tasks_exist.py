"""Every invoke task a workflow calls exists, with every flag the workflow passes: a renamed task
or flag fails here, not in the first deploy after the merge."""

from __future__ import annotations

import importlib

from invoke import Collection

from tests.workflows.reading import INVOKE_LINE, all_steps, run_lines


def workflow_calls() -> list[tuple[str, str, list[str]]]:
    calls = []
    for step in all_steps():
        for line in run_lines(step.body.get("run", "")):
            match = INVOKE_LINE.match(line)
            if match and match["task"] != "--list":
                calls.append((step.where(), match["task"], match["args"].split()))
    return calls


def test_every_task_and_flag_a_workflow_uses_exists():
    collection = Collection.from_module(importlib.import_module("tasks"))
    problems = []
    for where, name, args in workflow_calls():
        if name not in collection.tasks:
            problems.append(f"{where}: no task {name!r}")
            continue
        flags = {f"--{alias}" for argument in collection.tasks[name].get_arguments() for alias in argument.names}
        problems += [f"{where}: {name} has no flag {arg}" for arg in args if arg.startswith("--") and arg not in flags]
    assert problems == []
    assert len(workflow_calls()) >= 10, "the workflows were not read"
