"""Benchmark of `invoke migrate`: hyphae against `wrangler d1 migrations apply`, same files, same run.

1. Wall time: 200 generated migrations applied to a fresh `local` database by
   `invoke migrate` (lint included) and by `wrangler d1 migrations apply --local` (the pinned
   wrangler in node_modules, a temporary wrangler.toml whose `migrations_dir` is the same folder).
   Both are separate processes started from cold; the two resulting schemas are compared.
2. API requests for N pending migrations, counted by the loopback Cloudflare API (tests/loopback:
   real SQLite behind the v4 API): hyphae through the official SDK, and the same wrangler with
   `--remote` and `CLOUDFLARE_API_BASE_URL` pointed at the loopback (one request per file, plus
   creating and listing its ledger).

Targets (issue 3): fewer than a fifth of wrangler's requests; faster than wrangler locally.
hyphae's floor is three requests (ledger + lock, Time Travel bookmark, one batch), so the request
target is judged from 15 pending migrations up, where a fifth of wrangler's count exceeds it.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.bench import BenchResult, Measurement, Target, scratch_variables, timed
from infra.d1.rules import read_user_schema
from infra.paths import REPO_ROOT, local_d1_file

MIGRATIONS = 200
REQUEST_COUNTS_FOR = (10, 50, 200)
WRANGLER = REPO_ROOT / "node_modules" / ".bin" / "wrangler"
LOCAL_DATABASE = "myco-team-local"


def generate_history(directory: Path, migrations: int = MIGRATIONS, seed: int = 3) -> None:
    """Migrations as a product team writes them: new tables, new columns, indexes, seed rows."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[str]] = {}
    for number in range(1, migrations + 1):
        body = []
        if number == 1 or rng.random() < 0.4:
            table = f"entity_{number}"
            tables[table] = ["name"]
            body.append(f"CREATE TABLE IF NOT EXISTS {table} (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL DEFAULT '',\n"
                        f"  created_at INTEGER NOT NULL DEFAULT 0\n);")
        table = rng.choice(sorted(tables))
        column = f"field_{number}"
        tables[table].append(column)
        body.append(f"ALTER TABLE {table} ADD COLUMN {column} TEXT;")
        body.append(f"CREATE INDEX IF NOT EXISTS {table}_{column} ON {table} ({column});")
        if rng.random() < 0.3:
            body.append(f"INSERT INTO {table} (name, created_at) VALUES ('seed {number}', {number});")
        (directory / f"{number:04d}_change_{number}.sql").write_text(f"-- migration {number}\n" + "\n".join(body) + "\n")


def run() -> BenchResult:
    result = BenchResult(f"migrate: {MIGRATIONS} migrations to local; API requests for N pending")
    with tempfile.TemporaryDirectory(prefix="hyphae-bench-migrate-") as scratch:
        root = Path(scratch)
        folder = root / "migrations"
        generate_history(folder)
        hyphae_seconds, hyphae_schema = _time_hyphae(folder, root / "hyphae-state")
        result.rows.append(Measurement("hyphae: invoke migrate (lint + apply)", hyphae_seconds, f"{MIGRATIONS} migrations"))
        if WRANGLER.exists():
            wrangler_seconds, wrangler_schema = _time_wrangler(folder, root / "wrangler-state")
            result.rows.append(Measurement("wrangler d1 migrations apply --local", wrangler_seconds, f"{MIGRATIONS} migrations"))
            result.targets.append(Target("faster than wrangler locally", hyphae_seconds < wrangler_seconds,
                                         f"{wrangler_seconds / hyphae_seconds:.1f}x"))
            same = "identical" if hyphae_schema == wrangler_schema else "DIFFERENT"
            result.notes.append(f"the two resulting schemas are {same}")
        else:
            result.notes.append(f"wrangler not installed at {WRANGLER}: run ./run to install node_modules")
        _request_counts(folder, root, result)
    return result


def _time_hyphae(folder: Path, state: Path) -> tuple[float, list]:
    environment = {**os.environ, "HYPHAE_STATE_DIR": str(state)}
    command = [str(REPO_ROOT / ".venv" / "bin" / "invoke"), "migrate", "--path", str(folder), "--format", "json"]
    seconds, _ = timed(lambda: subprocess.run(command, cwd=REPO_ROOT, env=environment, check=True, capture_output=True))
    return seconds, read_user_schema(local_d1_file(LOCAL_DATABASE, state))


def _time_wrangler(folder: Path, state: Path) -> tuple[float, list]:
    persist = state / "wrangler"
    config = write_wrangler_config(state, folder)
    seconds, _ = timed(lambda: apply_with_wrangler(config, persist))
    return seconds, read_user_schema(local_d1_file(LOCAL_DATABASE, state))


