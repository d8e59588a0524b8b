"""Fixtures: the built Worker running on workerd (started by pytest), over a migrated local D1.

The database is migrated before workerd starts by the real runner (`infra.runner`, what
`invoke migrate --env local` runs), into the very file `infra.paths.local_d1_file` names
(tests/test_paths.py proves workerd uses it). Workers AI and Vectorize are the local stand-ins of
worker/dev/stand_ins.mjs, bound exactly as `invoke local` binds them. Each module gets its own
state folder and Worker; the artifact is built once per session.

Every Worker runs behind worker/dev/counting.mjs: its D1, AI, Vectorize and KV calls are counted
per invocation (`x-counted-*` headers, `invocations`) and, as on the platform, a call past the
plan's limit fails. So every test here also shows the Worker stays within the Paid plan's budget;
`plan="free"` starts one held to the Free plan's.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from infra.artifact import build_artifact
from infra.environments import BINDING_KV, load_environment, schema_version
from infra.local.runtime import STAND_INS_HOST, plan_counting_entry, plan_stand_ins, start_local_worker
from infra.local.smoke import vector_id  # noqa: F401 - the tests' vector ids, from the reference
from infra.paths import DEFAULT_MIGRATIONS_DIR, REPO_ROOT, STATE_DIR_VARIABLE, local_d1_file
from infra.render.local_config import plan_local_config
from infra.runner.apply import MigrateOptions, run_migrate

TEAM_KEY = "test-team-key-8c1f0a7e5b2d4c69"
MCP_TOKEN = "mcp-token-not-to-be-shown"
AUTH = {"authorization": f"Bearer {TEAM_KEY}"}
PROJECT = "proj_" + "0123456789abcdef" * 2
OTHER_PROJECT = "proj_" + "fedcba9876543210" * 2
# Texts holding this fail their first two embeddings in the stand-in model (a transient AI error:
# the batched call and its one-by-one retry fail, a later drain succeeds).
FAIL_ONCE = "[fail-once]"


def apply_migrations(state: Path, upto: int) -> None:
    """Migrate the local D1 file of `state` up to version `upto` with the real runner (`invoke migrate`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STATE_DIR_VARIABLE, str(state))
        run_migrate("local", DEFAULT_MIGRATIONS_DIR, MigrateOptions(to_version=upto))


def local_database(state: Path) -> Path:
    return local_d1_file(load_environment("local").local_database_id, state)


def unreadable_ledger_state(state: Path) -> Path:
    """A state folder whose D1 holds a d1_migrations table without its `name` column: a ledger
    the Worker's read fails on (D1 answers "no such column")."""
    database = local_database(state)
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY)")
    return state


