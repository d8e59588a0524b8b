"""The artifact manifest: what was built, from which commit, by whom, with which tools.

`manifest.json` holds the sha256 of each file and of the whole artifact, the git commit and
whether the build inputs were dirty, the toolchain versions and the builder (CI with its run id,
or a local build), and `manifest_sha256` over all of that, so a hand edit of any field (`"dirty":
false` on a dirty build) is refused. It holds no timestamp: two builds of one commit are
byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 2  # 2: manifest_sha256 covers every field (format 1 left git and builder unhashed)

# The inputs of a build, relative to the source root: a change to any of them (committed or not)
# changes the bundle, so only these decide the dirty flag. Other helpers' work in progress
# elsewhere in the tree does not make a Worker build dirty.
BUILD_INPUTS = ("worker/src", "migrations", "contract", "package.json", "package-lock.json", "infra/artifact", "infra/contract.py")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def artifact_digest(files: dict[str, dict]) -> str:
    """The whole artifact's hash: sha256 over `<sha256>  <name>` lines, sorted by name."""
    lines = "".join(f"{files[name]['sha256']}  {name}\n" for name in sorted(files))
    return sha256_bytes(lines.encode())


def manifest_digest(manifest: dict) -> str:
    """sha256 of every field but `manifest_sha256` itself, as canonical JSON (sorted keys, no spaces).

    It catches an edited manifest; it is no signature (whoever edits can recompute it): that CI
    built the artifact is proven by the build's provenance attestation (docs/artifact.md)."""
    fields = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return sha256_bytes(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())


def read_file_entries(directory: Path) -> dict[str, dict]:
    """sha256 and size of every file in `directory` except the manifest, keyed by relative path."""
    entries = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != MANIFEST_NAME:
            data = path.read_bytes()
            entries[path.relative_to(directory).as_posix()] = {"sha256": sha256_bytes(data), "bytes": len(data)}
    return entries


def _git(source: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout


def read_git_state(source: Path) -> dict:
    """{"commit": sha or None, "dirty": bool}; not a git checkout counts as dirty."""
    commit = _git(source, "rev-parse", "HEAD")
    status = _git(source, "status", "--porcelain", "--untracked-files=all", "--", *BUILD_INPUTS)
    if commit is None or status is None:
        return {"commit": None, "dirty": True}
    return {"commit": commit.strip(), "dirty": bool(status.strip())}


def read_builder() -> dict:
    """CI (GitHub Actions, with its run id) or a local build."""
    if os.environ.get("GITHUB_ACTIONS") == "true" and os.environ.get("GITHUB_RUN_ID"):
        return {
            "kind": "ci",
            "run_id": os.environ["GITHUB_RUN_ID"],
            "run_attempt": os.environ.get("GITHUB_RUN_ATTEMPT"),
            "repository": os.environ.get("GITHUB_REPOSITORY"),
        }
    return {"kind": "local"}


def plan_manifest(directory: Path, *, main_module: str, schema_version: int, git: dict, toolchain: dict, builder: dict) -> dict:
    files = read_file_entries(directory)
    manifest = {
        "format": MANIFEST_FORMAT,
        "main_module": main_module,
        "schema_version": schema_version,
        "files": files,
        "artifact_sha256": artifact_digest(files),
        "git": git,
        "toolchain": toolchain,
        "builder": builder,
    }
    return {**manifest, "manifest_sha256": manifest_digest(manifest)}


def render_manifest(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"
