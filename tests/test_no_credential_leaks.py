"""No credential leaks: after the credential lifecycle runs for real, none of its secret values is
in a committed or new file of the repository, a task's output, the runtime's log, the built
artifact, a saved stack outputs file, or the local database.

The secrets are the ones this test makes happen: the local team keys of three generations, two
MCP tokens (created, then rotated), and the team keys the Pulumi program generates under mocks.
They are random, so finding one anywhere means something wrote it there.
(tests/stack/test_no_plain_secrets.py scans the committed files for the shapes secrets take.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from infra.environments import BINDING_API_KEY, schema_version
from infra.local.api_key import deploy_local_team_keys, read_or_create_local_api_key
from infra.local.pipeline import run_local
from infra.local.runtime import start_local_worker
from infra.paths import REPO_ROOT, local_d1_file, state_dir
from infra.rotation.window import utc_now

pytestmark = [pytest.mark.workerd, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def invoke(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**os.environ, "HYPHAE_NO_PULUMI_CLI": "1"}, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout + result.stderr


def repository_files() -> list[Path]:
    """Every file git tracks, and every new file it would offer to commit."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, check=True).stdout
    return [REPO_ROOT / name for name in listed.decode().split("\0") if name and (REPO_ROOT / name).is_file()]


def holding(paths: list[Path], secrets: set[str]) -> list[str]:
    found = []
    for path in paths:
        data = path.read_bytes()
        found += [f"{path}: secret #{sorted(secrets).index(secret)}" for secret in secrets if secret.encode() in data]
    return found


def connect_token(url: str, key: str) -> str:
    response = httpx.post(f"{url}/connect", json={"machine_id": "m-leak", "sync_protocol_version": 3},
                          headers={"authorization": f"Bearer {key}"}, timeout=60)
    return response.json()["mcp_token"]


def test_no_credential_reaches_a_file_an_output_a_log_or_the_artifact(tmp_path, monkeypatch):
    artifact = tmp_path / "dist"
    captured: list[str] = []
    run_local(captured.append, artifact=artifact)
    secrets = {read_or_create_local_api_key()}

    captured.append(invoke("rotate", "--env", "local", "--credential", "team-key"))
    secrets.add(read_or_create_local_api_key())
    captured.append(invoke("rotate", "--env", "local", "--credential", "team-key", "--compromised"))
    keys = deploy_local_team_keys(utc_now())
    secrets.add(keys[BINDING_API_KEY])
    with start_local_worker(artifact, key_bindings=keys) as worker:
        secrets.add(connect_token(worker.url, keys[BINDING_API_KEY]))
        captured.append(invoke("rotate", "--env", "local", "--credential", "mcp-token", "--url", worker.url))
        secrets.add(connect_token(worker.url, keys[BINDING_API_KEY]))
        captured.append(invoke("credentials", "--env", "local"))
        captured.append(invoke("smoke", "--env", "local", "--url", worker.url))
        for output_format in ("human", "json", "markdown"):
            captured.append(invoke("drift", "--format", output_format))
        log = worker.log_path
    secrets.update(stack_output_secrets(tmp_path))
    assert len(secrets) == 7, "three local keys, two MCP tokens, two keys of the Pulumi program"

    assert holding(repository_files(), secrets) == [], "a credential was written into the repository"
    assert [index for index, text in enumerate(captured) if any(secret in text for secret in secrets)] == []
    assert holding([log], secrets) == [], "the runtime's log"
    assert holding(sorted(path for path in artifact.rglob("*") if path.is_file()), secrets) == [], "the built artifact"
    assert holding(sorted((state_dir() / "outputs").glob("*.json")), secrets) == [], "saved stack outputs"
    database = local_d1_file("myco-team-local")
    assert database.exists() and holding([database], secrets) == [], "the local D1 database (generations and fingerprints only)"


def stack_output_secrets(tmp_path: Path) -> set[str]:
    """The Pulumi program run (mocks) during a rotation window, and its outputs saved as `invoke
    outputs` saves them: the file has ids and the generation, no key. Returns the generated keys."""
    import datetime

    import yaml

    from infra.environments import load_environment
    from infra.outputs import outputs_file, write_outputs_file
    from infra.stack.program import build_environment, stack_outputs
    from tests.stack.harness import run_under_mocks, write_artifact

    root = tmp_path / "repo"
    root.mkdir()
    for path in REPO_ROOT.glob("*.yaml"):
        (root / path.name).write_text(path.read_text())
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    data = yaml.safe_load((root / "Pulumi.staging.yaml").read_text())
    data["config"]["hyphae:credentials"] = {"teamKeyGeneration": 2, "teamKeyRotatedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                            "previousKeyExpires": (now + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    (root / "Pulumi.staging.yaml").write_text(yaml.safe_dump(data))
    env = load_environment("staging", root)
    program_artifact = write_artifact(tmp_path / "program-dist", schema_version())
    run = run_under_mocks("staging", lambda: stack_outputs(build_environment(env, program_artifact)))
    assert set(run.generated_keys) == {"staging-api-key", "staging-api-key-even"}
    write_outputs_file("staging", run.outputs)  # what `invoke outputs` keeps of `pulumi stack output --json`
    assert "apiKey" in run.outputs and outputs_file("staging").exists()
    return set(run.generated_keys.values())


def test_the_scan_finds_a_planted_secret_in_a_new_repository_file():
    planted = REPO_ROOT / "worker" / f".dev.vars-leak-probe-{os.getpid()}"
    secret = os.urandom(16).hex()
    planted.write_text(f"MYCO_TEAM_API_KEY={secret}\n")
    try:
        assert planted in repository_files(), "a new file git would offer to commit is scanned"
        assert holding([planted], {secret}) == [f"{planted}: secret #0"]
    finally:
        planted.unlink()
