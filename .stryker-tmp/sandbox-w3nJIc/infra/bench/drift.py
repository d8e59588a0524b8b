"""Benchmark of `invoke drift` on a 500-table schema, next to the peer way of checking it:
`wrangler d1 export --local --no-data` of the same database plus a text diff against a reference
export taken when it was clean.

One out-of-band change (a column added by hand) is made first, so every method has something to
find. Measured: API round trips of a remote drift check against the loopback API (D1 and the
Worker settings; the loopback lives in tests/loopback/ and is started in-process), the wall time
of that check, its local compute (replay, normalize, compare) cold and with lint's replay cache,
the same check on `local`, and the wrangler export + diff.

Targets (issue 4): at most 2 API round trips; local compute under 1 s.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.bench import BenchResult, Measurement, Target, scratch_variables, timed
from infra.history.files import read_migrations
from infra.history.sumfile import write_sum
from infra.paths import REPO_ROOT, local_d1_file, miniflare_object_id

TABLES = 500
TABLES_PER_MIGRATION = 50
CHANGE = "ALTER TABLE t250 ADD COLUMN added_by_hand TEXT"
WRANGLER = REPO_ROOT / "node_modules" / ".bin" / "wrangler"


def generate_schema_history(directory: Path) -> None:
    """TABLES tables of 8 columns, each with one index, in migrations of TABLES_PER_MIGRATION."""
    for number in range(1, TABLES // TABLES_PER_MIGRATION + 1):
        body = []
        for table in range((number - 1) * TABLES_PER_MIGRATION, number * TABLES_PER_MIGRATION):
            body.append(f"CREATE TABLE IF NOT EXISTS t{table} (id TEXT NOT NULL, machine_id TEXT NOT NULL, "
                        "name TEXT NOT NULL DEFAULT '', status TEXT DEFAULT 'active', value REAL, "
                        "created_at INTEGER NOT NULL, updated_at INTEGER, synced_at INTEGER, "
                        "PRIMARY KEY (id, machine_id));")
            body.append(f"CREATE INDEX IF NOT EXISTS idx_t{table}_status ON t{table} (status) WHERE status <> 'gone';")
        (directory / f"{number:04d}_tables_{number}.sql").write_text("\n".join(body) + "\n")
    write_sum(directory, read_migrations(directory))


def start_loopback(root: Path):
    """The loopback Cloudflare API of the test suite (tests/loopback/), started in this process."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from loopback import start_loopback_api

    return start_loopback_api(root)


def measure_remote(history: Path, scratch: Path, result: BenchResult) -> tuple[int, float]:
    from infra.drift.check import check_drift
    from infra.runner.apply import run_migrate

    api = start_loopback(scratch / "loopback")
    try:
        database_id = api.d1.add_database(name="myco-team-staging")
        variables = {"CLOUDFLARE_API_TOKEN": api.token, "CLOUDFLARE_ACCOUNT_ID": api.account_id,
                     "HYPHAE_CLOUDFLARE_API_BASE": api.base_url, "HYPHAE_NO_PULUMI_CLI": "1",
                     "HYPHAE_STAGING_DATABASE_ID": database_id, "HYPHAE_STAGING_KV_NAMESPACE_ID": "5" * 32,
                     "HYPHAE_STATE_DIR": str(scratch / "state-remote")}
        with scratch_variables(**variables):
            run_migrate("staging", history)
            api.workers.deploy("myco-team-staging", _declared_bindings(database_id))
            connection = api.d1.connect(database_id)
            connection.execute(CHANGE)
            connection.close()
            api.reset_counts()
            seconds, report = timed(lambda: check_drift(["staging"], history))
        requests = sum(api.requests.values())
        routes = ", ".join(f"{route} {count}" for route, count in sorted(api.requests.items()))
        result.rows.append(Measurement("hyphae drift --env staging (loopback API)", seconds,
                                       f"{requests} requests ({routes}); {_schema_findings(report)}"))
        return requests, seconds
    finally:
        api.close()


