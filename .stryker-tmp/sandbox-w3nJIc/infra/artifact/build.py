"""`invoke build`: bundle the Worker with the pinned esbuild into a reproducible artifact.

The Worker's sources are staged in a temporary folder next to two generated files: the column
allowlist (`src/schema.json`, from `allowlist.read_allowlist`) and the client contract
(`src/contract.json`, from contract/myco-client.yaml). A contract field that no migration gives a
column refuses the build: that Worker would drop the field from every record. Then esbuild
bundles them with the staging folder as its working directory, so no absolute path reaches the output. Writes only the output
folder, replaced whole at the end (a failed build leaves the previous one as it was).
"""

from __future__ import annotations

import json
import platform
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from infra.artifact.allowlist import read_allowlist
from infra.artifact.manifest import (
    MANIFEST_NAME,
    plan_manifest,
    read_builder,
    read_git_state,
    render_manifest,
)
from infra.contract import read_contract, worker_contract
from infra.errors import ArtifactRejected, ConfigError, UsageError
from infra.paths import REPO_ROOT

MAIN_MODULE = "worker.js"
ESBUILD_FLAGS = (
    "--bundle",
    "--format=esm",
    "--platform=neutral",
    "--target=es2022",
    "--charset=utf8",
    "--legal-comments=none",
    "--log-level=warning",
)


def read_pinned_version(package: str, toolchain_root: Path = REPO_ROOT) -> str:
    """The installed version of an npm package, checked against the exact pin in package.json."""
    pinned = json.loads((toolchain_root / "package.json").read_text())["devDependencies"].get(package)
    installed_file = toolchain_root / "node_modules" / package / "package.json"
    if not installed_file.exists():
        raise UsageError(f"node_modules/{package} is missing; run `npm ci` (./run does it on first use)")
    installed = json.loads(installed_file.read_text())["version"]
    if installed != pinned:
        raise ConfigError("package.json", f"devDependencies.{package}", f"pinned {pinned} but node_modules has {installed}; run `npm ci`")
    return installed


def read_node_version() -> str | None:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def read_toolchain(toolchain_root: Path = REPO_ROOT) -> dict:
    return {
        "esbuild": read_pinned_version("esbuild", toolchain_root),
        "node": read_node_version(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def stage_sources(source: Path, staging: Path) -> dict:
    """Copy worker/src into `staging/src` and write the allowlist and the contract beside it;
    returns the allowlist. Raises ArtifactRejected when the migrations lack a contract field."""
    worker_src = source / "worker" / "src"
    if not (worker_src / "index.js").exists():
        raise UsageError(f"{worker_src}/index.js: missing; the Worker's entry module")
    shutil.copytree(worker_src, staging / "src")
    allowlist = read_allowlist(source / "migrations")
    contract = read_contract(source / "contract" / "myco-client.yaml")
    missing = [f"{table}.{field}" for table, spec in contract.tables.items() for field in spec.fields
               if field not in allowlist["tables"].get(table, {}).get("columns", [])]
    if missing:
        raise ArtifactRejected(f"migrations/ give no column to contract field(s) {', '.join(missing[:8])}"
                               f"{' …' if len(missing) > 8 else ''}; add a migration (contract/myco-client.yaml lists what the client sends)")
    (staging / "src" / "schema.json").write_text(json.dumps(allowlist, indent=1, sort_keys=True) + "\n")
    (staging / "src" / "contract.json").write_text(json.dumps(worker_contract(contract), indent=1, sort_keys=True) + "\n")
    return allowlist


def run_esbuild(staging: Path, outfile: Path, toolchain_root: Path = REPO_ROOT) -> None:
    esbuild = toolchain_root / "node_modules" / ".bin" / "esbuild"
    command = [str(esbuild), "src/index.js", f"--outfile={outfile}", *ESBUILD_FLAGS]
    result = subprocess.run(command, cwd=staging, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ArtifactRejected(f"esbuild failed on worker/src: {result.stderr.strip().splitlines()[0] if result.stderr.strip() else result.returncode}")


def build_artifact(output: Path, source: Path = REPO_ROOT, toolchain_root: Path = REPO_ROOT) -> dict:
    """Build the Worker from `source` into `output` (replaced whole); returns the manifest."""
    output = Path(output)
    toolchain = read_toolchain(toolchain_root)
    git = read_git_state(source)
    with tempfile.TemporaryDirectory(prefix="hyphae-build-") as temporary:
        staging, bundle = Path(temporary) / "stage", Path(temporary) / "out"
        staging.mkdir()
        allowlist = stage_sources(source, staging)
        run_esbuild(staging, bundle / MAIN_MODULE, toolchain_root)
        manifest = plan_manifest(
            bundle, main_module=MAIN_MODULE, schema_version=allowlist["schema_version"], git=git, toolchain=toolchain, builder=read_builder()
        )
        (bundle / MANIFEST_NAME).write_text(render_manifest(manifest))
        _replace_folder(bundle, output)
    return manifest


def _replace_folder(new: Path, target: Path) -> None:
    if target.exists():
        if not (target / MANIFEST_NAME).exists() and any(target.iterdir()):
            raise UsageError(f"{target}: exists and is not a build output (no {MANIFEST_NAME}); choose another --output")
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(new, target)
