"""`verify_artifact`: every hash checked; beyond local, only clean CI builds are accepted."""

from __future__ import annotations

import hashlib
import json

import pytest

from infra.artifact import build_artifact, verify_artifact
from infra.artifact.manifest import manifest_digest
from infra.errors import ArtifactRejected, UsageError


def test_a_clean_ci_build_is_accepted_everywhere(ci_artifact):
    for env_name in ("local", "dev", "staging", "production"):
        assert verify_artifact(ci_artifact, env_name)["builder"]["run_id"] == "4242"


def test_a_tampered_file_is_refused_naming_it(ci_artifact):
    bundle = ci_artifact / "worker.js"
    bundle.write_text(bundle.read_text() + "\n// injected\n")
    with pytest.raises(ArtifactRejected, match=r"worker\.js: sha256 .* modified after the build"):
        verify_artifact(ci_artifact, "local")


def test_an_added_file_is_refused(ci_artifact):
    (ci_artifact / "extra.js").write_text("export {}")
    with pytest.raises(ArtifactRejected, match=r"extra\.js: not in manifest\.json"):
        verify_artifact(ci_artifact, "staging")


def test_a_missing_file_is_refused(ci_artifact):
    (ci_artifact / "worker.js").unlink()
    with pytest.raises(ArtifactRejected, match=r"worker\.js: listed in manifest\.json but missing"):
        verify_artifact(ci_artifact, "staging")


def edit_manifest(artifact, edit, *, rehash: bool) -> None:
    """Apply `edit` to the artifact's manifest.json; `rehash` recomputes manifest_sha256 as a forger would."""
    path = artifact / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    if rehash:
        manifest["manifest_sha256"] = manifest_digest(manifest)
    path.write_text(json.dumps(manifest))


def tamper_worker_keeping_its_size(artifact) -> str:
    """Replace worker.js with different bytes of the same length; returns their sha256."""
    bundle = artifact / "worker.js"
    original = bundle.read_bytes()
    tampered = original.replace(b"return", b"RETURN", 1)
    assert tampered != original and len(tampered) == len(original)
    bundle.write_bytes(tampered)
    return hashlib.sha256(tampered).hexdigest()


def test_a_file_replaced_by_other_bytes_of_the_same_size_is_refused(ci_artifact):
    """Guards against a size check standing in for the hash: same-size tampering must be caught."""
    tamper_worker_keeping_its_size(ci_artifact)
    with pytest.raises(ArtifactRejected, match=r"worker\.js: sha256 .* modified after the build"):
        verify_artifact(ci_artifact, "local")


def test_a_manifest_edited_to_match_a_tampered_file_is_refused_by_the_whole_hash(ci_artifact):
    """Guards against the artifact_sha256 comparison being dropped: the file and its manifest entry
    (and even manifest_sha256) edited together still fail the whole-artifact hash."""
    digest = tamper_worker_keeping_its_size(ci_artifact)
    edit_manifest(ci_artifact, lambda manifest: manifest["files"]["worker.js"].update(sha256=digest), rehash=True)
    with pytest.raises(ArtifactRejected, match="artifact_sha256 does not match its file list; the manifest was edited"):
        verify_artifact(ci_artifact, "local")


def test_a_dirty_build_whose_manifest_says_clean_is_refused_for_production(source_checkout, tmp_path, in_ci):
    """Guards against the hole format 1 had: `git` and `builder` were covered by no hash, so a dirty
    CI build with `"dirty": false` typed into manifest.json was accepted for production."""
    with (source_checkout / "migrations" / "0001_initial.sql").open("a") as migration:
        migration.write("-- an uncommitted edit\n")
    build_artifact(tmp_path / "dist", source=source_checkout)
    edit_manifest(tmp_path / "dist", lambda manifest: manifest["git"].update(dirty=False), rehash=False)
    with pytest.raises(ArtifactRejected, match="its fields do not match manifest_sha256; the manifest was edited after the build"):
        verify_artifact(tmp_path / "dist", "production")


def test_a_laptop_build_whose_manifest_claims_ci_is_refused(source_checkout, tmp_path, on_a_laptop):
    """Guards against the builder field being trusted as written: a hand-made CI claim is refused."""
    build_artifact(tmp_path / "dist", source=source_checkout)
    edit_manifest(tmp_path / "dist", lambda manifest: manifest.update(builder={"kind": "ci", "run_id": "1"}), rehash=False)
    with pytest.raises(ArtifactRejected, match="do not match manifest_sha256"):
        verify_artifact(tmp_path / "dist", "staging")


