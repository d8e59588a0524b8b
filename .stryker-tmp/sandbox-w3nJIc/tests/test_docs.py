"""Every task is documented: `--help` from its docstring, and an example in the README."""

import re

from invoke import Collection

import tasks
from infra.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
TASKS = Collection.from_module(tasks).task_names


def test_every_task_has_a_one_line_help():
    collection = Collection.from_module(tasks)
    for name in TASKS:
        docstring = (collection[name].__doc__ or "").strip()
        assert docstring, f"task {name} has no docstring, so no --help"


def test_every_task_appears_in_the_readme():
    missing = [name for name in TASKS if not re.search(rf"(?:\./run|invoke) {re.escape(name)}\b", README)]
    assert missing == [], f"tasks with no example in README.md: {missing}"


def test_the_readme_links_only_to_docs_that_exist():
    for link in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (REPO_ROOT / link).exists(), f"README.md links to {link}, which does not exist"


def test_ci_runs_exactly_the_readmes_test_command():
    first_commands = re.findall(r"^\./run \w+", README, flags=re.MULTILINE)[:2]
    assert first_commands == ["./run local", "./run test"]
    assert "exec ./run test" in (REPO_ROOT / ".ci" / "run").read_text()
