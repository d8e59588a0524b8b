"""The committed worker/wrangler.local.jsonc, read by the pinned wrangler itself (not by our parser).

`wrangler deploy --dry-run` validates the config and bundles the built module without an account
or network, and prints the bindings it would deploy: they must be the local bindings declared in
infra/bindings.py. `wrangler dev` with the documented command (`--persist-to
$HYPHAE_STATE_DIR/wrangler`) must serve the database `invoke migrate --env local` wrote, the one
`invoke local` runs on, and take the team key from `.dev.vars` (never from the config).

wrangler is kept off the network: no metrics, no banner (its update check), no `Request.cf`
download, and a proxy on a closed loopback port for anything else. Its logs go to the test's HOME.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from infra.bindings import WORKER_BINDINGS
from infra.environments import BINDING_API_KEY, load_environment, schema_version
from infra.local.runtime import LOOPBACK
from infra.paths import (
    DEFAULT_MIGRATIONS_DIR,
    REPO_ROOT,
    local_d1_file,
    wrangler_persist_dir,
)
from infra.render import LOCAL_CONFIG_PATH, plan_local_config
from infra.runner.apply import MigrateOptions, run_migrate
from tests.worker.conftest import TEAM_KEY, worker_artifact  # noqa: F401

pytestmark = pytest.mark.workerd

WRANGLER = REPO_ROOT / "node_modules" / ".bin" / "wrangler"
CLOSED_PORT_PROXY = "http://127.0.0.1:9"
# wrangler's name for each Cloudflare binding type, as its bindings table prints it.
WRANGLER_TYPE = {"d1": "D1 Database", "kv_namespace": "KV Namespace", "plain_text": "Environment Variable",
                 "vectorize": "Vectorize Index", "secret_text": "Secret", "service": "Worker"}
BINDING_ROW = re.compile(r"^env\.(?P<name>\w+) \((?P<value>.*?)\)\s{2,}(?P<type>\S.*?)(?:\s{2,}local)?\s*$")


@pytest.fixture
def project(tmp_path: Path, worker_artifact: Path) -> Path:  # noqa: F811
    """A folder laid out like the repository: the committed config in worker/, the build in dist/."""
    root = tmp_path / "project"
    (root / "worker").mkdir(parents=True)
    shutil.copy(LOCAL_CONFIG_PATH, root / "worker" / LOCAL_CONFIG_PATH.name)
    shutil.copytree(worker_artifact, root / "dist")
    return root


def wrangler_environment(home: Path) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CLOUDFLARE_", "CF_"))}
    return {
        **environment,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "CI": "1",
        "WRANGLER_SEND_METRICS": "false",
        "WRANGLER_HIDE_BANNER": "true",
        "CLOUDFLARE_CF_FETCH_ENABLED": "false",
        "HTTPS_PROXY": CLOSED_PORT_PROXY,
        "HTTP_PROXY": CLOSED_PORT_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
    }


def read_bindings_table(output: str) -> dict[str, tuple[str, str]]:
    """{binding name: (wrangler's resource type, value shown)} from wrangler's bindings table."""
    rows = (BINDING_ROW.match(line.strip()) for line in output.splitlines())
    return {row["name"]: (row["type"], row["value"]) for row in rows if row}


def expected_local_bindings() -> dict[str, tuple[str, str]]:
    config = plan_local_config()
    shown = {entry["binding"]: entry["database_id"] for entry in config["d1_databases"]}
    shown |= {entry["binding"]: entry["id"] for entry in config["kv_namespaces"]}
    shown |= {name: f'"{value}"' for name, value in config["vars"].items()}
    expected = {binding.name: (WRANGLER_TYPE[binding.type], shown[binding.name])
                for binding in WORKER_BINDINGS if binding.local and not binding.from_key_state}
    # Bindings without local emulation are service bindings to the stand-ins' entrypoints.
    expected |= {binding.name: (WRANGLER_TYPE["service"], f"hyphae-stand-ins#{binding.stand_in}")
                 for binding in WORKER_BINDINGS if binding.stand_in}
    return expected


def test_wrangler_accepts_the_committed_config_and_reports_the_declared_local_bindings(project, tmp_path):
    command = [str(WRANGLER), "deploy", "--dry-run", "--outdir", str(tmp_path / "out"), "-c", "worker/wrangler.local.jsonc"]
    result = subprocess.run(command, cwd=project, env=wrangler_environment(tmp_path / "home"), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--dry-run: exiting now." in result.stdout
    assert read_bindings_table(result.stdout) == expected_local_bindings()
    assert (tmp_path / "out" / "worker.js").is_file()


def test_wrangler_refuses_a_config_whose_main_module_is_missing(project, tmp_path):
    shutil.rmtree(project / "dist")
    command = [str(WRANGLER), "deploy", "--dry-run", "--outdir", str(tmp_path / "out"), "-c", "worker/wrangler.local.jsonc"]
    result = subprocess.run(command, cwd=project, env=wrangler_environment(tmp_path / "home"), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "dist/worker.js" in result.stdout + result.stderr


def wait_for_health(url: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"wrangler dev exited with {process.returncode}: {log.read_text()}")
        try:
            return httpx.get(f"{url}/health", timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"wrangler dev did not answer within {timeout:.0f}s: {log.read_text()}")


def free_loopback_port() -> int:
    """A port free now. wrangler dev must be told its port (our runtime binds port 0 instead), so
    another process could take it before wrangler does; this one test accepts that."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def test_wrangler_dev_serves_the_database_invoke_migrate_wrote(project, tmp_path):
    run_migrate("local", DEFAULT_MIGRATIONS_DIR, MigrateOptions())
    database = local_d1_file(load_environment("local").local_database_id)
    # The team key is a secret, never in the config: wrangler reads it from .dev.vars beside it.
    (project / "worker" / ".dev.vars").write_text(f"{BINDING_API_KEY}={TEAM_KEY}\n")
    port, log = free_loopback_port(), tmp_path / "wrangler-dev.log"
    command = [str(WRANGLER), "dev", "-c", "worker/wrangler.local.jsonc", "--persist-to", str(wrangler_persist_dir()),
               "--ip", LOOPBACK, "--port", str(port), "--inspector-port", str(free_loopback_port())]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=project, env=wrangler_environment(tmp_path / "home"),
                                   stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True)
    url = f"http://{LOOPBACK}:{port}"
    try:
        response = wait_for_health(url, process, log)
        record = {"table": "sessions", "operation": "upsert", "id": "via-wrangler", "machine_id": "m-wrangler",
                  "data": {"agent": "a", "started_at": 1, "created_at": 1, "project_id": "proj_" + "0" * 32, "summary": "s"}}
        synced = httpx.post(f"{url}/enqueue", json={"sync_protocol_version": 3, "machine_id": "m-wrangler", "records": [record]},
                            headers={"authorization": f"Bearer {TEAM_KEY}"}, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["schema_version"], body["schema_version_applied"]) == ("ok", schema_version(), schema_version())
    assert body["bindings"] == {"d1": True, "kv": True, "vectorize": True, "ai": True, "api_key": True}
    # The stand-ins are not running under `wrangler dev` alone: the record is stored and its
    # embedding waits in the backlog.
    assert (synced.status_code, synced.json()["accepted"], synced.json()["embeddings"]["failed"]) == (200, 1, 1), synced.text
    written = sorted(path for path in database.parent.glob("*.sqlite") if path.name != "metadata.sqlite")
    assert written == [database], "wrangler dev used another database file than the migrated one"
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        assert connection.execute("SELECT id FROM sessions WHERE machine_id = 'm-wrangler'").fetchall() == [("via-wrangler",)]
    finally:
        connection.close()
    assert TEAM_KEY not in log.read_text()
