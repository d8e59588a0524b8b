"""The manifest's facts, read without building: the git state, the builder, the whole-artifact hash."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.artifact.manifest import artifact_digest, read_builder, read_file_entries, read_git_state
from tests.artifact.conftest import git


def test_a_folder_outside_git_counts_as_dirty_with_no_commit(tmp_path: Path):
    """Guards against a failed `git` call being read as a clean tree (an empty status is clean)."""
    (tmp_path / "worker" / "src").mkdir(parents=True)
    assert read_git_state(tmp_path) == {"commit": None, "dirty": True}


def test_a_repository_without_a_commit_counts_as_dirty_with_no_commit(tmp_path: Path):
    """Guards against a tree with no HEAD passing as a clean build of some commit."""
    git(tmp_path, "init", "-q")
    assert read_git_state(tmp_path) == {"commit": None, "dirty": True}


def test_an_untracked_input_dirties_the_build_whatever_git_is_configured_to_show(source_checkout: Path):
    """Guards against the dirty flag trusting `git status`'s default: with status.showUntrackedFiles=no
    a new, untracked Worker module would not show and the build would claim to be clean."""
    git(source_checkout, "config", "status.showUntrackedFiles", "no")
    (source_checkout / "worker" / "src" / "extra").mkdir()
    (source_checkout / "worker" / "src" / "extra" / "new.js").write_text("export const x = 1;\n")
    state = read_git_state(source_checkout)
    assert state["dirty"] is True and len(state["commit"]) == 40


def test_a_clean_checkout_names_its_commit(source_checkout: Path):
    head = subprocess.run(["git", "-C", str(source_checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert read_git_state(source_checkout) == {"commit": head, "dirty": False}


def test_the_builder_is_ci_only_on_github_actions_with_a_run_id(monkeypatch):
    """Guards against a run id alone, or GITHUB_ACTIONS alone, making a laptop build look like CI's."""
    for name in ("GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    assert read_builder() == {"kind": "local"}
    monkeypatch.delenv("GITHUB_RUN_ID")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert read_builder() == {"kind": "local"}
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "2")
    monkeypatch.setenv("GITHUB_REPOSITORY", "myco/team-sync")
    assert read_builder() == {"kind": "ci", "run_id": "77", "run_attempt": "2", "repository": "myco/team-sync"}


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils' sha256sum")
def test_the_artifact_hash_is_sha256sums_own_listing_hashed(tmp_path: Path):
    """Guards against the whole-artifact hash drifting from its documented form, which lets anyone
    recompute it with `sha256sum` (docs/artifact.md)."""
    (tmp_path / "worker.js").write_text("export default {};\n")
    (tmp_path / "a.wasm").write_bytes(b"\0asm")
    listing = subprocess.run(["sha256sum", "a.wasm", "worker.js"], cwd=tmp_path, capture_output=True, check=True).stdout
    assert artifact_digest(read_file_entries(tmp_path)) == hashlib.sha256(listing).hexdigest()


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")
def test_manifest_sha256_is_the_documented_canonical_json_hashed(source_checkout: Path, tmp_path: Path, on_a_laptop):
    """Guards against manifest_sha256 drifting from its documented form (keys sorted, no spaces,
    itself left out), which anyone can recompute with jq (docs/artifact.md)."""
    from infra.artifact import build_artifact

    manifest = build_artifact(tmp_path / "dist", source=source_checkout)
    canonical = subprocess.run(["jq", "-cjS", "del(.manifest_sha256)", str(tmp_path / "dist" / "manifest.json")],
                               capture_output=True, check=True).stdout
    assert manifest["manifest_sha256"] == hashlib.sha256(canonical).hexdigest()