def test_a_ci_build_without_a_run_id_is_refused_beyond_local(ci_artifact):
    """Guards against the run-id requirement being dropped: `kind: ci` alone proves no CI run."""
    edit_manifest(ci_artifact, lambda manifest: manifest["builder"].pop("run_id"), rehash=True)
    assert verify_artifact(ci_artifact, "local")["builder"]["kind"] == "ci"
    with pytest.raises(ArtifactRejected, match="refused for staging: built locally \\(builder 'ci'\\), only CI builds with a run id"):
        verify_artifact(ci_artifact, "staging")


def test_a_manifest_without_the_dirty_flag_is_refused_beyond_local(ci_artifact):
    """Guards against a missing dirty flag being read as clean: no flag means not known to be clean."""
    edit_manifest(ci_artifact, lambda manifest: manifest["git"].pop("dirty"), rehash=True)
    with pytest.raises(ArtifactRejected, match="refused for production: built from a dirty tree"):
        verify_artifact(ci_artifact, "production")


def test_a_manifest_without_a_commit_is_refused_beyond_local(ci_artifact):
    """Guards against a build of no known commit passing as clean."""
    edit_manifest(ci_artifact, lambda manifest: manifest["git"].update(commit=None), rehash=True)
    with pytest.raises(ArtifactRejected, match="refused for dev: built from a dirty tree"):
        verify_artifact(ci_artifact, "dev")


def test_a_missing_manifest_says_to_build(tmp_path):
    (tmp_path / "dist").mkdir()
    with pytest.raises(ArtifactRejected, match="invoke build"):
        verify_artifact(tmp_path / "dist", "local")


def test_a_local_build_is_refused_beyond_local_but_accepted_for_local(source_checkout, tmp_path, on_a_laptop):
    build_artifact(tmp_path / "dist", source=source_checkout)
    assert verify_artifact(tmp_path / "dist", "local")["builder"] == {"kind": "local"}
    for env_name in ("dev", "staging", "production"):
        with pytest.raises(ArtifactRejected, match=f"refused for {env_name}: built locally"):
            verify_artifact(tmp_path / "dist", env_name)


def test_a_dirty_build_is_refused_for_staging_even_from_ci(source_checkout, tmp_path, in_ci):
    with (source_checkout / "migrations" / "0001_initial.sql").open("a") as migration:
        migration.write("-- an uncommitted edit\n")
    build_artifact(tmp_path / "dist", source=source_checkout)
    with pytest.raises(ArtifactRejected, match="refused for staging: built from a dirty tree"):
        verify_artifact(tmp_path / "dist", "staging")
    assert verify_artifact(tmp_path / "dist", "local")["git"]["dirty"] is True


def test_an_unknown_environment_is_a_usage_error(ci_artifact):
    with pytest.raises(UsageError, match="unknown environment 'stagin'"):
        verify_artifact(ci_artifact, "stagin")