def _declared_bindings(database_id: str) -> list[dict]:
    return [
        {"type": "d1", "name": "MYCO_TEAM_DB", "database_id": database_id},
        {"type": "vectorize", "name": "MYCO_TEAM_VECTORS", "index_name": "myco-team-staging-vectors"},
        {"type": "kv_namespace", "name": "MYCO_SECRETS", "namespace_id": "5" * 32},
        {"type": "secret_text", "name": "MYCO_TEAM_API_KEY"},
        {"type": "ai", "name": "AI"},
        {"type": "plain_text", "name": "SYNC_PROTOCOL_VERSION", "text": "3"},
        {"type": "plain_text", "name": "MIN_COMPAT_CLIENT_VERSION", "text": "1"},
        {"type": "plain_text", "name": "MYCO_SCHEMA_VERSION", "text": str(TABLES // TABLES_PER_MIGRATION)},
        {"type": "plain_text", "name": "EMBEDDING_MODEL", "text": "@cf/baai/bge-m3"},
    ]


def _schema_findings(report) -> str:
    schema = [finding for finding in report.findings if finding.area == "schema"]
    return "found: " + ", ".join(f"{finding.code} {finding.object}" for finding in schema)


def measure_local_compute(history: Path, scratch: Path, database: Path, result: BenchResult) -> float:
    """Replay + read + normalize + compare with no network: cold (no lint cache) and warm."""
    import sqlite3

    from infra.drift.compare import compare_schemas
    from infra.drift.expected import replay_expected
    from infra.drift.schema import read_connection_schema

    files = read_migrations(history)
    names = {file.name for file in files}

    def compute():
        expected = replay_expected(files, names)
        connection = sqlite3.connect(database)
        try:
            return compare_schemas(expected.applied, read_connection_schema(connection))
        finally:
            connection.close()

    timings = {}
    for label, state in (("cold: no lint cache", scratch / "state-cold"), ("warm: lint's replay cache", None)):
        with scratch_variables(**({"HYPHAE_STATE_DIR": str(state)} if state else {})):
            timings[label], differences = timed(compute)
        result.rows.append(Measurement(f"hyphae local compute ({label})", timings[label],
                                       f"{len(differences)} difference(s)"))
    return timings["cold: no lint cache"]


def measure_local_check(history: Path, scratch: Path, result: BenchResult) -> Path:
    from infra.drift.check import check_drift
    from infra.environments import load_environment
    from infra.runner.apply import run_migrate

    with scratch_variables(HYPHAE_STATE_DIR=str(scratch / "state-local")):
        run_migrate("local", history)
        database = local_d1_file(load_environment("local").local_database_id)
        reference = _wrangler_export(database, scratch / "wrangler-reference")
        _execute(database, CHANGE)
        seconds, report = timed(lambda: check_drift(["local"], history))
    result.rows.append(Measurement("hyphae drift --env local", seconds, _schema_findings(report)))
    if reference is not None:
        export_seconds, exported = timed(lambda: _wrangler_export(database, scratch / "wrangler-after"))
        diff_seconds, diff = timed(lambda: list(difflib.unified_diff(
            reference.splitlines(), (exported or "").splitlines(), lineterm="", n=0)))
        changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        result.rows.append(Measurement("wrangler d1 export --local --no-data", export_seconds,
                                       f"{len((exported or '').splitlines()):,} lines of SQL"))
        result.rows.append(Measurement("text diff against a clean export (difflib)", diff_seconds,
                                       f"{len(changed)} changed lines, e.g. {changed[-1][:70] if changed else ''}"))
        result.rows.append(Measurement("wrangler export + diff (peer total)", export_seconds + diff_seconds, ""))
    else:
        result.notes.append("wrangler is not installed (node_modules/.bin/wrangler): the peer row was skipped")
    return database


def _execute(database: Path, sql: str) -> None:
    import sqlite3

    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute(sql)
    connection.close()


def _wrangler_export(database: Path, folder: Path) -> str | None:
    """`wrangler d1 export --local --no-data` of a copy of `database` (wrangler reads its own
    `.wrangler/state` folder next to its config; it has no --persist-to for export)."""
    if not WRANGLER.exists():
        return None
    folder.mkdir(parents=True)
    (folder / "wrangler.jsonc").write_text('{"name": "bench", "compatibility_date": "2026-04-01", "d1_databases": '
                                           '[{"binding": "DB", "database_name": "bench", "database_id": "bench"}]}')
    copy = (folder / ".wrangler" / "state" / "v3" / "d1" / "miniflare-D1DatabaseObject"
            / f"{miniflare_object_id('miniflare-D1DatabaseObject', 'bench')}.sqlite")
    copy.parent.mkdir(parents=True)
    shutil.copy(database, copy)
    output = folder / "export.sql"
    subprocess.run([str(WRANGLER), "d1", "export", "bench", "--local", "--no-data", "--output", str(output)],
                   cwd=folder, capture_output=True, check=False, timeout=300,
                   env={**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "1"})
    return output.read_text() if output.exists() else None


def run() -> BenchResult:
    result = BenchResult(f"drift: a {TABLES}-table schema with one column added by hand")
    with tempfile.TemporaryDirectory(prefix="hyphae-bench-drift-") as scratch:
        scratch_path = Path(scratch)
        history = scratch_path / "migrations"
        history.mkdir()
        generate_schema_history(history)
        requests, _ = measure_remote(history, scratch_path, result)
        database = measure_local_check(history, scratch_path, result)
        with scratch_variables(HYPHAE_STATE_DIR=str(scratch_path / "state-local")):
            compute = measure_local_compute(history, scratch_path, database, result)
    result.targets = [
        Target("at most 2 API round trips for a remote environment", requests <= 2, f"{requests}"),
        Target("local compute under 1 s (cold: no lint cache)", compute < 1.0, f"{compute:.3f} s"),
    ]
    result.notes.append("the text diff says which line of which CREATE TABLE changed; drift names the object, "
                        "the attribute and the likely cause, and reads the schema in one query, never an export")
    return result
