"""Load on the Worker as Myco clients make it: many machines pushing 100-record batches at once,
some records bad. Shared by `invoke bench --only worker` and the load test (tests/worker/).

Records are shaped like the client's (reference §3.3, §5.4): six tables, content hashes where the
client sends them, embedded text where the Worker embeds. Every `bad_every`-th record is one the
Worker must reject on its own (a wrong type, an unknown table, a bad project id, ...), each kind in
turn; the push says which ids those are, so a run can check that exactly they were rejected.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROJECT = "proj_" + "0123456789abcdef" * 2
TABLES = ("sessions", "spores", "plans", "prompt_batches", "entities", "graph_edges")


def good_record(table: str, record_id: str, machine_id: str, serial: int) -> dict:
    """A record of `table` as the client sends it (data: the row plus project_id)."""
    words = f"decision {serial % 97} about batching writes to D1 on machine {machine_id}"
    data: dict = {"id": record_id, "project_id": PROJECT, "machine_id": machine_id, "created_at": 1_767_225_600 + serial}
    if table == "sessions":
        data.update(agent="claude", started_at=1_767_225_600, status="active", title=f"session {serial}", summary=words,
                    content_hash=f"h{serial}")
    elif table == "spores":
        data.update(agent_id="myco-agent", observation_type="decision", status="active", content=words, embedded=0,
                    importance=3, content_hash=f"h{serial}")
    elif table == "plans":
        data.update(status="active", title=f"plan {serial}", content=words, logical_key=f"k{serial}", embedded=0,
                    content_hash=f"h{serial}")
    elif table == "prompt_batches":
        data.update(session_id="sess_1", user_prompt=words, prompt_number=serial, content_hash=f"h{serial}")
    elif table == "entities":
        del data["created_at"]  # entities have first_seen / last_seen instead
        data.update(agent_id="myco-agent", type="concept", name=f"entity {serial}", first_seen=1, last_seen=2)
    else:
        data.update(agent_id="myco-agent", source_id="a", source_type="spore", target_id="b", target_type="entity",
                    type="mentions", confidence=0.5)
    return {"table": table, "id": record_id, "machine_id": machine_id, "operation": "upsert",
            "content_hash": data.get("content_hash"), "data": data}


def _field(name: str, value):
    def spoil(record: dict) -> dict:
        return {**record, "data": {**record["data"], name: value}}
    return spoil


# Ways a record can be bad that only it suffers from: (how to spoil a good spore, the error's start).
BAD_KINDS = (
    (_field("context", {"nested": True}), "field context: expected text, got an object"),
    (lambda record: {**record, "content_hash": 12345}, "content_hash must be a string or null"),
    (lambda record: {**record, "table": "colours"}, "Unknown table: colours"),
    (_field("project_id", "/home/me/repo"), "Invalid project_id"),
    (_field("importance", True), "field importance: expected an integer, got a boolean"),
    (_field("created_at", "yesterday"), "field created_at: expected an integer, got a string"),
    (_field("tags", ["a", "b"]), "field tags: expected text, got an array"),
)


@dataclass
class Push:
    records: list[dict]
    good: set[tuple[str, str]]  # (table, id)
    bad: dict[str, str]  # id -> the start of its expected error


def make_push(machine_id: str, batch: int, size: int = 100, bad_every: int | None = 100) -> Push:
    """The `batch`-th push of `machine_id`: `size` records over TABLES, every `bad_every`-th bad."""
    records, good, bad = [], set(), {}
    for index in range(size):
        serial = batch * size + index
        record_id = f"r{serial:07d}"
        if bad_every and serial % bad_every == bad_every - 1:
            spoil, error = BAD_KINDS[(serial // bad_every) % len(BAD_KINDS)]
            records.append(spoil(good_record("spores", record_id, machine_id, serial)))
            bad[record_id] = error
        else:
            table = TABLES[serial % len(TABLES)]
            records.append(good_record(table, record_id, machine_id, serial))
            good.add((table, record_id))
    return Push(records, good, bad)


@dataclass
class LoadResult:
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    records_sent: int = 0
    accepted: int = 0
    unexpected: list[str] = field(default_factory=list)  # rejections that were not planned, and planned ones missing
    d1_per_request: list[int] = field(default_factory=list)  # from counting.mjs, when the Worker runs behind it
    ai_per_request: list[int] = field(default_factory=list)
    subrequests_per_request: list[int] = field(default_factory=list)
    good: dict[str, set] = field(default_factory=dict)  # machine -> {(table, id)} that must be stored
    errors: list[str] = field(default_factory=list)  # answers other than 200
    # Connections the local runtime reset before answering: workerd does so to kept-alive
    # connections when its thread is saturated (a CPU-bound Worker alone reproduces it). The batch
    # is resent, as the client resends a batch whose request failed.
    resets: int = 0

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if isinstance(status, int) and status >= 500)


def _check_answer(push: Push, answer: dict, result: LoadResult) -> None:
    rejected = {entry["id"]: entry["error"] for entry in answer["rejected"]}
    for record_id, error in push.bad.items():
        if not str(rejected.get(record_id, "")).startswith(error):
            result.unexpected.append(f"{record_id}: expected {error!r}, got {rejected.get(record_id)!r}")
    for record_id in set(rejected) - set(push.bad):
        result.unexpected.append(f"{record_id}: rejected unexpectedly: {rejected[record_id]}")


def _client(url: str, api_key: str, machine: str, plan: dict, result: LoadResult, lock: threading.Lock) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    with httpx.Client(timeout=60) as client:
        batch = 0
        while (plan["deadline"] is None or time.monotonic() < plan["deadline"]) and (plan["batches"] is None or batch < plan["batches"]):
            push = make_push(machine, batch, plan["size"], plan["bad_every"])
            body = {"machine_id": machine, "sync_protocol_version": 3, "records": push.records}
            try:
                response = client.post(f"{url}/enqueue", json=body, headers=headers)
            except httpx.TransportError:
                with lock:
                    result.resets += 1
                continue  # the client resends the same batch on its next tick
            with lock:
                result.statuses[response.status_code] += 1
                if "x-counted-d1-queries" in response.headers:
                    result.d1_per_request.append(int(response.headers["x-counted-d1-queries"]))
                    result.ai_per_request.append(int(response.headers["x-counted-ai-calls"]))
                    result.subrequests_per_request.append(int(response.headers["x-counted-subrequests"]))
                if response.status_code != 200:
                    result.errors.append(f"{response.status_code}: {response.text[:300]}")
                    continue  # resent as is on the next tick, like the client
                result.records_sent += len(push.records)
                result.accepted += response.json()["accepted"]
                result.good.setdefault(machine, set()).update(push.good)
                _check_answer(push, response.json(), result)
            batch += 1


def run_load(url: str, api_key: str, *, clients: int = 50, seconds: float | None = None, batches: int | None = None,
             size: int = 100, bad_every: int | None = 100, machine_prefix: str = "load") -> LoadResult:
    """`clients` machines pushing at once, each `batches` pushes or for `seconds`. Read-only for the
    caller: it returns what the Worker answered; the caller checks the database."""
    plan = {"deadline": None if seconds is None else time.monotonic() + seconds, "batches": batches, "size": size, "bad_every": bad_every}
    result, lock = LoadResult(), threading.Lock()
    threads = [threading.Thread(target=_client, args=(url, api_key, f"{machine_prefix}-{number:02d}", plan, result, lock))
               for number in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def workerd_peak_kib(node_pid: int) -> int:
    """VmHWM (peak resident memory, KiB) of the workerd process under the node process `node_pid`."""
    for pid in Path(f"/proc/{node_pid}/task/{node_pid}/children").read_text().split():
        if "workerd" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            status = Path(f"/proc/{pid}/status").read_text()
            return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    raise RuntimeError(f"no workerd process under node {node_pid}")


class CountingBody:
    """A request body of `size` bytes sent in 1 MiB chunks, counting how many the server took."""

    def __init__(self, size: int):
        self.size, self.sent = size, 0

    def __iter__(self):
        chunk = b"x" * (1 << 20)
        while self.sent < self.size:
            piece = chunk[: self.size - self.sent]
            self.sent += len(piece)
            yield piece
