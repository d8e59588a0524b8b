"""`build_artifact`: a reproducible bundle and a manifest that says what it is."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.artifact import build_artifact
from infra.artifact.manifest import BUILD_INPUTS
from infra.errors import ArtifactRejected, ConfigError, UsageError
from infra.paths import REPO_ROOT


def read_tree(directory: Path) -> dict[str, bytes]:
    return {path.relative_to(directory).as_posix(): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def test_two_builds_of_the_same_commit_are_byte_identical(source_checkout, tmp_path, on_a_laptop):
    build_artifact(tmp_path / "one", source=source_checkout)
    build_artifact(tmp_path / "two", source=source_checkout)
    first, second = read_tree(tmp_path / "one"), read_tree(tmp_path / "two")
    assert sorted(first) == ["manifest.json", "worker.js"]
    assert first == second


def test_two_checkouts_of_one_commit_in_different_folders_build_byte_identical_artifacts(source_checkout, tmp_path, on_a_laptop):
    clone = tmp_path / "elsewhere" / "clone"
    subprocess.run(["git", "clone", "-q", str(source_checkout), str(clone)], check=True, capture_output=True)
    one = build_artifact(tmp_path / "one", source=source_checkout)
    two = build_artifact(tmp_path / "two", source=clone)
    assert one["git"] == two["git"] and one["git"]["dirty"] is False
    assert read_tree(tmp_path / "one") == read_tree(tmp_path / "two")
    assert str(source_checkout).encode() not in (tmp_path / "one" / "worker.js").read_bytes()


def test_a_ci_build_and_a_laptop_build_of_one_commit_differ_only_in_the_builder(source_checkout, tmp_path, monkeypatch, on_a_laptop):
    laptop = build_artifact(tmp_path / "laptop", source=source_checkout)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_RUN_ID", "777")
    ci = build_artifact(tmp_path / "ci", source=source_checkout)
    assert (tmp_path / "laptop" / "worker.js").read_bytes() == (tmp_path / "ci" / "worker.js").read_bytes()
    assert laptop["artifact_sha256"] == ci["artifact_sha256"]
    assert {key for key in laptop if laptop[key] != ci[key]} == {"builder", "manifest_sha256"}  # the hash covers the builder


def test_the_manifest_hashes_every_file_and_names_commit_toolchain_and_builder(source_checkout, tmp_path, on_a_laptop):
    manifest = build_artifact(tmp_path / "dist", source=source_checkout)
    bundle = (tmp_path / "dist" / "worker.js").read_bytes()
    assert manifest["files"]["worker.js"] == {"sha256": hashlib.sha256(bundle).hexdigest(), "bytes": len(bundle)}
    assert manifest["git"]["dirty"] is False and len(manifest["git"]["commit"]) == 40
    assert manifest["toolchain"]["esbuild"] == json.loads((source_checkout / "package.json").read_text())["devDependencies"]["esbuild"]
    assert manifest["builder"] == {"kind": "local"}
    assert json.loads((tmp_path / "dist" / "manifest.json").read_text()) == manifest


def test_a_ci_build_records_its_run_id(source_checkout, tmp_path, in_ci):
    manifest = build_artifact(tmp_path / "dist", source=source_checkout)
    assert manifest["builder"]["kind"] == "ci" and manifest["builder"]["run_id"] == "4242"


def test_an_uncommitted_change_to_a_build_input_marks_the_build_dirty(source_checkout, tmp_path):
    (source_checkout / "worker" / "src" / "extra.js").write_text("export const x = 1;\n")
    assert build_artifact(tmp_path / "dist", source=source_checkout)["git"]["dirty"] is True


def test_a_change_outside_the_build_inputs_does_not_dirty_the_build(source_checkout, tmp_path):
    (source_checkout / "notes.txt").write_text("unrelated\n")
    assert "notes.txt" not in BUILD_INPUTS
    assert build_artifact(tmp_path / "dist", source=source_checkout)["git"]["dirty"] is False


def test_the_bundle_carries_the_allowlist_generated_from_the_migrations(source_checkout, tmp_path):
    migration = source_checkout / "migrations" / "0099_color.sql"
    migration.write_text("ALTER TABLE sessions ADD COLUMN color TEXT;\n")
    manifest = build_artifact(tmp_path / "dist", source=source_checkout)
    assert manifest["schema_version"] == 99
    assert '"color"' in (tmp_path / "dist" / "worker.js").read_text()


def test_a_failed_build_leaves_the_previous_artifact_as_it_was(source_checkout, tmp_path):
    build_artifact(tmp_path / "dist", source=source_checkout)
    before = read_tree(tmp_path / "dist")
    (source_checkout / "worker" / "src" / "index.js").write_text("export default {{{\n")
    with pytest.raises(ArtifactRejected, match="esbuild failed"):
        build_artifact(tmp_path / "dist", source=source_checkout)
    assert read_tree(tmp_path / "dist") == before


def test_building_over_a_folder_that_is_not_an_artifact_is_refused(source_checkout, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "keep.txt").write_text("mine")
    with pytest.raises(Exception, match="not a build output"):
        build_artifact(tmp_path / "precious", source=source_checkout)
    assert (tmp_path / "precious" / "keep.txt").read_text() == "mine"


def fake_toolchain(root: Path, pinned: str) -> Path:
    """A toolchain folder pinning esbuild at `pinned`, with this repository's installed esbuild."""
    root.mkdir()
    (root / "package.json").write_text(json.dumps({"devDependencies": {"esbuild": pinned}}))
    (root / "node_modules").mkdir()
    (root / "node_modules" / "esbuild").symlink_to(REPO_ROOT / "node_modules" / "esbuild")
    return root


