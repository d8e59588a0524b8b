"""`invoke test`: the test suite (the README's second command)."""

from __future__ import annotations

from invoke import task

from infra.paths import REPO_ROOT


@task(help={"args": "extra arguments for pytest, e.g. \"-k lint -x\"", "workers": "parallel pytest workers (default: auto)"})
def test(c, args="", workers="auto"):
    """Run the test suite (pytest; installs nothing: ./run does that)."""
    with c.cd(str(REPO_ROOT)):
        c.run(f".venv/bin/python -m pytest -n {workers} {args}", pty=False)
