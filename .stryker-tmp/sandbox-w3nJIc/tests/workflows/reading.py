"""Reading the workflows and the composite set-up action for the tests: parsed YAML, raw lines
(for the `# vX.Y.Z` comments YAML drops), every step with where it came from, and the shell
commands of a `run:` step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from infra.paths import REPO_ROOT

GITHUB_DIR = REPO_ROOT / ".github"
WORKFLOWS_DIR = GITHUB_DIR / "workflows"
SETUP_ACTION = GITHUB_DIR / "actions" / "setup" / "action.yml"
LOCAL_SETUP = "./.github/actions/setup"
DEPLOY_ENVIRONMENT = "./.github/workflows/deploy-environment.yml"

# `uses: owner/repo[/path]@ref  # comment`
USES_LINE = re.compile(r"^\s*-?\s*uses:\s*(?P<target>\S+)\s*(?:#\s*(?P<comment>.*))?$")


@dataclass(frozen=True)
class Step:
    file: str  # e.g. "deploy.yml" or "actions/setup/action.yml"
    job: str  # the job id, or "(composite)"
    index: int
    body: dict

    @property
    def name(self) -> str:
        return self.body.get("name") or self.body.get("uses") or self.body.get("run", "").splitlines()[0]

    def where(self) -> str:
        return f"{self.file} job {self.job!r} step {self.index + 1} ({self.name})"


def read_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS_DIR.glob("*.yml"))


def read_workflows() -> dict[str, dict]:
    return {path.name: read_yaml(path) for path in workflow_files()}


def read_setup_action() -> dict:
    return read_yaml(SETUP_ACTION)


def all_files() -> list[Path]:
    return workflow_files() + [SETUP_ACTION]


def label(path: Path) -> str:
    return str(path.relative_to(GITHUB_DIR)).removeprefix("workflows/")


def all_steps() -> list[Step]:
    steps = []
    for name, workflow in read_workflows().items():
        for job_id, job in workflow["jobs"].items():
            for index, body in enumerate(job.get("steps", [])):
                steps.append(Step(name, job_id, index, body))
    for index, body in enumerate(read_setup_action()["runs"]["steps"]):
        steps.append(Step(label(SETUP_ACTION), "(composite)", index, body))
    return steps


def uses_lines() -> list[tuple[str, int, str, str]]:
    """(file, line number, target, comment) for every `uses:` line of every workflow and action."""
    found = []
    for path in all_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = USES_LINE.match(line)
            if match:
                found.append((label(path), number, match["target"], (match["comment"] or "").strip()))
    return found


# A compliant `run:` line: one invoke task (through ./run or the venv's invoke), optionally its
# output sent to a file, optionally its exit code kept for a later step (drift: 1 vs 2).
INVOKE_LINE = re.compile(
    r"^(?:\./run|\.venv/bin/invoke) (?P<task>--list|[a-z][a-z-]*)"
    r"(?P<args>(?: (?:--[a-z-]+|[\w./-]+|\"\$[A-Z_]+\"))*)"  # flags, words, "$ENV_VARIABLE"
    r"(?: >>? [\w.-]+(?: 2>&1)?)?"
    r"(?: \|\| echo \"(?:status=\$\?|failed=true)\" >> \"\$GITHUB_OUTPUT\")?$"
)


def run_lines(script: str) -> list[str]:
    """The non-empty, non-comment lines of a run script (a folded `>-` scalar arrives as one line)."""
    return [line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]
