"""`invoke verify`: check an artifact's every hash and whether an environment may deploy it.

Read-only. Raises ArtifactRejected with the reason: a file changed, added or missing after the
build, or a manifest field edited; or, for any environment but `local`, a build from a dirty tree
or not made in CI.
"""

from __future__ import annotations

import json
from pathlib import Path

from infra.artifact.manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    artifact_digest,
    manifest_digest,
    read_file_entries,
)
from infra.environments import ENVIRONMENTS
from infra.errors import ArtifactRejected, UsageError


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST_NAME
    if not path.exists():
        raise ArtifactRejected(f"{path}: missing; build the artifact with `invoke build`")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactRejected(f"{path}: not valid JSON ({error}); rebuild with `invoke build`") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("files"), dict):
        raise ArtifactRejected(f"{path}: not a format-{MANIFEST_FORMAT} hyphae manifest; rebuild with `invoke build`")
    return manifest


def _check_files(directory: Path, manifest: dict) -> None:
    present = read_file_entries(directory)
    declared = manifest["files"]
    for name in sorted(set(declared) - set(present)):
        raise ArtifactRejected(f"{directory / name}: listed in {MANIFEST_NAME} but missing")
    for name in sorted(set(present) - set(declared)):
        raise ArtifactRejected(f"{directory / name}: not in {MANIFEST_NAME}; the artifact was changed after the build")
    for name in sorted(declared):
        if present[name]["sha256"] != declared[name].get("sha256"):
            raise ArtifactRejected(
                f"{directory / name}: sha256 {present[name]['sha256'][:12]}... does not match the manifest's "
                f"{str(declared[name].get('sha256'))[:12]}...; the file was modified after the build"
            )
    if artifact_digest(declared) != manifest.get("artifact_sha256"):
        raise ArtifactRejected(f"{directory / MANIFEST_NAME}: artifact_sha256 does not match its file list; the manifest was edited")
    if manifest.get("main_module") not in declared:
        raise ArtifactRejected(f"{directory / MANIFEST_NAME}: main_module {manifest.get('main_module')!r} is not one of its files")
    if manifest_digest(manifest) != manifest.get("manifest_sha256"):
        raise ArtifactRejected(f"{directory / MANIFEST_NAME}: its fields do not match manifest_sha256; the manifest was "
                               "edited after the build (its commit, dirty flag and builder are only what the build wrote); "
                               "rebuild with `invoke build`")


def _check_provenance(manifest: dict, env_name: str) -> None:
    """Only `local` accepts laptop builds: elsewhere a clean commit built in CI is required."""
    if env_name == "local":
        return
    git = manifest.get("git") or {}
    builder = manifest.get("builder") or {}
    if git.get("dirty", True) or not git.get("commit"):
        raise ArtifactRejected(
            f"artifact refused for {env_name}: built from a dirty tree (uncommitted changes to the Worker's inputs); "
            "deploy a CI build of a clean commit"
        )
    if builder.get("kind") != "ci" or not builder.get("run_id"):
        raise ArtifactRejected(
            f"artifact refused for {env_name}: built locally (builder {builder.get('kind', 'unknown')!r}), "
            "only CI builds with a run id may deploy beyond local"
        )


def verify_artifact(directory: Path, env_name: str) -> dict:
    """Check `directory` against its manifest and `env_name`'s rules; returns the manifest."""
    if env_name not in ENVIRONMENTS:
        raise UsageError(f"unknown environment {env_name!r} (known: {', '.join(ENVIRONMENTS)})")
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtifactRejected(f"{directory}: no such artifact folder; build it with `invoke build`")
    manifest = read_manifest(directory)
    _check_files(directory, manifest)
    _check_provenance(manifest, env_name)
    return manifest
