"""Benchmark of the Worker on workerd: throughput, and what 1,000 records cost against the plan's
per-invocation budget, with upstream's write pattern (worker/dev/peer_upstream.mjs) as the peer.

Both Workers run on the real workerd behind worker/dev/counting.mjs, which counts D1 queries (each
statement of a batch) and subrequests (Workers AI, Vectorize, KV) per invocation and, like the
platform, fails a call past the plan's limit. Each one gets a freshly migrated local database.

1. Cost per 1,000 records: one push of 1,000, and ten pushes of 100 (the client's batch), clean,
   with 1% bad records (rejected), and with 1% refused by D1 (a trigger; bisection on hyphae's,
   one-by-one on upstream's), on the Paid and the Free plan; AI calls include the cron runs that
   drain the embedding backlog afterwards.
2. Load: 50 clients pushing 100-record batches with 1% bad records for a minute (the load test of
   the issue at full length): records per second, zero 5xx, every good record stored once, every
   bad one rejected; the same load without bad records against both Workers for a shorter time.
3. Memory: workerd's peak resident memory around one unauthenticated 100 MB POST, refused by
   hyphae's Worker (the body cancelled) and by a Worker that reads the body first (hyphae's before).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx

from infra.bench import BenchResult, Measurement, Target, scratch_variables
from infra.bench.worker_load import TABLES, CountingBody, make_push, run_load, workerd_peak_kib
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, local_d1_file

KEY = "bench-team-key-0f9e8d7c6b5a"
PEER = REPO_ROOT / "worker" / "dev" / "peer_upstream.mjs"
LOAD_SECONDS = float(os.environ.get("HYPHAE_BENCH_WORKER_SECONDS", "60"))
PEER_SECONDS = LOAD_SECONDS / 3
BUDGETS = {"paid": 1000, "free": 50}


class BenchWorker:
    """A Worker (hyphae's or the peer) on workerd behind counting.mjs, on a fresh migrated database."""

    def __init__(self, root: Path, name: str, artifact: Path, plan: str = "paid", module: Path | None = None):
        from infra.environments import load_environment
        from infra.local.runtime import plan_counting_entry, start_local_worker
        from infra.render.local_config import plan_local_config
        from infra.runner.apply import MigrateOptions, run_migrate

        self.state = root / name
        with scratch_variables(HYPHAE_STATE_DIR=str(self.state)):
            run_migrate("local", DEFAULT_MIGRATIONS_DIR, MigrateOptions())
        env = load_environment("local")
        planned = env.model_copy(update={"worker": env.worker.model_copy(update={"plan": plan})})
        options = {**plan_counting_entry(artifact, self.state / "counting", module), "vars": plan_local_config(planned)["vars"]}
        self.worker = start_local_worker(artifact, KEY, state=self.state, extra_options=options)
        self.url, self.plan = self.worker.url, plan

    def push(self, records: list[dict], machine: str) -> httpx.Response:
        body = {"machine_id": machine, "sync_protocol_version": 3, "records": records}
        return httpx.post(f"{self.url}/enqueue", json=body, headers={"authorization": f"Bearer {KEY}"}, timeout=300)

    def cron_until_drained(self, runs: int = 200) -> list[dict]:
        """Cron runs until no embedding job nor deferred record is left; their counted invocations."""
        for _ in range(runs):
            if self.count("SELECT (SELECT count(*) FROM team_embed_backlog) + (SELECT count(*) FROM team_dlq WHERE reason LIKE 'deferred:%')") == 0:
                break
            httpx.get(f"{self.url}/cdn-cgi/handler/scheduled", timeout=120)
        return [run for run in httpx.get(f"{self.url}/__hyphae_counts", timeout=30).json() if run["kind"] == "scheduled"]

    def count(self, sql: str) -> int:
        connection = sqlite3.connect(f"file:{local_d1_file('myco-team-local', self.state)}?mode=ro", uri=True)
        try:
            return connection.execute(sql).fetchone()[0]
        finally:
            connection.close()

    def stop(self) -> None:
        self.worker.stop()


# A column per table that a trigger refuses when it holds 'poison', as a constraint would.
POISON_COLUMN = {"sessions": "title", "spores": "observation_type", "plans": "title", "prompt_batches": "session_id",
                 "entities": "name", "graph_edges": "type"}


def _add_poison_triggers(worker: BenchWorker) -> None:
    with sqlite3.connect(local_d1_file("myco-team-local", worker.state)) as connection:
        for table, column in POISON_COLUMN.items():
            connection.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN NEW.{column} = 'poison' "
                               "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END")


