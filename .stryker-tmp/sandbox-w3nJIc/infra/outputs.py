"""Reading an environment's stack outputs (resource ids) without the Pulumi engine.

The tasks need ids Pulumi created (the D1 database id above all). Sources, first wins per key:
1. environment variables `HYPHAE_<ENV>_<KEY>` (e.g. HYPHAE_STAGING_DATABASE_ID), for CI steps;
2. the outputs file `$HYPHAE_STATE_DIR/outputs/<env>.json` (what `pulumi stack output --json`
   prints; `invoke outputs --env ENV` writes it);
3. `pulumi stack output --json --stack <env>` when the Pulumi CLI is installed;
4. the environment's declaration (ids set there for adopted resources).
For `local` the ids are the declared names. Read-only; never returns or prints the API key.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.environments import Environment
from infra.errors import ConfigError
from infra.paths import state_dir

# Stack output names, as the Pulumi program exports them (infra/stack/), and our field names.
OUTPUT_KEYS = {
    "database_id": "databaseId",
    "database_name": "databaseName",
    "index_name": "indexName",
    "kv_namespace_id": "kvNamespaceId",
    "worker_name": "workerName",
    "worker_url": "workerUrl",
    "schema_version": "schemaVersion",
}


@dataclass(frozen=True)
class StackOutputs:
    database_id: str | None
    database_name: str | None
    index_name: str | None
    kv_namespace_id: str | None
    worker_name: str | None
    worker_url: str | None
    schema_version: int | None

    def require(self, field: str, env: Environment) -> str:
        value = getattr(self, field)
        if value in (None, ""):
            variable = f"HYPHAE_{env.name.upper()}_{field.upper()}"
            raise ConfigError(
                outputs_file(env.name).name if env.name else "outputs",
                OUTPUT_KEYS[field],
                f"unknown for environment {env.name!r}; run `invoke outputs --env {env.name}` after "
                f"`pulumi up`, or set {variable}, or declare it in {env.source}",
            )
        return str(value)


def outputs_file(env_name: str) -> Path:
    return state_dir() / "outputs" / f"{env_name}.json"


def read_outputs(env: Environment) -> StackOutputs:
    """Merge the sources above into one StackOutputs for `env`. Read-only."""
    if env.is_local:
        return StackOutputs(env.local_database_id, env.d1.name, None, env.kv.namespace_id or env.kv.title,
                            env.worker.name, None, None)
    layers = [_from_variables(env.name), _from_file(env.name), _from_pulumi_cli(env.name), _from_declaration(env)]
    values = {}
    for field, output_key in OUTPUT_KEYS.items():
        values[field] = next((layer[output_key] for layer in layers if layer.get(output_key) not in (None, "")), None)
    if values["schema_version"] is not None:
        values["schema_version"] = int(values["schema_version"])
    return StackOutputs(**values)


def write_outputs_file(env_name: str, outputs: dict) -> Path:
    """Record `pulumi stack output --json` for later tasks, without the secret outputs."""
    path = outputs_file(env_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    public = {key: value for key, value in outputs.items() if key in OUTPUT_KEYS.values()}
    path.write_text(json.dumps(public, indent=2, sort_keys=True) + "\n")
    return path


def _from_variables(env_name: str) -> dict:
    prefix = f"HYPHAE_{env_name.upper()}_"
    return {output_key: os.environ.get(prefix + field.upper()) for field, output_key in OUTPUT_KEYS.items()}


def _from_file(env_name: str) -> dict:
    path = outputs_file(env_name)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConfigError(str(path), f"line {error.lineno}", "not valid JSON; rewrite it with `invoke outputs`") from None
    return data if isinstance(data, dict) else {}


def _from_pulumi_cli(env_name: str) -> dict:
    if os.environ.get("HYPHAE_NO_PULUMI_CLI") or shutil.which("pulumi") is None:
        return {}
    result = subprocess.run(["pulumi", "stack", "output", "--json", "--stack", env_name],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        return {}
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return {}


def _from_declaration(env: Environment) -> dict:
    return {
        "databaseId": env.d1.database_id,
        "databaseName": env.d1.name,
        "indexName": env.vectorize.name,
        "kvNamespaceId": env.kv.namespace_id,
        "workerName": env.worker.name,
        "workerUrl": env.workers_dev_url,
    }
