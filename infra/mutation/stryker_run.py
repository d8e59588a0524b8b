"""Running Stryker over the Worker's sources, its command runner driving pytest on the Worker tests.

Stryker copies the repository into a sandbox, instruments the module's file with every mutant at once
and, per mutant, runs the test command with `__STRYKER_ACTIVE_MUTANT__` set. The tests build the
Worker from the sandbox's sources and start it on workerd, which has no `process.env`: so
worker/dev/serve.mjs hands the mutant id to the bundle itself (the runtime side of this module).
The command runner cannot tell which test covers which mutant: each mutant runs the whole
selection, stopping at the first failure (`-x`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from infra.errors import UsageError
from infra.mutation.modules import MutationModule
from infra.mutation.score import Mutant
from infra.paths import REPO_ROOT, state_dir

STATUS = {"Killed": "killed", "Timeout": "timeout", "Survived": "survived", "NoCoverage": "no tests",
          "CompileError": "invalid", "RuntimeError": "invalid", "Ignored": "skipped", "Pending": "not checked"}
# A mutant times out after (clean run x factor + ms). Stryker's defaults (1.5, 5 s) assume the
# machine stays as quiet as during the clean run; on two shared cores a slow survivor then times
# out and counts as killed. Hanging Workers still fail: the tests' own HTTP timeouts end them.
TIMEOUT_FACTOR, TIMEOUT_MS = 3, 15000
# Never copied into the sandbox: state, caches and the Python environment (used where it is).
SANDBOX_IGNORED = ["/.venv", "/.hyphae", "/dist", "/backups", "/.pytest_cache", "/.hypothesis", "/.stryker-tmp",
                   "/reports", "**/__pycache__"]


def plan_config(module: MutationModule, folder: Path, jobs: int) -> dict:
    """Stryker's configuration for `module`, its reports written into `folder`."""
    tests = " ".join(module.tests)
    return {
        "testRunner": "command",
        "commandRunner": {"command": f"{sys.executable} -m pytest -x -q -p no:cacheprovider -p no:randomly {tests}"},
        "mutate": [module.source if module.source.endswith(".js") else f"{module.source}/**/*.js"],
        "coverageAnalysis": "off",
        "timeoutFactor": TIMEOUT_FACTOR,
        "timeoutMS": TIMEOUT_MS,
        "concurrency": jobs,
        "reporters": ["json", "html", "progress"],
        "jsonReporter": {"fileName": str(folder / "mutation.json")},
        "htmlReporter": {"fileName": str(folder / "mutation.html")},
        "ignorePatterns": SANDBOX_IGNORED,
        "tempDirName": ".stryker-tmp",
        "cleanTempDir": True,
    }


def run_stryker(module: MutationModule, *, jobs: int, fresh: bool, log) -> list[Mutant]:
    """Run Stryker over `module` and return every mutant with its verdict. Writes the module's
    working folder and Stryker's sandbox (`.stryker-tmp/`, removed after the run)."""
    folder = state_dir() / "mutate" / module.name
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    stryker = REPO_ROOT / "node_modules" / ".bin" / "stryker"
    if not stryker.exists():
        raise UsageError("node_modules/.bin/stryker is missing; run `npm ci` (./run does it on first use)")
    config = folder / "stryker.config.json"
    config.write_text(json.dumps(plan_config(module, folder, jobs), indent=1) + "\n", encoding="utf-8")
    log(f"  Stryker log {folder / 'stryker.log'}")
    with open(folder / "stryker.log", "w", encoding="utf-8") as output:
        result = subprocess.run(["nice", "-n", "10", str(stryker), "run", str(config)], cwd=REPO_ROOT,
                                stdout=output, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0 or not (folder / "mutation.json").exists():
        raise UsageError(f"Stryker failed (exit {result.returncode}); see {folder / 'stryker.log'}")
    return read_report(module, json.loads((folder / "mutation.json").read_text(encoding="utf-8")))


def read_report(module: MutationModule, report: dict) -> list[Mutant]:
    """Mutants from Stryker's JSON report (mutation-testing-report-schema: 1-based lines and columns)."""
    mutants = []
    for file, entry in sorted(report["files"].items()):
        lines = entry["source"].split("\n")
        for found in entry["mutants"]:
            status = STATUS.get(found["status"], "suspicious")
            mutants.append(Mutant(module.name, f"{file}#{found['id']}", file, found["mutatorName"], status,
                                  tuple(changed_lines(lines, found["location"], found.get("replacement", "")))))
    return mutants


def changed_lines(lines: list[str], location: dict, replacement: str) -> list[str]:
    """`- old` / `+ new` lines of one mutant, indentation dropped, as for mutmut's."""
    start, end = location["start"], location["end"]
    before = lines[start["line"] - 1:end["line"]]
    text = "\n".join(before)
    end_offset = sum(len(line) + 1 for line in before[:-1]) + end["column"] - 1
    after = (text[:start["column"] - 1] + replacement + text[end_offset:]).split("\n")
    return [f"- {line.strip()}" for line in before if line.strip()] + [f"+ {line.strip()}" for line in after if line.strip()]
