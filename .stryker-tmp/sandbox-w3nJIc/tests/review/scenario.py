"""Pull requests in a scratch git repository, for the review tests.

`make_pull_request(root, base_files, pr_files)` commits the base history on `main`, then the pull
request's migrations on a branch, with hyphae.sum rewritten at each step. Commit dates, author and
committer are fixed, so the commit ids (shown in the review's footer) are the same on every run.
`parse_mermaid(texts)` runs mermaid's own parser (the pinned npm package) over diagrams.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from infra.history.files import read_migrations
from infra.history.sumfile import write_sum
from infra.paths import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
FIXED_IDENTITY = {
    "GIT_AUTHOR_NAME": "hyphae-test", "GIT_AUTHOR_EMAIL": "test@hyphae.invalid",
    "GIT_COMMITTER_NAME": "hyphae-test", "GIT_COMMITTER_EMAIL": "test@hyphae.invalid",
    "GIT_AUTHOR_DATE": "2026-11-20T10:00:00+00:00", "GIT_COMMITTER_DATE": "2026-11-20T10:00:00+00:00",
}


def git(root: Path, *args: str) -> str:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                            env={**environment, **FIXED_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)})
    return result.stdout.strip()


def write_history(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    write_sum(directory, read_migrations(directory))


def fixture_files(folder: str) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted((FIXTURES / folder).glob("*.sql"))}


def start_repository(root: Path, base_files: dict[str, str]) -> Path:
    """A repository whose `main` holds `base_files` in migrations/; returns the migrations folder."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    directory = root / "migrations"
    write_history(directory, base_files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base history")
    return directory


def commit_pull_request(root: Path, pr_files: dict[str, str], branch: str = "pull-request") -> None:
    git(root, "checkout", "-q", "-b", branch)
    write_history(root / "migrations", pr_files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "the pull request's migrations")


def make_pull_request(root: Path, base_files: dict[str, str], pr_files: dict[str, str]) -> Path:
    directory = start_repository(root, base_files)
    commit_pull_request(root, pr_files)
    return directory


def parse_mermaid(texts: list[str]) -> list[dict]:
    """mermaid's verdict on each diagram: {ok, type, error}."""
    node = shutil.which("node")
    assert node, "Node is needed to run mermaid's parser (the README's set-up installs it)"
    assert (REPO_ROOT / "node_modules" / "mermaid").is_dir(), "mermaid is pinned in package.json: run ./run test"
    result = subprocess.run([node, str(Path(__file__).parent / "parse_mermaid.mjs")], input=json.dumps(texts),
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=True)
    return json.loads(result.stdout)


def mermaid_blocks(markdown: str) -> list[str]:
    """The text of every ```mermaid fence of a markdown document."""
    blocks, inside, current = [], False, []
    for line in markdown.splitlines():
        if line.strip() == "```mermaid":
            inside, current = True, []
        elif inside and line.strip() == "```":
            inside = False
            blocks.append("\n".join(current) + "\n")
        elif inside:
            current.append(line)
    return blocks
