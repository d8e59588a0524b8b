"""Running a built Worker on the real workerd, through miniflare's API (worker/dev/serve.mjs).

miniflare rather than `wrangler dev`: it starts in about a second, takes its options as data,
and reports the bound URL, with no interactive UI to tame. It persists like
`wrangler dev --persist-to $HYPHAE_STATE_DIR/wrangler`, so the Worker reads the very SQLite file
`infra.paths.local_d1_file` names (tests/test_paths.py proves it) and the migrate task writes.

Starts one node process in its own session and stops it with SIGTERM (miniflare disposes
workerd); a process that will not stop is killed with its whole group. The node process's stdin is
a lifeline held open by this process: whenever this process ends, however it ends (SIGKILL, a
closed terminal), the system closes it and node stops workerd (worker/dev/serve.mjs).
`stop_on_termination` turns SIGTERM and SIGHUP into an exception, so the callers' `finally`
blocks stop the Worker before the command exits.

The team key's bindings (the key, its generation, and during a rotation's overlap window the
previous key and its expiry) come from the state folder (infra/local/api_key.py), secrets through
the environment, never argv. A Worker started `reloadable` can be redeployed with new ones
(`LocalWorker.redeploy`, a `reload` line on the lifeline) without failing a request, as
Cloudflare switches versions.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from infra.artifact.verify import verify_artifact
from infra.bindings import WORKER_BINDINGS
from infra.environments import BINDING_API_KEY, VAR_TEAM_KEY_GENERATION
from infra.errors import HyphaeError, UsageError
from infra.paths import REPO_ROOT, state_dir, wrangler_persist_dir
from infra.render.local_config import plan_local_config

SERVE_SCRIPT = REPO_ROOT / "worker" / "dev" / "serve.mjs"
STAND_INS_SCRIPT = REPO_ROOT / "worker" / "dev" / "stand_ins.mjs"
COUNTING_SCRIPT = REPO_ROOT / "worker" / "dev" / "counting.mjs"
# Requests to the local runtime with this Host header reach the stand-ins themselves, which list
# what they hold (`GET /vectors`): how the smoke test and the tests look inside the local index.
STAND_INS_HOST = "stand-ins.hyphae.localhost"
LOOPBACK = "127.0.0.1"
KEY_STATE_BINDINGS = {binding.name: binding for binding in WORKER_BINDINGS if binding.from_key_state}
SECRET_NAMES = sorted(name for name, binding in KEY_STATE_BINDINGS.items() if binding.is_secret)
REDEPLOY_TIMEOUT_SECONDS = 60.0


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (raised by `stop_on_termination`): stop, cleaning up on the way out."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_on_termination():
    """While active, SIGTERM and SIGHUP (a closed terminal) raise Terminated in the main thread."""
    def terminate(signum, frame):
        raise Terminated(signum)

    previous = {signum: signal.signal(signum, terminate) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
    reload_file: Path | None = None  # set when started reloadable
    redeploys: int = 0

    def redeploy(self, key_bindings: dict[str, str], timeout: float = REDEPLOY_TIMEOUT_SECONDS) -> None:
        """Restart workerd with these team key bindings (every one of `from_key_state`: those not
        given are removed), holding requests meanwhile. Raises RuntimeFailed if it does not finish."""
        if self.reload_file is None:
            raise UsageError("this local Worker was not started reloadable; restart it instead")
        self.redeploys += 1
        plain, secret = split_key_bindings(key_bindings)
        removed = [name for name, binding in KEY_STATE_BINDINGS.items() if not binding.is_secret and name not in plain]
        done = self.reload_file.with_name(self.reload_file.name + ".done")
        done.unlink(missing_ok=True)
        _write_private(self.reload_file, json.dumps({"id": self.redeploys, "vars": plain, "secrets": secret,
                                                     "removeVars": removed}))
        # A line on the lifeline, not a signal: SIGHUP means "the terminal closed: stop".
        try:
            self.process.stdin.write(b"reload\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            raise RuntimeFailed(f"the local Worker has stopped; log {self.log_path}: {_log_tail(self.log_path)}") from None
        deadline = time.monotonic() + timeout
        while not (done.exists() and json.loads(done.read_text()).get("redeployed") == self.redeploys):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.reload_file.unlink(missing_ok=True)
                raise RuntimeFailed(f"the local Worker was not redeployed; log {self.log_path}: {_log_tail(self.log_path)}")
            time.sleep(0.05)
        done.unlink(missing_ok=True)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop workerd cleanly (SIGTERM to node, which disposes miniflare); kill the group if stuck."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.stdin and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # the lifeline: node stops on its end
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


def split_key_bindings(key_bindings: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain-text vars, secrets) of the team key's bindings; a name outside them is a bug."""
    unknown = set(key_bindings) - set(KEY_STATE_BINDINGS)
    if unknown:
        raise ValueError(f"not team key bindings: {sorted(unknown)}")
    secret = {name: value for name, value in key_bindings.items() if KEY_STATE_BINDINGS[name].is_secret}
    return {name: value for name, value in key_bindings.items() if name not in secret}, secret


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


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


