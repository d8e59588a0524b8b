"""`invoke review`: the pull request's one comment (what its migrations change, drawn; their
risks; the plan per environment) or the same review in a terminal.

A thin skin over `infra.review.collect.read_review`. Exit codes: 0 the review was printed and
every environment and saved preview read; 2 it was printed but one could not be read (the review
says which and why), or it could not be made (no git base, a bad flag).
"""

from __future__ import annotations

from pathlib import Path

from invoke import task

from infra.commands import choose, reports_errors
from infra.paths import DEFAULT_MIGRATIONS_DIR

FORMATS = ("human", "markdown")


@task(
    iterable=["env", "preview"],
    help={
        "env": "an environment to plan for and count rows in (repeatable); default: local",
        "all": "every environment: local, dev, staging, production",
        "base": "git ref of the pull request's base (default: origin/$GITHUB_BASE_REF, origin/main, main)",
        "path": "migrations folder (default: migrations/)",
        "preview": "a saved `pulumi preview --json` file (`invoke preview --env dev --json FILE`); repeatable",
        "artifact": "the built artifact folder for the footer (default: $HYPHAE_ARTIFACT_DIR, else dist)",
        "format": "output: human (default) or markdown (the pull-request comment)",
        "full-output": "also write the full markdown review, nothing summarized, to this file (the run's summary)",
    },
)
@reports_errors
def review(c, env=None, all=False, base=None, path=None, preview=None, artifact=None, format="human",
           full_output=None):
    """The pull request's migrations reviewed: schema changes (ER diagrams), risks with row counts, plan, drift."""
    from infra.environments import ENVIRONMENTS
    from infra.errors import ReviewIncomplete, UsageError
    from infra.review.collect import ReviewRequest, read_review
    from infra.review.human import render_human
    from infra.review.markdown import render_markdown
    from infra.stack.cli import default_artifact_dir

    output_format = choose(format, FORMATS, "--format")
    directory = Path(path) if path else DEFAULT_MIGRATIONS_DIR
    if not directory.is_dir():
        raise UsageError(f"--path {directory}: no such migrations folder")
    names = list(ENVIRONMENTS) if all else [choose(name, ENVIRONMENTS, "--env") for name in (env or ["local"])]
    request = ReviewRequest(directory, list(dict.fromkeys(names)), base or None,
                            tuple(Path(file) for file in preview or ()),
                            Path(artifact) if artifact else default_artifact_dir())
    result = read_review(request)
    if full_output:
        Path(full_output).write_text(render_markdown(result, full=True), encoding="utf-8")
    print(render_markdown(result) if output_format == "markdown" else render_human(result), end="")
    unread = sorted({plan.environment for plan in result.plans.unreadable}
                    | {counts.environment for counts in result.row_counts if counts.error is not None})
    unread += [error.split(":", 1)[0] for error in result.preview_errors]  # "--preview FILE"
    if unread:
        raise ReviewIncomplete(f"review printed, but {', '.join(unread)} could not be read (see the review)")