def _poison_records(records: list[dict]) -> None:
    """Every 100th record becomes one D1 refuses."""
    for index, record in enumerate(records):
        if index % 100 == 50:
            record["data"][POISON_COLUMN[record["table"]]] = "poison"


def _cost(root: Path, artifact: Path, label: str, *, plan: str, batches: int, bad: str, module: Path | None = None) -> tuple[Measurement, bool]:
    """1,000 records pushed as `batches` pushes; bad: 'none', 'rejected' (1%) or 'refused' (1% by D1).
    Returns the row and whether every invocation kept within the plan's budget."""
    worker = BenchWorker(root, f"cost-{sum(1 for _ in root.iterdir())}", artifact, plan, module)
    try:
        size = 1000 // batches
        pushes = [make_push("m-bench", batch, size, 100 if bad == "rejected" else None) for batch in range(batches)]
        if bad == "refused":
            _add_poison_triggers(worker)
            for push in pushes:
                _poison_records(push.records)
        d1, subrequests, statuses, over, ai = [], [], [], set(), 0
        started = time.perf_counter()
        for push in pushes:
            response = worker.push(push.records, "m-bench")
            statuses.append(response.status_code)
            d1.append(int(response.headers.get("x-counted-d1-queries", 0)))
            subrequests.append(int(response.headers.get("x-counted-subrequests", 0)))
            ai += int(response.headers.get("x-counted-ai-calls", 0))
            if "x-counted-refused" in response.headers:
                over.update(refusal.split(":")[0] for refusal in response.headers["x-counted-refused"].split("; "))
        seconds = time.perf_counter() - started
        runs = worker.cron_until_drained() if module is None else []
        ai += sum(run["ai"] for run in runs)
        cron_d1 = [run["d1"] for run in runs]
        refused = [status for status in statuses if status != 200]
        budget = BUDGETS[plan]
        within = not refused and not over and max(d1) <= budget and max(subrequests) <= budget and all(queries <= budget for queries in cron_d1)
        accepted = sum(len(push.good) for push in pushes)
        stored = sum(worker.count(f"SELECT count(*) FROM {table}") for table in TABLES)
        parked = worker.count("SELECT count(*) FROM team_dlq")
        detail = (f"{sum(d1)} D1 queries, {ai} AI calls / 1,000 records; per invocation at most {max(d1)} queries, "
                  f"{max(subrequests)} subrequests (budget {budget})"
                  + (f"; then {len(runs)} cron runs of at most {max(cron_d1)} queries" if runs else "")
                  + f"; {stored} of {accepted} good records stored" + (f", {parked} in team_dlq" if parked else "")
                  + (f"; calls past the limit ({', '.join(sorted(over))}) failed, answered 200 all the same" if over and not refused else "")
                  + (f"; answered {sorted(set(refused))}" if refused else ""))
        return Measurement(label, seconds, detail), within
    finally:
        worker.stop()


def _load(root: Path, artifact: Path, label: str, *, seconds: float, bad_every: int | None, module: Path | None = None) -> tuple[Measurement, list[str]]:
    """50 clients for `seconds`; the row, and what went wrong (empty when nothing did)."""
    worker = BenchWorker(root, f"load-{sum(1 for _ in root.iterdir())}", artifact, "paid", module)
    try:
        result = run_load(worker.url, KEY, clients=50, seconds=seconds, size=100, bad_every=bad_every)
        problems = [f"{result.server_errors} answers 5xx"] if result.server_errors else []
        problems += [f"{len(result.errors)} answers other than 200: {result.errors[0][:120]}"] if result.errors else []
        if module is None:
            problems += [f"{len(result.unexpected)} unexpected rejections: {result.unexpected[0]}"] if result.unexpected else []
            stored = sum(worker.count(f"SELECT count(*) FROM {table}") for table in TABLES)
            expected = sum(len(good) for good in result.good.values())
            if stored != expected:
                problems.append(f"{stored} rows stored for {expected} good records")
            if max(result.d1_per_request, default=0) > BUDGETS["paid"]:
                problems.append(f"an invocation made {max(result.d1_per_request)} D1 queries")
        rate = result.records_sent / result.seconds if result.seconds else 0
        queries = sum(result.d1_per_request) / max(result.records_sent, 1) * 1000
        detail = (f"{result.records_sent} records, {rate:,.0f} records/s, {queries:.0f} D1 queries / 1,000 records, "
                  f"at most {max(result.d1_per_request, default=0)} per invocation, {result.server_errors} answers 5xx, "
                  f"{result.resets} connections reset by workerd and resent")
        return Measurement(label, result.seconds, detail), problems
    finally:
        worker.stop()


