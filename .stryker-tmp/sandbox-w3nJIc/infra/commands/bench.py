"""`invoke bench`: performance evidence, every peer measured in the same run (not a test).

Each benchmark is a module under infra/bench/ with `run() -> BenchResult`; adding one is one line
in BENCHMARKS.
"""

from __future__ import annotations

import importlib

from invoke import task

from infra.commands import reports_errors

BENCHMARKS = {
    "lint": "infra.bench.lint",
    "drift": "infra.bench.drift",
    "migrate": "infra.bench.migrate",
    "backup": "infra.bench.backup",
}


@task(help={"only": "comma-separated benchmark names to run (default: all): " + ", ".join(BENCHMARKS)})
@reports_errors
def bench(c, only=""):
    """Run the benchmarks and print one table each, with their targets and whether they were met."""
    from infra.bench import render_table

    for name in selected_benchmarks(only):
        result = importlib.import_module(BENCHMARKS[name]).run()
        print(render_table(result))
        print()


def selected_benchmarks(only: str) -> list[str]:
    """The benchmark names `--only` asks for, in BENCHMARKS order; UsageError for an unknown one."""
    from infra.commands import choose

    if not only.strip():
        return list(BENCHMARKS)
    wanted = {choose(name.strip(), tuple(BENCHMARKS), "--only") for name in only.split(",") if name.strip()}
    return [name for name in BENCHMARKS if name in wanted]
