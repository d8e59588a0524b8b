"""Running a built Worker on the real workerd, through miniflare's API (worker/dev/serve.mjs).

miniflare rather than `wrangler dev`: it starts in about a second, takes its options as data,
and reports the bound URL, with no interactive UI to tame. It persists like
`wrangler dev --persist-to $HYPHAE_STATE_DIR/wrangler`, so the Worker reads the very SQLite file
`infra.paths.local_d1_file` names (tests/test_paths.py proves it) and the migrate task writes.

Starts one node process in its own session and stops it with SIGTERM (miniflare disposes
workerd); a process that will not stop is killed with its whole group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from infra.artifact.verify import verify_artifact
from infra.environments import BINDING_API_KEY
from infra.errors import HyphaeError, UsageError
from infra.paths import REPO_ROOT, state_dir, wrangler_persist_dir
from infra.render.local_config import plan_local_config

SERVE_SCRIPT = REPO_ROOT / "worker" / "dev" / "serve.mjs"
STAND_INS_SCRIPT = REPO_ROOT / "worker" / "dev" / "stand_ins.mjs"
# Requests to the local runtime with this Host header reach the stand-ins themselves, which list
# what they hold (`GET /vectors`): how the smoke test and the tests look inside the local index.
STAND_INS_HOST = "stand-ins.hyphae.localhost"
LOOPBACK = "127.0.0.1"


class RuntimeFailed(HyphaeError):
    """workerd did not start (or stopped); the message carries the end of its log."""

    exit_code = 2


@dataclass
class LocalWorker:
    """A running Worker: its URL, process and log file. Use as a context manager or call stop()."""

    url: str
    process: subprocess.Popen
    log_path: Path
    stopped: bool = field(default=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop workerd cleanly (SIGTERM to node, which disposes miniflare); kill the group if stuck."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def plan_stand_ins(config: dict, extra_vars: dict | None = None) -> dict:
    """miniflare options binding the config's services to the stand-ins of worker/dev/stand_ins.mjs.

    `extra_vars` adds variables to the stand-in worker (tests: a failure marker for the model)."""
    services = {service["service"] for service in config.get("services", [])}
    return {
        "serviceWorkers": [
            {"name": name, "scriptPath": str(STAND_INS_SCRIPT), "modulesRoot": str(STAND_INS_SCRIPT.parent),
             "bindings": {**config.get("stand_in_vars", {}), **(extra_vars or {})}, "routes": [f"{STAND_INS_HOST}/*"]}
            for name in sorted(services)
        ],
        "serviceBindings": {service["binding"]: {"name": service["service"], "entrypoint": service["entrypoint"]}
                            for service in config.get("services", [])},
    }


def plan_runtime_options(artifact: Path, state: Path, config: dict, port: int, ready_file: Path) -> dict:
    """miniflare's options, from the same plan as worker/wrangler.local.jsonc."""
    manifest = verify_artifact(artifact, "local")
    return {
        **plan_stand_ins(config),
        "unsafeTriggerHandlers": True,
        "name": config["name"],
        "scriptPath": str((Path(artifact) / manifest["main_module"]).resolve()),
        "modulesRoot": str(Path(artifact).resolve()),
        "compatibilityDate": config["compatibility_date"],
        "compatibilityFlags": config["compatibility_flags"],
        "d1Databases": {db["binding"]: db["database_id"] for db in config["d1_databases"]},
        "kvNamespaces": {kv["binding"]: kv["id"] for kv in config["kv_namespaces"]},
        "vars": config["vars"],
        "persistRoot": str(wrangler_persist_dir(state)),
        "host": LOOPBACK,
        "port": port,
        "readyFile": str(ready_file),
    }


def _log_tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def _wait_until_ready(process: subprocess.Popen, ready_file: Path, log_path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready_file.exists():
            return json.loads(ready_file.read_text())["url"].rstrip("/")
        if process.poll() is not None:
            raise RuntimeFailed(f"workerd exited with {process.returncode} before listening; log {log_path}: {_log_tail(log_path)}")
        time.sleep(0.05)
    raise RuntimeFailed(f"workerd did not listen within {timeout:.0f}s; log {log_path}: {_log_tail(log_path)}")


def start_local_worker(
    artifact: Path,
    api_key: str,
    *,
    state: Path | None = None,
    config: dict | None = None,
    extra_options: dict | None = None,
    timeout: float = 60.0,
) -> LocalWorker:
    """Start the artifact on workerd on a free loopback port; returns once it listens.

    `extra_options` adds or replaces miniflare options (tests: stand-ins with a failure marker, seed KV).
    Raises RuntimeFailed with the log's tail if workerd does not come up.
    """
    if not (REPO_ROOT / "node_modules" / "miniflare").is_dir():
        raise UsageError("node_modules/miniflare is missing; run `npm ci` (./run does it on first use)")
    state = state or state_dir()
    run_dir = state / "workerd"
    run_dir.mkdir(parents=True, exist_ok=True)
    ready_file, log_path = run_dir / f"ready-{os.getpid()}-{time.monotonic_ns()}.json", run_dir / "workerd.log"
    options = plan_runtime_options(artifact, state, config or plan_local_config(), free_loopback_port(), ready_file)
    options.update(extra_options or {})
    environment = {**os.environ, BINDING_API_KEY: api_key}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            ["node", str(SERVE_SCRIPT)], stdin=subprocess.PIPE, stdout=log, stderr=log,
            env=environment, cwd=REPO_ROOT, start_new_session=True,
        )
    process.stdin.write(json.dumps(options).encode())
    process.stdin.close()
    worker = LocalWorker(url="", process=process, log_path=log_path)
    try:
        worker.url = _wait_until_ready(process, ready_file, log_path, timeout)
    except BaseException:
        # Ctrl-C or a failed start: never leave workerd running behind us.
        worker.stop()
        raise
    finally:
        ready_file.unlink(missing_ok=True)
    return worker