def invoke_verify(*flags: str):
    import subprocess
    import sys

    from infra.paths import REPO_ROOT

    return subprocess.run([sys.executable, "-m", "invoke", "verify", *flags], cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_the_verify_task_refuses_a_tampered_file_in_one_line_and_leaves_it_as_it_was(ci_artifact):
    bundle = ci_artifact / "worker.js"
    bundle.write_text(bundle.read_text() + "\n// injected\n")
    before = bundle.read_bytes()
    result = invoke_verify("--artifact", str(ci_artifact), "--env", "production")
    assert result.returncode == 1  # a refused artifact, like a failed check
    assert result.stderr.strip().count("\n") == 0 and "worker.js: sha256" in result.stderr and "modified after the build" in result.stderr
    assert "Traceback" not in result.stderr
    assert bundle.read_bytes() == before


def test_the_verify_task_says_why_a_laptop_build_is_refused_for_staging(source_checkout, tmp_path, on_a_laptop):
    build_artifact(tmp_path / "dist", source=source_checkout)
    refused = invoke_verify("--artifact", str(tmp_path / "dist"), "--env", "staging")
    assert refused.returncode == 1
    assert "refused for staging: built locally" in refused.stderr and "only CI builds" in refused.stderr
    accepted = invoke_verify("--artifact", str(tmp_path / "dist"), "--env", "local")
    assert accepted.returncode == 0 and "accepted for local" in accepted.stdout


# Each refusal's whole message: the file, what is wrong and what to do (house style), exactly.
def refusal(artifact, env_name: str = "local") -> str:
    with pytest.raises(ArtifactRejected) as caught:
        verify_artifact(artifact, env_name)
    return str(caught.value)


def test_a_tampered_file_is_refused_with_both_hashes_abbreviated(ci_artifact):
    manifest = json.loads((ci_artifact / "manifest.json").read_text())
    digest = tamper_worker_keeping_its_size(ci_artifact)
    declared = manifest["files"]["worker.js"]["sha256"]
    assert refusal(ci_artifact) == (f"{ci_artifact / 'worker.js'}: sha256 {digest[:12]}... does not match the manifest's "
                                    f"{declared[:12]}...; the file was modified after the build")


def test_an_edited_file_list_is_refused_naming_the_manifest(ci_artifact):
    digest = tamper_worker_keeping_its_size(ci_artifact)
    edit_manifest(ci_artifact, lambda manifest: manifest["files"]["worker.js"].update(sha256=digest), rehash=True)
    assert refusal(ci_artifact) == (f"{ci_artifact / 'manifest.json'}: artifact_sha256 does not match its file list; "
                                    "the manifest was edited")


def test_a_main_module_that_is_not_one_of_the_files_is_refused(ci_artifact):
    """Guards against deploying a manifest whose entry module is not in the artifact."""
    edit_manifest(ci_artifact, lambda manifest: manifest.update(main_module="index.js"), rehash=True)
    assert refusal(ci_artifact) == f"{ci_artifact / 'manifest.json'}: main_module 'index.js' is not one of its files"


def test_an_edited_manifest_is_refused_saying_to_rebuild(ci_artifact):
    edit_manifest(ci_artifact, lambda manifest: manifest["toolchain"].update(esbuild="0.0.1"), rehash=False)
    assert refusal(ci_artifact) == (f"{ci_artifact / 'manifest.json'}: its fields do not match manifest_sha256; the manifest "
                                    "was edited after the build (its commit, dirty flag and builder are only what the build "
                                    "wrote); rebuild with `invoke build`")


def test_provenance_refusals_say_what_may_deploy(ci_artifact):
    edit_manifest(ci_artifact, lambda manifest: manifest["git"].update(dirty=True), rehash=True)
    assert refusal(ci_artifact, "staging") == (
        "artifact refused for staging: built from a dirty tree (uncommitted changes to the Worker's inputs); "
        "deploy a CI build of a clean commit")
    edit_manifest(ci_artifact, lambda manifest: manifest.update(git={"commit": "ab" * 20, "dirty": False}, builder={}),
                  rehash=True)
    assert refusal(ci_artifact, "production") == (
        "artifact refused for production: built locally (builder 'unknown'), only CI builds with a run id may deploy "
        "beyond local")


@pytest.mark.parametrize("text, problem", [
    ('{"format": 2, "files": {', "not valid JSON"),
    ('["not", "a", "manifest"]', "not a format-2 hyphae manifest; rebuild with `invoke build`"),
    ('{"format": 1, "files": {}}', "not a format-2 hyphae manifest; rebuild with `invoke build`"),
    ('{"format": 2, "files": ["worker.js"]}', "not a format-2 hyphae manifest; rebuild with `invoke build`"),
])
def test_a_manifest_that_is_not_hyphaes_is_refused_saying_to_rebuild(ci_artifact, text, problem):
    """Guards against a format-1 manifest (whose git and builder no hash covers) or a malformed one being read."""
    (ci_artifact / "manifest.json").write_text(text)
    message = refusal(ci_artifact)
    assert message.startswith(f"{ci_artifact / 'manifest.json'}: {problem}") and message.endswith("rebuild with `invoke build`")


def test_a_missing_folder_and_an_unknown_environment_are_named(ci_artifact, tmp_path):
    assert refusal(tmp_path / "nowhere") == f"{tmp_path / 'nowhere'}: no such artifact folder; build it with `invoke build`"
    with pytest.raises(UsageError) as caught:
        verify_artifact(ci_artifact, "qa")
    assert str(caught.value) == "unknown environment 'qa' (known: local, dev, staging, production)"