def read_rows(state: Path, sql: str, *params) -> list[tuple]:
    """Read the Worker's D1 file directly (read-only) to see what really reached the database."""
    connection = sqlite3.connect(f"file:{local_database(state)}?mode=ro", uri=True)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def run_in_node(imports: str, body: str):
    """Runs `body` (module code that sets `answer`) by node after `imports` (ES imports of
    ./worker/src files); returns `answer` read back from JSON. The files are imported from the
    working tree, so under Stryker a mutant of them reaches these tests too."""
    script = f"{imports} let answer; {body}\nconsole.log(JSON.stringify(answer));"
    result = subprocess.run(["node", "--input-type=module", "-e", script], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def http_in_node(body: str):
    """`body` run by node with worker/src/http.js as `http` (see run_in_node)."""
    return run_in_node("import * as http from './worker/src/http.js';", body)


def stand_ins(**extra_vars: str) -> dict:
    """miniflare options binding the stand-ins as `invoke local` does, with extra variables."""
    return plan_stand_ins(plan_local_config(), extra_vars)


def stand_in(worker, method: str, path: str, **kwargs) -> dict:
    """A call to the stand-ins' inspection routes (worker/dev/stand_ins.mjs)."""
    response = httpx.request(method, f"{worker.url}{path}", headers={"host": STAND_INS_HOST}, timeout=30, **kwargs)
    response.raise_for_status()
    return response.json()


def stored_vectors(worker) -> dict[str, dict]:
    """{vector id: metadata} of the stand-in Vectorize index, read through its inspection route."""
    return {vector["id"]: vector["metadata"] for vector in stand_in(worker, "GET", "/vectors")["vectors"]}


def run_cron(worker) -> None:
    """Run the Worker's scheduled handler now (the local runtime has no clock-driven cron)."""
    response = httpx.get(f"{worker.url}/cdn-cgi/handler/scheduled", timeout=60)
    assert response.status_code == 200, response.text


def record(table: str, record_id: str, machine_id: str = "m1", operation: str = "upsert", content_hash: str | None = None,
           project_id: str | None = PROJECT, **data) -> dict:
    """A record as the real client builds it (reference §3.3): data is the row plus project_id."""
    payload = {"id": record_id, **data, "machine_id": machine_id}
    if content_hash is not None:
        payload["content_hash"] = content_hash
    if project_id is not None:
        payload["project_id"] = project_id
    if operation == "delete":
        payload = {"id": record_id, "machine_id": machine_id, **({"project_id": project_id} if project_id else {})}
    return {"table": table, "id": record_id, "machine_id": machine_id, "operation": operation,
            "content_hash": content_hash if content_hash is not None else payload.get("content_hash"), "data": payload}


def session(record_id: str, machine_id: str = "m1", **data) -> dict:
    fields = {"agent": "claude", "started_at": 1_700_000_000, "created_at": 1_700_000_000, "title": f"t-{record_id}", **data}
    return record("sessions", record_id, machine_id, **fields)


def spore(record_id: str, machine_id: str = "m1", content: str = "use D1 batch writes", **data) -> dict:
    fields = {"agent_id": "myco-agent", "observation_type": "decision", "content": content, "status": "active",
              "embedded": 0, "created_at": 1_767_225_600, **data}
    return record("spores", record_id, machine_id, **fields)


def prompt_batch(record_id: str, machine_id: str, **data) -> dict:
    """A prompt batch: a table without embeddings, so a push's D1 spending is only its writes."""
    return record("prompt_batches", record_id, machine_id, session_id="s1", kind="user", origin="cli", created_at=1, **data)


# What writes.js answers for a record parked because the request's query budget ran out.
DEFERRED = ("deferred: the request's D1 query budget ran out before this record could be written on its own; "
            "it is kept here and applied by the cron or POST /dlq/retry")


def push(worker, records: list[dict], machine_id: str = "m1", version: int | None = 3, timeout: float = 120) -> httpx.Response:
    """POST /enqueue as the client sends it; the answer whatever its status."""
    body = {"machine_id": machine_id, "records": records}
    if version is not None:
        body["sync_protocol_version"] = version
    return httpx.post(f"{worker.url}/enqueue", json=body, headers=AUTH, timeout=timeout)


def enqueue(worker, records: list[dict], machine_id: str = "m1", version: int | None = 3, expect: int = 200) -> dict:
    response = push(worker, records, machine_id, version, timeout=60)
    assert response.status_code == expect, response.text
    return response.json()


def get(worker, path: str, expect: int = 200, **params) -> dict:
    response = httpx.get(f"{worker.url}{path}", params=params, headers=AUTH, timeout=30)
    assert response.status_code == expect, response.text
    return response.json()


@pytest.fixture(scope="session")
def worker_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("artifact") / "dist"
    build_artifact(output)
    return output


def plan_vars(plan: str) -> dict:
    """The Worker's vars as the local environment renders them, on the given Workers plan."""
    env = load_environment("local")
    return plan_local_config(env.model_copy(update={"worker": env.worker.model_copy(update={"plan": plan})}))["vars"]


def budget_vars(queries: int, plan: str = "paid") -> dict:
    """A Worker's extra variables: `plan`'s, with a D1 query budget of `queries` per invocation."""
    return {"vars": {**plan_vars(plan), "D1_QUERY_BUDGET": str(queries)}}


def counted(response: httpx.Response) -> dict:
    """What counting.mjs saw one request spend: {"d1": queries, "subrequests": n, "ai": Workers AI calls}."""
    return {kind: int(response.headers[f"x-counted-{header}"]) for kind, header in
            (("d1", "d1-queries"), ("subrequests", "subrequests"), ("ai", "ai-calls"))}


def usage(response: httpx.Response) -> tuple[int, int]:
    """(D1 round trips, D1 statements) the Worker reports having spent on one request."""
    return int(response.headers["x-hyphae-d1-calls"]), int(response.headers["x-hyphae-d1-statements"])


def invocations(worker) -> list[dict]:
    """Every invocation counting.mjs saw so far (requests and cron runs), oldest first."""
    response = httpx.get(f"{worker.url}/__hyphae_counts", timeout=30)
    response.raise_for_status()
    return response.json()


def scheduled_runs(worker) -> list[dict]:
    """The cron runs among `invocations`, oldest first."""
    return [run for run in invocations(worker) if run["kind"] == "scheduled"]


def _start(artifact: Path, state: Path, *, upto: int, extra: dict | None = None, plan: str = "paid", api_key: str = TEAM_KEY):
    if upto:
        apply_migrations(state, upto)
    options = {**plan_counting_entry(artifact, state / "counting"), "vars": plan_vars(plan), **(extra or {})}
    return start_local_worker(artifact, api_key, state=state, extra_options=options)


@pytest.fixture(scope="module")
def worker_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker-state")


@pytest.fixture(scope="module")
def running_worker(worker_artifact: Path, worker_state: Path):
    """The Worker on workerd: schema up to date, KV holding an MCP token, the stand-ins bound
    (the model fails once for texts holding FAIL_ONCE)."""
    extra = {**stand_ins(FAIL_MARKER=FAIL_ONCE), "kvSeed": {BINDING_KV: {"mcp_access_token": MCP_TOKEN}}}
    worker = _start(worker_artifact, worker_state, upto=schema_version(), extra=extra)
    yield worker
    worker.stop()


@pytest.fixture
def start_worker(worker_artifact: Path, tmp_path: Path):
    """Start a Worker on a fresh state folder with migrations up to `upto`; stopped after the test."""
    started = []

    def start(upto: int, state: Path | None = None, extra: dict | None = None, plan: str = "paid", api_key: str = TEAM_KEY):
        worker = _start(worker_artifact, state or tmp_path / "worker-state", upto=upto, extra=extra, plan=plan, api_key=api_key)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