def _memory(root: Path, artifact: Path, label: str, module: Path | None = None, query: str = "") -> tuple[Measurement, int]:
    """One unauthenticated 100 MB POST: the row, and workerd's peak memory growth in KiB."""
    worker = BenchWorker(root, f"memory-{sum(1 for _ in root.iterdir())}", artifact, "paid", module)
    try:
        httpx.get(f"{worker.url}/health", timeout=30)
        before = workerd_peak_kib(worker.worker.process.pid)
        body = CountingBody(100 << 20)
        started = time.perf_counter()
        response = httpx.post(f"{worker.url}/enqueue{query}", content=body, headers={"content-length": str(body.size)}, timeout=300)
        seconds = time.perf_counter() - started
        growth = workerd_peak_kib(worker.worker.process.pid) - before
        detail = f"answer {response.status_code}; {body.sent >> 20} MiB taken from the client; workerd peak memory +{growth / 1024:.1f} MiB"
        return Measurement(label, seconds, detail), growth
    finally:
        worker.stop()


def run() -> BenchResult:
    from infra.artifact import build_artifact

    result = BenchResult("worker: hyphae's Worker on workerd against upstream's write pattern (both behind counting.mjs)")
    with tempfile.TemporaryDirectory(prefix="hyphae-bench-worker-") as scratch:
        root = Path(scratch)
        artifact = root / "dist"
        build_artifact(artifact)
        runs = root / "runs"
        runs.mkdir()
        within = []
        for plan in ("paid", "free"):
            for batches, shape in ((1, "one push of 1,000"), (10, "ten pushes of 100")):
                for bad, what in (("none", "clean"), ("rejected", "1% bad"), ("refused", "1% refused by D1")):
                    if plan == "free" and batches == 10 and bad != "rejected":
                        continue  # the Free plan's pushes of 100 cost what the Paid plan's do
                    row, fits = _cost(runs, artifact, f"hyphae, {plan}: {shape}, {what}", plan=plan, batches=batches, bad=bad)
                    result.rows.append(row)
                    within.append(fits)
        for batches, shape in ((10, "ten pushes of 100"), (1, "one push of 1,000")):
            for bad, what in (("none", "clean"), ("refused", "1% refused by D1")):
                row, _ = _cost(runs, artifact, f"upstream pattern, paid: {shape}, {what}", plan="paid", batches=batches, bad=bad, module=PEER)
                result.rows.append(row)
        result.targets.append(Target("every hyphae invocation (pushes and cron runs) within the plan's D1 and subrequest budget",
                                     all(within), f"{sum(within)} of {len(within)} scenarios"))

        row, problems = _load(runs, artifact, f"hyphae: 50 clients x 100-record batches, 1% bad, {LOAD_SECONDS:.0f} s",
                              seconds=LOAD_SECONDS, bad_every=100)
        result.rows.append(row)
        result.targets.append(Target("load with 1% bad records: zero 5xx, every good record stored once, every bad one rejected by id, "
                                     "every invocation within budget", not problems, "; ".join(problems) or "all held"))
        ours, _ = _load(runs, artifact, f"hyphae: 50 clients, clean, {PEER_SECONDS:.0f} s", seconds=PEER_SECONDS, bad_every=None)
        peer, _ = _load(runs, artifact, f"upstream pattern: 50 clients, clean, {PEER_SECONDS:.0f} s", seconds=PEER_SECONDS,
                        bad_every=None, module=PEER)
        result.rows += [ours, peer]

        ours_memory, growth = _memory(runs, artifact, "hyphae: unauthenticated 100 MB POST (refusal cancels the body)")
        read_first, _ = _memory(runs, artifact, "a Worker reading the body before its 401 (hyphae before issue 13)", PEER, "?read_body_first=1")
        result.rows += [ours_memory, read_first]
        result.targets.append(Target("an unauthenticated 100 MB POST grows workerd's memory by less than 32 MiB", growth < 32 * 1024,
                                     f"+{growth / 1024:.1f} MiB"))
    result.notes.append("D1 queries are counted as D1 counts them (each statement of a batch); AI calls include the cron runs "
                        "that drain the embedding backlog; throughput is on this machine's workerd and local SQLite, not the edge")
    return result