def test_an_installed_esbuild_that_differs_from_the_pin_is_refused_before_writing(source_checkout, tmp_path):
    toolchain = fake_toolchain(tmp_path / "toolchain", pinned="0.0.1")
    with pytest.raises(ConfigError, match=r"package\.json: devDependencies\.esbuild: pinned 0\.0\.1 but node_modules has .*run `npm ci`"):
        build_artifact(tmp_path / "dist", source=source_checkout, toolchain_root=toolchain)
    assert not (tmp_path / "dist").exists()


def test_a_missing_node_modules_says_to_run_npm_ci(source_checkout, tmp_path):
    toolchain = tmp_path / "toolchain"
    toolchain.mkdir()
    shutil.copy(REPO_ROOT / "package.json", toolchain / "package.json")
    with pytest.raises(UsageError, match=r"node_modules/esbuild is missing; run `npm ci`"):
        build_artifact(tmp_path / "dist", source=source_checkout, toolchain_root=toolchain)
    assert not (tmp_path / "dist").exists()


def test_the_build_refuses_migrations_that_lack_a_contract_field(source_checkout, tmp_path):
    contract = source_checkout / "contract" / "myco-client.yaml"
    contract.write_text(contract.read_text().replace("      thread_label: text\n", "      thread_label: text\n      thread_colour: text\n"))
    with pytest.raises(ArtifactRejected, match=r"migrations/ give no column to contract field\(s\) prompt_batches.thread_colour; add a migration"):
        build_artifact(tmp_path / "dist", source=source_checkout)
    assert not (tmp_path / "dist").exists()


def add_contract_table(source: Path, fields: int) -> list[str]:
    """A contract table no migration creates, with `fields` text fields; returns their names."""
    names = ["id", "machine_id", *(f"f{number}" for number in range(fields - 2))]
    contract = source / "contract" / "myco-client.yaml"
    table = ("  ghosts:\n    scope: machine\n    key: [id, machine_id]\n    since: 3\n    content_hash: false\n"
             "    fields:\n" + "".join(f"      {name}: text\n" for name in names))
    contract.write_text(contract.read_text().replace("tables:\n", "tables:\n" + table, 1))
    return names


def test_a_contract_table_no_migration_creates_is_refused_listing_eight_fields_at_most(source_checkout, tmp_path):
    """Guards against a table missing from the migrations crashing the build (or passing) instead of
    being refused with its fields named."""
    names = add_contract_table(source_checkout, 9)
    with pytest.raises(ArtifactRejected) as caught:
        build_artifact(tmp_path / "dist", source=source_checkout)
    listed = ", ".join(f"ghosts.{name}" for name in names[:8])
    assert str(caught.value) == (f"migrations/ give no column to contract field(s) {listed} …; add a migration "
                                 "(contract/myco-client.yaml lists what the client sends)")
    assert not (tmp_path / "dist").exists()


def test_eight_missing_contract_fields_are_all_listed_without_an_ellipsis(source_checkout, tmp_path):
    names = add_contract_table(source_checkout, 8)
    with pytest.raises(ArtifactRejected) as caught:
        build_artifact(tmp_path / "dist", source=source_checkout)
    assert f"field(s) {', '.join(f'ghosts.{name}' for name in names)}; add a migration" in str(caught.value)