def write_wrangler_config(directory: Path, migrations: Path, database: str = LOCAL_DATABASE,
                          database_id: str | None = None) -> Path:
    """A wrangler.toml binding `database` (locally the id is the name, as hyphae's local environment keys it)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "wrangler.toml"
    config.write_text(f'name = "hyphae-bench"\ncompatibility_date = "2026-04-01"\n\n[[d1_databases]]\nbinding = "DB"\n'
                      f'database_name = "{database}"\ndatabase_id = "{database_id or database}"\n'
                      f'migrations_dir = "{migrations}"\n')
    return config


def apply_with_wrangler(config: Path, persist: Path) -> subprocess.CompletedProcess:
    """`wrangler d1 migrations apply DB --local` (CI=1: no confirmation prompt, no telemetry)."""
    environment = {**os.environ, "CI": "1", "WRANGLER_SEND_METRICS": "false"}
    return subprocess.run([str(WRANGLER), "d1", "migrations", "apply", "DB", "--local", "--config", str(config),
                           "--persist-to", str(persist)], cwd=config.parent, env=environment, check=True,
                          capture_output=True, text=True, timeout=600)


def _request_counts(folder: Path, root: Path, result: BenchResult) -> None:
    loopback = _loopback_module()
    if loopback is None:
        result.notes.append("tests/loopback not found: API request counts skipped")
        return
    files = sorted(folder.glob("*.sql"))
    ratios = {}
    for count in REQUEST_COUNTS_FOR:
        subset = root / f"first-{count}"
        subset.mkdir()
        for path in files[:count]:
            shutil.copy(path, subset / path.name)
        seconds, requests = _count_hyphae_requests(loopback, subset, root / f"hyphae-{count}")
        result.rows.append(Measurement(f"hyphae → loopback D1 API, {count} pending", seconds, f"{requests} requests"))
        if WRANGLER.exists():
            wrangler_seconds, wrangler_requests = _count_wrangler_requests(loopback, subset, root / f"wrangler-{count}")
            result.rows.append(Measurement(f"wrangler --remote → loopback, {count} pending", wrangler_seconds,
                                           f"{wrangler_requests} requests"))
            ratios[count] = requests / wrangler_requests
    judged = {count: ratio for count, ratio in ratios.items() if count >= 15}
    if judged:
        result.targets.append(Target("fewer than a fifth of wrangler's API requests (15+ pending)",
                                     max(judged.values()) < 0.2,
                                     ", ".join(f"{count}: {ratio:.2f}" for count, ratio in ratios.items())))


def _count_hyphae_requests(loopback, folder: Path, root: Path) -> tuple[float, int]:
    from infra.runner.apply import run_migrate

    api = loopback.start_loopback_api(root)
    database_id = api.d1.add_database(name="myco-team-dev")
    try:
        with scratch_variables(CLOUDFLARE_API_TOKEN=api.token, CLOUDFLARE_ACCOUNT_ID=api.account_id,
                               HYPHAE_CLOUDFLARE_API_BASE=api.base_url, HYPHAE_NO_PULUMI_CLI="1",
                               HYPHAE_STATE_DIR=str(root / "state"), HYPHAE_DEV_DATABASE_ID=database_id):
            seconds, _ = timed(lambda: run_migrate("dev", folder))
        return seconds, sum(api.requests.values())
    finally:
        api.close()


def _count_wrangler_requests(loopback, folder: Path, root: Path) -> tuple[float, int]:
    api = loopback.start_loopback_api(root)
    database_id = api.d1.add_database(name="myco-team-dev")
    config = write_wrangler_config(root / "config", folder, database="myco-team-dev", database_id=database_id)
    environment = {**os.environ, "CI": "1", "WRANGLER_SEND_METRICS": "false", "CLOUDFLARE_API_TOKEN": api.token,
                   "CLOUDFLARE_ACCOUNT_ID": api.account_id, "CLOUDFLARE_API_BASE_URL": api.base_url}
    try:
        seconds, _ = timed(lambda: subprocess.run(
            [str(WRANGLER), "d1", "migrations", "apply", "DB", "--remote", "--config", str(config)],
            cwd=config.parent, env=environment, check=True, capture_output=True, timeout=900))
        return seconds, sum(api.requests.values())
    finally:
        api.close()


def _loopback_module():
    """The loopback API lives with the tests (it is test infrastructure); the bench borrows it."""
    tests = REPO_ROOT / "tests"
    if not (tests / "loopback" / "__init__.py").exists():
        return None
    if str(tests) not in sys.path:
        sys.path.insert(0, str(tests))
    import loopback

    return loopback
