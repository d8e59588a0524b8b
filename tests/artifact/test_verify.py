"""`verify_artifact`: every hash checked; beyond local, only clean CI builds are accepted."""

from __future__ import annotations

import json

import pytest

from infra.artifact import build_artifact, verify_artifact
from infra.errors import ArtifactRejected, UsageError


@pytest.fixture
def ci_artifact(source_checkout, tmp_path, in_ci):
    build_artifact(tmp_path / "dist", source=source_checkout)
    return tmp_path / "dist"


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


def test_a_manifest_edited_to_match_a_tampered_file_is_refused_by_the_whole_hash(ci_artifact):
    manifest_path = ci_artifact / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["worker.js"]["sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactRejected):
        verify_artifact(ci_artifact, "local")


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
