"""`invoke drift`: whether environments still match the repository (schema, history, bindings).

A thin skin over `infra.drift.check.check_drift`. Exit codes a CI step can tell apart: 0 clean
(notices such as pending migrations allowed), 1 drift found, 2 the check could not run (unknown
environment, missing credentials, unreachable API, a bad flag).
"""

from __future__ import annotations

from pathlib import Path

from invoke import task

from infra.commands import choose, reports_errors
from infra.paths import DEFAULT_MIGRATIONS_DIR


@task(
    iterable=["env"],
    help={
        "env": "an environment to check (repeatable); default: local",
        "all": "check every environment: local, dev, staging, production",
        "path": "migrations folder (default: migrations/)",
        "format": "output: human (default), json, or markdown (one pull-request comment)",
    },
)
@reports_errors
def drift(c, env=None, all=False, path=None, format="human"):
    """Compare live schema, migration history and Worker bindings with the repository; 1 on drift."""
    from infra.drift.check import check_drift
    from infra.drift.report import FORMATS, render
    from infra.environments import ENVIRONMENTS
    from infra.errors import DriftDetected, UsageError

    output_format = choose(format, FORMATS, "--format")
    directory = Path(path) if path else DEFAULT_MIGRATIONS_DIR
    if not directory.is_dir():
        raise UsageError(f"--path {directory}: no such migrations folder")
    names = list(ENVIRONMENTS) if all else (list(env) if env else ["local"])
    report = check_drift(names, directory)
    print(render(report, output_format), end="")
    if not report.clean:
        drifted = sorted({finding.environment for finding in report.findings if finding.severity == "drift"})
        raise DriftDetected(f"drift found in {', '.join(drifted)} (details above)")