def plan_counting_entry(artifact: Path, directory: Path, module: Path | None = None) -> dict:
    """miniflare options that run `artifact` behind worker/dev/counting.mjs (tests and bench only):
    the same bundle, its D1, AI, Vectorize and KV calls counted per invocation and held to the plan's
    limits as the platform holds them. `module` runs another Worker module instead (the bench's
    peer). Writes `directory` (the two modules side by side)."""
    manifest = verify_artifact(artifact, "local")
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(module or Path(artifact) / manifest["main_module"], directory / "worker.mjs")
    shutil.copyfile(COUNTING_SCRIPT, directory / "counting.mjs")
    return {"scriptPath": str((directory / "counting.mjs").resolve()), "modulesRoot": str(directory.resolve())}


def plan_runtime_options(artifact: Path, state: Path, config: dict, ready_file: Path) -> dict:
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
        # Port 0: workerd (or, reloadable, the front) binds a free port itself and the ready file
        # names it. A port picked beforehand and handed over could be taken by another process in
        # between (ERR_ADDRESS_IN_USE: seen with Worker tests running side by side).
        "port": 0,
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
    api_key: str | None = None,
    *,
    key_bindings: dict[str, str] | None = None,
    state: Path | None = None,
    config: dict | None = None,
    extra_options: dict | None = None,
    reloadable: bool = False,
    timeout: float = 60.0,
) -> LocalWorker:
    """Start the artifact on workerd on a free loopback port; returns once it listens.

    The team key: `key_bindings` (infra.local.api_key.local_team_key_bindings), or `api_key` alone
    as generation 1. `extra_options` adds or replaces miniflare options (tests: stand-ins with a
    failure marker, seed KV). `reloadable`: `redeploy` works (requests go through the runtime's
    front). Raises RuntimeFailed with the log's tail if workerd does not come up.
    """
    if not (REPO_ROOT / "node_modules" / "miniflare").is_dir():
        raise UsageError("node_modules/miniflare is missing; run `npm ci` (./run does it on first use)")
    state = state or state_dir()
    run_dir = state / "workerd"
    run_dir.mkdir(parents=True, exist_ok=True)
    ready_file, log_path = run_dir / f"ready-{os.getpid()}-{time.monotonic_ns()}.json", run_dir / "workerd.log"
    options = plan_runtime_options(artifact, state, config or plan_local_config(), ready_file)
    plain, secret = split_key_bindings(key_bindings or {BINDING_API_KEY: api_key, VAR_TEAM_KEY_GENERATION: "1"})
    options["vars"] = {**options["vars"], **plain}
    options["secretNames"] = SECRET_NAMES
    if reloadable:
        options.update(reloadable=True, reloadFile=str(run_dir / f"reload-{os.getpid()}-{time.monotonic_ns()}.json"))
    options.update(extra_options or {})
    # Only the keys given: a MYCO_TEAM_API_KEY_PREVIOUS of the caller's shell must not be bound.
    environment = {**{name: value for name, value in os.environ.items() if name not in SECRET_NAMES}, **secret}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            ["node", str(SERVE_SCRIPT)], stdin=subprocess.PIPE, stdout=log, stderr=log,
            env=environment, cwd=REPO_ROOT, start_new_session=True,
        )
    process.stdin.write(json.dumps(options).encode() + b"\n")
    process.stdin.flush()  # stdin stays open: the lifeline (see the module's docstring)
    worker = LocalWorker(url="", process=process, log_path=log_path,
                         reload_file=Path(options["reloadFile"]) if reloadable else None)
    try:
        worker.url = _wait_until_ready(process, ready_file, log_path, timeout)
    except BaseException:
        # Ctrl-C or a failed start: never leave workerd running behind us.
        worker.stop()
        raise
    finally:
        ready_file.unlink(missing_ok=True)
    return worker
