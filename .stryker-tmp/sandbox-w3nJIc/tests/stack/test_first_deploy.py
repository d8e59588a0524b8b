"""A brand-new environment, from nothing to migrated and deployed, through the deploy workflow's tasks.

A new environment has no D1 database until Pulumi creates it, `migrate` needs its id, and the
Worker's schema gate refuses requests until the database is migrated. The deploy workflow runs
`verify`, `migrate --yes`, `up`, `outputs`, `status` (then `smoke`, which needs a live Worker and
is not run here); this test runs the same tasks, as processes, against the loopback API with a
stand-in `pulumi`. The stand-in models what the engine would do to the account for this program,
and nothing more:
- `up` creates the environment's D1 database (through the official SDK, on the loopback API)
  unless the stack already holds one, and records the outputs the program exports;
- a full `up` (not the data stage) deploys the Worker: it records the schema version the database
  is at at that moment, which the Worker's schema gate would check on its first request;
- `stack output --json` prints the recorded outputs: `{}` for a stack never deployed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.environments import load_environment, schema_version
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT
from infra.stack.names import data_resource_urns

from .harness import write_artifact, write_stand_in_pulumi

INVOKE = str(REPO_ROOT / ".venv" / "bin" / "invoke")

STAND_IN = '''
import json, os, sys
from pathlib import Path

from cloudflare import Cloudflare
from infra.environments import load_environment

state_file, log = Path(os.environ["STAND_IN_STATE"]), Path(os.environ["STAND_IN_LOG"])
state = json.loads(state_file.read_text()) if state_file.exists() else {"outputs": {}}
args = sys.argv[1:]
with log.open("a") as record:
    record.write(json.dumps({"argv": args, "stage": os.environ.get("HYPHAE_DEPLOY_STAGE")}) + "\\n")
if args[:3] == ["stack", "output", "--json"]:
    print(json.dumps(state["outputs"]))
    sys.exit(0)
assert args[0] == "up", args
env = load_environment(args[args.index("--stack") + 1])
client = Cloudflare(api_token=os.environ["CLOUDFLARE_API_TOKEN"], base_url=os.environ["HYPHAE_CLOUDFLARE_API_BASE"],
                    max_retries=0)
account = os.environ["CLOUDFLARE_ACCOUNT_ID"]
outputs = state["outputs"]
if "databaseId" not in outputs:
    database = client.d1.database.create(account_id=account, name=env.d1.name)
    outputs.update(databaseId=database.uuid, databaseName=env.d1.name, indexName=env.vectorize.name,
                   kvNamespaceId="0123456789abcdef0123456789abcdef")
if os.environ.get("HYPHAE_DEPLOY_STAGE") != "data":
    rows = client.d1.database.query(outputs["databaseId"], account_id=account,
                                    sql="SELECT count(*) AS n FROM d1_migrations")
    manifest = json.loads((Path(os.environ["HYPHAE_ARTIFACT_DIR"]) / "manifest.json").read_text())
    state["worker"] = {"schema_applied": list(rows)[0].results[0]["n"], "built_for": manifest["schema_version"]}
    outputs.update(workerName=env.worker.name, schemaVersion=manifest["schema_version"])
state_file.write_text(json.dumps(state))
'''


@pytest.fixture
def new_environment(cloudflare_env, tmp_path, monkeypatch):
    """`dev` never deployed: a stack with no outputs, no database in the account, the stand-in CLI."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_stand_in_pulumi(bin_dir, STAND_IN)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STAND_IN_STATE", str(tmp_path / "stack-dev.json"))
    monkeypatch.setenv("STAND_IN_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("HYPHAE_ARTIFACT_DIR", str(write_artifact(tmp_path / "dist", schema_version())))
    for variable in ("HYPHAE_NO_PULUMI_CLI", "HYPHAE_DEV_DATABASE_ID"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def run_task(*arguments: str) -> subprocess.CompletedProcess:
    result = subprocess.run([INVOKE, *arguments], cwd=REPO_ROOT, capture_output=True, text=True,
                            env=dict(os.environ), timeout=300)
    assert result.returncode == 0, f"invoke {' '.join(arguments)}: {result.stdout}{result.stderr}"
    return result


def stand_in_calls(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "calls.jsonl").read_text().splitlines()]


def test_a_new_environment_is_created_migrated_then_deployed_by_the_deploy_workflows_tasks(new_environment, cloudflare_env):
    run_task("verify", "--artifact", os.environ["HYPHAE_ARTIFACT_DIR"], "--env", "dev")
    migrated = run_task("migrate", "--env", "dev", "--yes")
    pending = len(list(DEFAULT_MIGRATIONS_DIR.glob("*.sql")))
    assert f"dev is not created yet: {pending} migration(s) will be applied by its first deploy" in migrated.stdout
    assert cloudflare_env.requests["d1.create"] == 0, "migrate never creates the database"

    deployed = run_task("up", "--env", "dev")
    assert "dev has no database yet: creating its data resources first" in deployed.stdout
    run_task("outputs", "--env", "dev")
    status = run_task("status", "--env", "dev")

    ups = [call for call in stand_in_calls(new_environment) if call["argv"][0] == "up"]
    assert [call["stage"] for call in ups] == ["data", None], "the data resources first, then everything"
    targets = [ups[0]["argv"][index + 1] for index, word in enumerate(ups[0]["argv"]) if word == "--target"]
    assert targets == data_resource_urns("dev")
    assert "--target" not in ups[1]["argv"]
    state = json.loads((new_environment / "stack-dev.json").read_text())
    assert state["worker"] == {"schema_applied": schema_version(), "built_for": schema_version()}, \
        "the Worker went live on a database already migrated to the schema it was built for"
    assert cloudflare_env.requests["d1.create"] == 1
    assert "pending" not in status.stdout and "applied  0005_" in status.stdout

    again = run_task("up", "--env", "dev")  # the environment exists now: one full `pulumi up`
    assert "has no database yet" not in again.stdout
    assert [call["stage"] for call in stand_in_calls(new_environment) if call["argv"][0] == "up"] == ["data", None, None]


def test_a_new_environments_data_stage_failure_stops_before_migrating(new_environment, cloudflare_env):
    failing = new_environment / "bin" / "pulumi"
    failing.write_text(failing.read_text().replace('assert args[0] == "up", args', 'sys.exit(3)'))
    result = subprocess.run([INVOKE, "up", "--env", "dev"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env=dict(os.environ), timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip() == "hyphae: error: pulumi up of dev's data resources failed (exit 3); see Pulumi's output above"
    assert cloudflare_env.requests["d1.query"] == 0 and load_environment("dev").d1.name
