"""`invoke mutate`: mutation testing of the safety-critical modules (not part of `invoke test`)."""

from __future__ import annotations

from pathlib import Path

from invoke import task

from infra.commands import choose, reports_errors


@task(help={
    "module": "comma-separated modules (default: all): artifact, ledger, runner, history, lint-rules, drift, "
              "stack-policy, and worker-FILE for each worker/src file (worker-auth, worker-versions, ...)",
    "jobs": "mutants tested in parallel (default 1: the machine is shared)",
    "fresh": "forget the cached verdicts and test every mutant again",
    "report": "folder for report.txt and report.json (default: $HYPHAE_STATE_DIR/mutate/report)",
})
@reports_errors
def mutate(c, module="", jobs=1, fresh=False, report=""):
    """Mutate each module, run the tests that cover it, print the score per module and every survivor."""
    from infra.mutation.modules import MODULES
    from infra.mutation.run import run_mutation

    names = [choose(name.strip(), tuple(MODULES), "--module") for name in module.split(",") if name.strip()] or list(MODULES)
    run_mutation(names, jobs=int(jobs), fresh=fresh, report_dir=Path(report) if report else None)
