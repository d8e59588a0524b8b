"""kill -9 at random moments never leaves schema and ledger disagreeing; two runs never apply twice."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from migration_history import read_ledger_rows, write_history

from infra.d1.rules import read_user_schema
from infra.errors import LockHeld
from infra.paths import REPO_ROOT, local_d1_file
from infra.runner.apply import MigrateOptions, run_migrate

KILLS = 60
CHILD = "import sys; from infra.runner.apply import run_migrate; run_migrate(sys.argv[1], sys.argv[2])"


def _crash_history(count: int = 24) -> dict[str, str]:
    """Migrations that write rows too, so they pack into several batches (several commit points)."""
    files = {}
    for number in range(1, count + 1):
        rows = "".join(f"INSERT INTO s{number} (v) VALUES ('row {number}.{row}');\n" for row in range(3))
        rows += "".join(f"UPDATE s{number} SET v = v || '!' WHERE id = {row};\n" for row in range(1, 4))
        files[f"{number:04d}_step_{number}.sql"] = (
            f"CREATE TABLE IF NOT EXISTS s{number} (id INTEGER PRIMARY KEY, v TEXT);\n{rows}"
            f"CREATE INDEX IF NOT EXISTS s{number}_v ON s{number} (v);\n")
    return files


def _expected_schemas(files: dict[str, str], tmp_path: Path) -> list[list[tuple]]:
    """The schema after the first k migrations, for every k, replayed independently with plain sqlite3."""
    schemas = []
    names = list(files)
    for applied in range(len(names) + 1):
        path = tmp_path / f"expected-{applied}.sqlite"
        connection = sqlite3.connect(path)
        connection.executescript("".join(files[name] for name in names[:applied]))
        connection.close()
        schemas.append(read_user_schema(path))
    return schemas


def _spawn(env_name: str, folder: Path, state: Path) -> subprocess.Popen:
    environment = {**os.environ, "HYPHAE_STATE_DIR": str(state)}
    return subprocess.Popen([sys.executable, "-c", CHILD, env_name, str(folder)], cwd=REPO_ROOT, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _fork_migrate(folder: Path, connected) -> multiprocessing.Process:
    """A forked migrate process (the test's own imports are warm, so each run starts in milliseconds)."""

    def child() -> None:
        run_migrate("local", folder, MigrateOptions(progress=lambda line: line.startswith("target:") and connected.set()))

    process = multiprocessing.get_context("fork").Process(target=child, daemon=True)
    process.start()
    return process


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_schema_and_ledger_disagreeing(tmp_path, monkeypatch):
    files = _crash_history()
    names = list(files)
    folder = write_history(tmp_path / "migrations", files)
    expected = _expected_schemas(files, tmp_path)
    monkeypatch.setenv("HYPHAE_STATE_DIR", str(tmp_path / "crash-state"))
    database = local_d1_file("myco-team-local")
    context = multiprocessing.get_context("fork")

    run_migrate("local", folder, MigrateOptions(plan_only=True))  # warm the lint cache the children share
    calibration_connected = context.Event()
    calibration = _fork_migrate(folder, calibration_connected)
    calibration_connected.wait(timeout=30)
    window_start = time.perf_counter()
    calibration.join(timeout=60)
    apply_window = time.perf_counter() - window_start
    assert calibration.exitcode == 0

    seen = []
    random_source = random.Random(20261122)
    for attempt in range(KILLS):
        for leftover in database.parent.glob(database.name + "*"):
            leftover.unlink()
        connected = context.Event()
        child = _fork_migrate(folder, connected)
        assert connected.wait(timeout=30), "the migrate child never connected"
        time.sleep(random_source.uniform(0, 1.1 * apply_window))
        os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=30)
        applied = _check_agreement(database, names, expected)
        seen.append(applied)
        run_migrate("local", folder)  # the rerun takes over the dead run's lease and finishes
        assert read_user_schema(database) == expected[-1], f"attempt {attempt}: rerun after kill at {applied} differs"
        assert read_ledger_rows(database)[0] == names
    print(f"migrations recorded when each kill landed: {sorted(seen)}")


def _check_agreement(database: Path, names: list[str], expected: list[list[tuple]]) -> int:
    """Schema == replay of exactly the migrations the ledger lists; returns how many that is."""
    if not database.exists():
        return 0
    connection = sqlite3.connect(database)
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    connection.close()
    if "d1_migrations" not in tables:
        assert read_user_schema(database) == [], "schema written without a ledger"
        return 0
    ledger, checksums = read_ledger_rows(database)
    assert ledger == names[: len(ledger)], f"ledger is not a prefix of the history: {ledger}"
    assert [name for name, _ in checksums] == sorted(ledger), "wrangler's ledger and hyphae's checksums disagree"
    assert read_user_schema(database) == expected[len(ledger)], f"schema does not match the {len(ledger)} recorded migrations"
    return len(ledger)


def test_two_local_runs_started_together_apply_each_migration_once(tmp_path, monkeypatch):
    files = _crash_history(12)
    folder = write_history(tmp_path / "migrations", files)
    state = tmp_path / "together"
    monkeypatch.setenv("HYPHAE_STATE_DIR", str(state))
    runs = [_spawn("local", folder, state), _spawn("local", folder, state)]
    outcomes = [(run.wait(timeout=60), run.stderr.read().decode()) for run in runs]
    for code, errors in outcomes:
        assert code == 0 or "LockHeld" in errors, errors
    database = local_d1_file("myco-team-local")
    assert read_ledger_rows(database)[0] == list(files)
    counts = sqlite3.connect(database).execute("SELECT count(*) FROM s1").fetchone()[0]
    assert counts == 3  # the three INSERTs of 0001 ran exactly once


def test_two_remote_runs_started_together_apply_each_migration_once(remote_database, tmp_path):
    files = _crash_history(12)
    folder = write_history(tmp_path / "migrations", files)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(run_migrate("dev", folder).applied)
        except Exception as error:  # noqa: BLE001 - collected and checked below
            outcomes.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2
    assert all(isinstance(outcome, (list, LockHeld)) for outcome in outcomes), outcomes
    applied = [name for outcome in outcomes if isinstance(outcome, list) for name in outcome]
    assert sorted(applied) == sorted(files)
    assert read_ledger_rows(remote_database)[0] == list(files)
    assert sqlite3.connect(remote_database).execute("SELECT count(*) FROM s1").fetchone()[0] == 3
