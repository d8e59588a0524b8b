"""The modules under mutation testing: what is mutated, by which tool, against which tests.

Declared once; `invoke mutate --module NAME`, the weekly workflow and docs/mutation.md read it.
A module's tests are the ones that can cover it: mutmut then runs, for each mutant, only the tests
that executed the mutated function. Tests that need workerd are left out of the Python modules'
runs (they exercise the Worker, not these modules, and take most of the suite's time).

The Worker is mutated one source file at a time (module `worker-auth` is worker/src/auth.js):
Stryker's command runner cannot tell which test covers which mutant, so each mutant runs its
module's whole test selection on workerd, and over all of worker/src (about 2,000 mutants) that
takes days on two cores. Each file gets the Worker tests that exercise it, most direct first (a
mutant stops at its first failing test).
"""

from __future__ import annotations

from dataclasses import dataclass

GOAL = 0.90  # the least share of non-equivalent mutants each module's tests must kill


@dataclass(frozen=True)
class MutationModule:
    name: str
    tool: str  # "mutmut" (Python) or "stryker" (JavaScript)
    source: str  # the folder (or the one file) mutated, relative to the repository
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
        # Not all of tests/stack: test_no_plain_secrets lists files with `git ls-files`, which finds
        # none in mutmut's copy of the repository; the policy pack's tests are these three.
        MutationModule("stack-policy", "mutmut", "infra/stack/policy",
                       ("tests/stack/test_policy.py", "tests/stack/test_credentials.py",
                        "tests/stack/test_environments_doc.py")),
    )
}

# worker/src file -> the tests/worker files that exercise it, most direct first. test_operations last
# in a list holds tests moved there from that list's other files: each module still runs every test
# it was measured with (and the rest of test_operations).
WORKER_TESTS: dict[str, tuple[str, ...]] = {
    "auth.js": ("test_auth", "test_team_key_generations"),
    "versions.js": ("test_schema_gate", "test_health"),
    "records.js": ("test_records", "test_enqueue", "test_operations"),
    "ingest.js": ("test_enqueue", "test_records", "test_bodies", "test_operations"),
    "token_hash.js": ("test_mcp_token_hash", "test_health"),
    "writes.js": ("test_enqueue", "test_d1_limits", "test_budgets", "test_operations"),
    "d1.js": ("test_d1_limits", "test_budgets", "test_enqueue", "test_operations"),
    "budget.js": ("test_budgets", "test_d1_limits", "test_operations"),
    "contract.js": ("test_enqueue", "test_records", "test_manifest", "test_embeddings", "test_operations"),
    "http.js": ("test_bodies", "test_auth", "test_records"),
    "index.js": ("test_auth", "test_health", "test_reads", "test_budgets", "test_operations"),
    "health.js": ("test_health", "test_schema_gate", "test_auth"),
    "connect.js": ("test_health", "test_team_key_generations", "test_records"),
    "config.js": ("test_health", "test_records"),
    "mcp_token.js": ("test_mcp_rotation", "test_health", "test_team_key_generations"),
    "manifest.js": ("test_manifest",),
    "reads.js": ("test_reads", "test_operations"),
    "stats.js": ("test_reads", "test_enqueue", "test_embeddings", "test_operations"),
    "search.js": ("test_search", "test_reads", "test_embeddings", "test_operations"),
    "embeddings.js": ("test_embeddings", "test_budgets", "test_operations"),
    "operations.js": ("test_operations", "test_reads", "test_enqueue", "test_embeddings", "test_budgets"),
}


def worker_module(file: str) -> MutationModule:
    """The module mutating one worker/src file: `worker-token-hash` for token_hash.js."""
    name = "worker-" + file.removesuffix(".js").replace("_", "-")
    return MutationModule(name, "stryker", f"worker/src/{file}", tuple(f"tests/worker/{test}.py" for test in WORKER_TESTS[file]))


MODULES.update((module.name, module) for module in map(worker_module, WORKER_TESTS))
