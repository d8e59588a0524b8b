"""The Pulumi program: the selected stack's environment, its Worker artifact, its stack outputs.

The stack name is the environment name (`pulumi stack select staging`). The Worker's bundle
comes from the build artifact folder, `$HYPHAE_ARTIFACT_DIR` or `dist/`; `invoke up` verifies
it (hashes and provenance) before Pulumi runs, and here its manifest must match the migrations:
a Worker built for another schema version is refused. Output names are the ones
`infra/outputs.py` reads back.

`HYPHAE_DEPLOY_STAGE=data` (set by `invoke up` for a new environment's first, targeted run)
registers the data resources only, so their ids exist before the database is migrated and the
Worker deployed.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from infra.environments import Environment, load_environment, schema_version
from infra.errors import ArtifactRejected
from infra.outputs import OUTPUT_KEYS
from infra.stack.cli import default_artifact_dir, deploys_data_only, require_deployable
from infra.stack.environment import HyphaeEnvironment, WorkerContent

API_KEY_OUTPUT = "apiKey"


def read_worker_content(directory: Path, expected_schema_version: int) -> WorkerContent:
    """The main module and its sha256 from the artifact's manifest. Raises ArtifactRejected."""
    from infra.artifact.verify import read_manifest

    manifest = read_manifest(directory)
    main_module = manifest.get("main_module")
    entry = manifest["files"].get(main_module) or {}
    if not entry.get("sha256"):
        raise ArtifactRejected(f"{directory / 'manifest.json'}: main_module {main_module!r} has no sha256; rebuild with `invoke build`")
    built_for = manifest.get("schema_version")
    if built_for != expected_schema_version:
        raise ArtifactRejected(
            f"{directory / 'manifest.json'}: the Worker was built for schema version {built_for}, but migrations/ "
            f"is at {expected_schema_version}; rebuild with `invoke build`"
        )
    return WorkerContent(main_module, str((directory / main_module).resolve()), entry["sha256"])


def build_environment(env: Environment, directory: Path | None = None, *, data_only: bool = False) -> HyphaeEnvironment:
    """The component for `env` with the artifact in `directory` (default: $HYPHAE_ARTIFACT_DIR or dist/);
    with `data_only`, its D1, KV and Vectorize resources alone (no artifact is read)."""
    require_deployable(env)
    version = schema_version()
    content = None if data_only else read_worker_content(directory or default_artifact_dir(), version)
    return HyphaeEnvironment(env, content, version)


def stack_outputs(component: HyphaeEnvironment) -> dict[str, pulumi.Input]:
    """The stack outputs by name (`infra.outputs.OUTPUT_KEYS`); only the API key is secret."""
    values = {
        "database_id": component.database.id,
        "database_name": component.database.name,
        "index_name": component.vector_index.id,
        "kv_namespace_id": component.kv_namespace.id,
    }
    if component.data_only:
        return {OUTPUT_KEYS[field]: value for field, value in values.items()}
    values.update(worker_name=component.worker.script_name, worker_url=component.worker_url,
                  schema_version=component.schema_version)
    outputs = {OUTPUT_KEYS[field]: value for field, value in values.items()}
    outputs[API_KEY_OUTPUT] = component.api_key_value
    return outputs


def run_program() -> tuple[HyphaeEnvironment, dict[str, pulumi.Input]]:
    """What `pulumi up` runs: build the selected stack's environment and export its outputs."""
    component = build_environment(load_environment(pulumi.get_stack()), data_only=deploys_data_only())
    outputs = stack_outputs(component)
    for name, value in outputs.items():
        pulumi.export(name, value)
    return component, outputs