def test_a_missing_entry_module_is_named(source_checkout, tmp_path):
    (source_checkout / "worker" / "src" / "index.js").unlink()
    with pytest.raises(UsageError) as caught:
        build_artifact(tmp_path / "dist", source=source_checkout)
    assert str(caught.value) == f"{source_checkout / 'worker' / 'src'}/index.js: missing; the Worker's entry module"


def test_an_esbuild_error_is_quoted_in_one_line(source_checkout, tmp_path):
    """Guards against esbuild's error reaching the user as bytes or not at all."""
    (source_checkout / "worker" / "src" / "index.js").write_text("export default {{{\n")
    with pytest.raises(ArtifactRejected) as caught:
        build_artifact(tmp_path / "dist", source=source_checkout)
    message = str(caught.value)
    assert message.startswith("esbuild failed on worker/src: ✘ [ERROR]") and "\n" not in message


def test_building_again_replaces_the_previous_artifact_and_makes_missing_parent_folders(source_checkout, tmp_path):
    """Guards against a second build into dist/ being refused, or a nested --output failing."""
    output = tmp_path / "a" / "b" / "dist"
    build_artifact(output, source=source_checkout)
    (output / "stale.js").write_text("left by an older build")
    build_artifact(output, source=source_checkout)
    assert sorted(path.name for path in output.iterdir()) == ["manifest.json", "worker.js"]
    empty = tmp_path / "empty"
    empty.mkdir()
    build_artifact(empty, source=source_checkout)
    assert (empty / "manifest.json").exists()


def test_the_manifest_names_the_toolchain_that_built_it(source_checkout, tmp_path):
    """Guards against toolchain versions recorded under the wrong names or not read at all."""
    import platform
    import sqlite3

    toolchain = build_artifact(tmp_path / "dist", source=source_checkout)["toolchain"]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["esbuild"]
    assert toolchain == {"esbuild": pinned, "node": node, "python": platform.python_version(), "sqlite": sqlite3.sqlite_version}


def test_the_toolchain_roots_own_esbuild_bundles(source_checkout, tmp_path):
    """Guards against the build running the repository's esbuild instead of the toolchain it checked."""
    toolchain = fake_toolchain(tmp_path / "toolchain", pinned=json.loads(
        (REPO_ROOT / "package.json").read_text())["devDependencies"]["esbuild"])
    (toolchain / "node_modules" / ".bin").mkdir()
    marker = tmp_path / "ran"
    wrapper = toolchain / "node_modules" / ".bin" / "esbuild"
    wrapper.write_text(f"#!/bin/sh\ntouch {marker}\nexec {REPO_ROOT / 'node_modules' / '.bin' / 'esbuild'} \"$@\"\n")
    wrapper.chmod(0o755)
    build_artifact(tmp_path / "dist", source=source_checkout, toolchain_root=toolchain)
    assert marker.exists()


def test_the_bundle_carries_the_client_contract(source_checkout, tmp_path):
    """Guards against the contract (the Worker's per-record validation) being left out of the bundle:
    a field the client sends and the Worker drops is known from the contract alone."""
    contract = source_checkout / "contract" / "myco-client.yaml"
    contract.write_text(contract.read_text().replace("    dropped: [embedded]\n", "    dropped: [embedded, zz_dropped_probe]\n", 1))
    build_artifact(tmp_path / "dist", source=source_checkout)
    assert "zz_dropped_probe" in (tmp_path / "dist" / "worker.js").read_text()


def test_an_esbuild_that_fails_silently_is_reported_with_its_exit_code(source_checkout, tmp_path):
    """Guards against a failure without a message crashing the build instead of being reported."""
    toolchain = fake_toolchain(tmp_path / "toolchain", pinned=json.loads(
        (REPO_ROOT / "package.json").read_text())["devDependencies"]["esbuild"])
    (toolchain / "node_modules" / ".bin").mkdir()
    silent = toolchain / "node_modules" / ".bin" / "esbuild"
    silent.write_text("#!/bin/sh\nexit 3\n")
    silent.chmod(0o755)
    with pytest.raises(ArtifactRejected) as caught:
        build_artifact(tmp_path / "dist", source=source_checkout, toolchain_root=toolchain)
    assert str(caught.value) == "esbuild failed on worker/src: 3"
