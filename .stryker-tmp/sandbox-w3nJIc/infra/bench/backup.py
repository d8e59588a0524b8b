"""Benchmark of `invoke backup` and a verified `invoke restore --from-backup`, with peers in the same run.

A local environment is migrated and filled with 1,000,000 rows across the team-sync tables
(infra/bench/teamsync_rows.py), then, each as a separate process whose peak memory (max RSS,
from wait4) is read when it exits:
- hyphae: `invoke backup` (export as D1's format, gzip, scratch load, verification, manifest) and
  `invoke restore --from-backup` into a new database (file check, scratch load, verification);
- sqlite3's `.dump` to a file and `.read` of it into a new database (no compression, no check);
- `wrangler d1 export --local` (miniflare's port of D1's export; it builds the whole dump in memory).
The same hyphae backup of 100,000 rows shows whether memory grows with the database. Local only:
a remote backup spends its time in D1's export, not here. Nothing here asserts a time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from infra.bench import BenchResult, Measurement, Target, scratch_variables
from infra.bench.migrate import WRANGLER, write_wrangler_config
from infra.bench.teamsync_rows import fill_team_sync_tables
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, local_d1_file

ROWS = 1_000_000
SMALL_ROWS = 100_000
MEMORY_TARGET_MB = 256
LOCAL_DATABASE = "myco-team-local"
INVOKE = REPO_ROOT / ".venv" / "bin" / "invoke"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    tail: str  # the last lines of its output, for a failure


# Peak memory is read by a small wrapper process: a child forked straight from the benchmark would
# count the benchmark's own memory at the fork into its high-water mark (Linux keeps it across exec).
_WRAPPER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
            "sys.exit(code)")


def measure(command: list[str], environment: dict, cwd: Path = REPO_ROOT, stdout=None, timeout: float = 1800) -> Run:
    """Run `command` as its own process: wall time and its peak resident memory (children included)."""
    with tempfile.TemporaryDirectory(prefix="hyphae-bench-run-") as scratch:
        peak_file, log_file = Path(scratch) / "peak", Path(scratch) / "log"
        started = time.perf_counter()
        with open(log_file, "wb") as log:
            try:
                completed = subprocess.run([sys.executable, "-S", "-c", _WRAPPER, str(peak_file), *command], cwd=cwd,
                                           env=environment, stdin=subprocess.DEVNULL, stdout=stdout or log, stderr=log,
                                           timeout=timeout)
                code = completed.returncode
            except subprocess.TimeoutExpired:
                code = -9
        seconds = time.perf_counter() - started
        peak_kb = int(peak_file.read_text()) if peak_file.exists() else 0
        lines = [line for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
        lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]  # wrangler colours its errors
        errors = [line for line in lines if "error" in line.lower()]
        tail = (errors or lines or [""])[-1].strip()
    return Run(seconds, peak_kb / 1024, code, tail)


def run() -> BenchResult:
    result = BenchResult(f"backup: {ROWS:,} team-sync rows, local; time and peak memory per process")
    with tempfile.TemporaryDirectory(prefix="hyphae-bench-backup-") as scratch:
        root = Path(scratch)
        big = _hyphae_round_trip(root / "big", ROWS, result)
        _sqlite3_peer(root / "big", result)
        _wrangler_peer(root / "big", ROWS, result)
        small = _hyphae_round_trip(root / "small", SMALL_ROWS, result, restore=False)
        _wrangler_peer(root / "small", SMALL_ROWS, result)
    result.targets.append(Target(f"backup streamed: peak memory under {MEMORY_TARGET_MB} MB at {ROWS:,} rows",
                                 big.peak_mb < MEMORY_TARGET_MB, f"{big.peak_mb:.0f} MB"))
    result.targets.append(Target(f"memory does not grow with the data: {ROWS:,} rows within 1.5x of {SMALL_ROWS:,}",
                                 big.peak_mb < 1.5 * small.peak_mb, f"{big.peak_mb:.0f} MB vs {small.peak_mb:.0f} MB"))
    return result


def _hyphae_round_trip(root: Path, rows: int, result: BenchResult, restore: bool = True) -> Run:
    state, backups = root / "state", root / "backups"
    environment = {**os.environ, "HYPHAE_STATE_DIR": str(state), "HYPHAE_BACKUP_DIR": str(backups)}
    with scratch_variables(HYPHAE_STATE_DIR=str(state)):
        from infra.runner.apply import run_migrate

        run_migrate("local", DEFAULT_MIGRATIONS_DIR)
        database = local_d1_file(LOCAL_DATABASE)
    fill_team_sync_tables(database, rows)
    backup = measure([str(INVOKE), "backup"], environment)
    _check(backup, "invoke backup")
    (file,) = (backups / "local").glob("*.sql.gz")
    size = f"{file.stat().st_size / 1e6:.0f} MB gz of {database.stat().st_size / 1e6:.0f} MB database"
    result.rows.append(Measurement(f"hyphae backup, {rows:,} rows", backup.seconds,
                                   f"peak {backup.peak_mb:.0f} MB; {size}; verified"))
    if restore:
        restored = measure([str(INVOKE), "restore", "--env", "local", "--from-backup", str(file)], environment)
        _check(restored, "invoke restore")
        result.rows.append(Measurement(f"hyphae restore --from-backup (verified), {rows:,} rows", restored.seconds,
                                       f"peak {restored.peak_mb:.0f} MB; into a new database"))
    return backup


def _sqlite3_peer(root: Path, result: BenchResult) -> None:
    database = local_d1_file(LOCAL_DATABASE, root / "state")
    sqlite3_cli = shutil.which("sqlite3")
    if not sqlite3_cli:
        result.notes.append("sqlite3 (the CLI) is not installed: its .dump was not measured")
        return
    dump = root / "sqlite3-dump.sql"
    with open(dump, "wb") as output:
        dumped = measure([sqlite3_cli, str(database), ".dump"], dict(os.environ), stdout=output)
    result.rows.append(Measurement(f"sqlite3 .dump, {ROWS:,} rows", dumped.seconds,
                                   f"peak {dumped.peak_mb:.0f} MB; {dump.stat().st_size / 1e6:.0f} MB SQL, "
                                   "uncompressed, unchecked"))
    loaded = measure([sqlite3_cli, str(root / "sqlite3-restored.sqlite"), f".read {dump}"], dict(os.environ))
    result.rows.append(Measurement(f"sqlite3 .read of that dump, {ROWS:,} rows", loaded.seconds,
                                   f"peak {loaded.peak_mb:.0f} MB; unchecked" + _failed(loaded)))
    dump.unlink()


def _wrangler_peer(root: Path, rows: int, result: BenchResult) -> None:
    if not WRANGLER.exists():
        result.notes.append(f"wrangler not installed at {WRANGLER}: run ./run to install node_modules")
        return
    config = write_wrangler_config(root / "wrangler-config", DEFAULT_MIGRATIONS_DIR, database=LOCAL_DATABASE)
    # `d1 export --local` has no --persist-to: it reads <config folder>/.wrangler/state.
    (config.parent / ".wrangler").mkdir()
    (config.parent / ".wrangler" / "state").symlink_to(root / "state" / "wrangler")
    output = root / "wrangler-export.sql"
    environment = {**os.environ, "CI": "1", "WRANGLER_SEND_METRICS": "false"}
    exported = measure([str(WRANGLER), "d1", "export", "DB", "--local", "--output", str(output), "--config",
                        str(config)], environment, cwd=config.parent, timeout=1200)
    size = f"{output.stat().st_size / 1e6:.0f} MB SQL, unchecked" if output.exists() else "no file"
    result.rows.append(Measurement(f"wrangler d1 export --local, {rows:,} rows", exported.seconds,
                                   f"peak {exported.peak_mb:.0f} MB; {size}" + _failed(exported)))
    output.unlink(missing_ok=True)


def _failed(run: Run) -> str:
    return "" if run.returncode == 0 else f"; FAILED (exit {run.returncode}: {run.tail[-160:]})"


def _check(run: Run, what: str) -> None:
    if run.returncode != 0:
        raise RuntimeError(f"{what} failed in the benchmark (exit {run.returncode}): {run.tail}")
