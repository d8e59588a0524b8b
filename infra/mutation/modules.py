"""The modules under mutation testing: what is mutated, by which tool, against which tests.

Declared once; `invoke mutate --module NAME`, the weekly workflow and docs/mutation.md read it.
A module's tests are the ones that can cover it: mutmut then runs, for each mutant, only the tests
that executed the mutated function. Tests that need workerd are left out of the Python modules'
runs (they exercise the Worker, not these modules, and take most of the suite's time).
"""

from __future__ import annotations

from dataclasses import dataclass

GOAL = 0.90  # the least share of non-equivalent mutants each module's tests must kill


@dataclass(frozen=True)
class MutationModule:
    name: str
    tool: str  # "mutmut" (Python) or "stryker" (JavaScript)
    source: str  # the folder mutated, relative to the repository
    tests: tuple[str, ...]  # pytest paths that may cover it


MODULES: dict[str, MutationModule] = {
    module.name: module
    for module in (
        MutationModule("artifact", "mutmut", "infra/artifact", ("tests/artifact",)),
        MutationModule("ledger", "mutmut", "infra/ledger", ("tests/ledger", "tests/runner")),
        # tests/backup/test_guard.py: the runner's default hook before the first write (a backup).
        MutationModule("runner", "mutmut", "infra/runner", ("tests/runner", "tests/ledger", "tests/backup/test_guard.py")),
        MutationModule("history", "mutmut", "infra/history", ("tests/history", "tests/lint")),
        MutationModule("lint-rules", "mutmut", "infra/lint/rules", ("tests/lint",)),
        MutationModule("drift", "mutmut", "infra/drift", ("tests/drift",)),
        MutationModule("stack-policy", "mutmut", "infra/stack/policy", ("tests/stack",)),
        MutationModule("worker", "stryker", "worker/src", ("tests/worker",)),
    )
}
