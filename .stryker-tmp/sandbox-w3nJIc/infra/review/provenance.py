"""The review's footer: the commit reviewed, the artifact that would be deployed, the run's links.

The commit is the checkout's HEAD (in a pull request's workflow, GitHub's merge commit; the pull
request's head commit comes from the event file). The artifact is the built folder's
`manifest.json`, verified file by file (`infra.artifact.verify_artifact`, for `local`, which
accepts any clean or dirty build: the review only shows it). Run links come from the variables
GitHub Actions sets (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT).
Read-only; nothing here fails the review: what cannot be read is said instead.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.errors import HyphaeError


@dataclass(frozen=True)
class Provenance:
    commit: str | None  # HEAD of the checkout
    uncommitted: bool  # the migrations folder has changes not committed (a laptop)
    head_commit: str | None  # the pull request's head, from the GitHub event
    pull_request: int | None
    artifact_sha256: str | None
    artifact_note: str  # "built from <commit> by <builder>", or why there is none
    run_url: str | None

    @property
    def short_commit(self) -> str:
        return (self.commit or "unknown")[:12]


def read_provenance(directory: Path, artifact_dir: Path) -> Provenance:
    commit = _git(directory, "rev-parse", "HEAD")
    uncommitted = bool(_git(directory, "status", "--porcelain", "--", "."))
    event = _read_event()
    pull_request = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else {}
    sha256, note = _read_artifact(artifact_dir)
    return Provenance(
        commit=commit or None,
        uncommitted=uncommitted,
        head_commit=(pull_request.get("head") or {}).get("sha"),
        pull_request=pull_request.get("number"),
        artifact_sha256=sha256,
        artifact_note=note,
        run_url=read_run_url(),
    )


def read_run_url() -> str | None:
    """This workflow run's page (its summary holds the full review), or None outside Actions."""
    server, repository, run = (os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                                  "GITHUB_RUN_ID"))
    if not (server and repository and run):
        return None
    attempt = os.environ.get("GITHUB_RUN_ATTEMPT", "1")
    return f"{server}/{repository}/actions/runs/{run}" + (f"/attempts/{attempt}" if attempt not in ("", "1") else "")


def _read_artifact(folder: Path) -> tuple[str | None, str]:
    from infra.artifact.verify import verify_artifact

    if not (Path(folder) / "manifest.json").is_file():
        return None, "not built here (`invoke build` writes dist/)"
    try:
        manifest = verify_artifact(Path(folder), "local")
    except HyphaeError as error:
        return None, f"{Path(folder).name}/ is not a valid artifact: {error}"
    git = manifest.get("git") or {}
    builder = (manifest.get("builder") or {}).get("kind", "unknown")
    commit = str(git.get("commit") or "unknown")[:12]
    return manifest["artifact_sha256"], f"built from {commit}{' (dirty)' if git.get('dirty') else ''} by {builder}"


def _read_event() -> dict:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def _git(directory: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""
