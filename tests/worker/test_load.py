"""Load on workerd as a team makes it: 50 machines pushing 100-record batches at once, 1% of the
records bad. Zero 5xx, every good record stored exactly once, every bad one rejected by its id,
every invocation within the plan's budget (counted by worker/dev/counting.mjs). The suite runs a
short burst on each plan; `invoke bench --only worker` runs the same load for a minute.

On this machine's two cores, workerd (one thread for the Worker, D1 and the stand-ins) saturates
and resets a few kept-alive connections before answering; the load client resends those batches,
as the real client does, so they count neither as answers nor as losses.
"""

from __future__ import annotations

import pytest

from infra.bench.worker_load import TABLES, run_load
from infra.environments import schema_version
from tests.worker.conftest import TEAM_KEY, invocations, read_rows

pytestmark = [pytest.mark.workerd, pytest.mark.slow]

CLIENTS = 50
BUDGETS = {"free": 50, "paid": 1000}


@pytest.mark.parametrize("plan, batches", [("paid", 2), ("free", 1)])
def test_fifty_clients_pushing_at_once_lose_nothing_and_stay_within_the_budget(start_worker, tmp_path, plan, batches):
    state = tmp_path / f"load-{plan}"
    worker = start_worker(upto=schema_version(), state=state, plan=plan)
    result = run_load(worker.url, TEAM_KEY, clients=CLIENTS, batches=batches, size=100, bad_every=100)

    # every batch answered 200 in the end (a connection the local runtime reset is resent, as the
    # client resends a failed batch: result.resets counts those), never 5xx nor any other status
    assert result.server_errors == 0 and result.errors == [], result.errors[:3]
    assert dict(result.statuses) == {200: CLIENTS * batches}
    assert result.unexpected == [], result.unexpected[:5]  # exactly the bad records rejected, by id
    assert result.accepted == CLIENTS * batches * 99
    for machine, good in result.good.items():  # every good record stored, once (the key is (id, machine))
        stored = {(table, row_id) for table in TABLES for (row_id,) in read_rows(state, f"SELECT id FROM {table} WHERE machine_id = ?", machine)}
        assert stored == good, machine
    total = sum(read_rows(state, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES)
    assert total == CLIENTS * batches * 99
    assert read_rows(state, "SELECT count(*) FROM team_dlq") == [(0,)]
    budget = BUDGETS[plan]
    assert max(result.d1_per_request) <= budget and max(result.subrequests_per_request) <= budget
    assert all(run["d1"] <= budget and not run["refused"] for run in invocations(worker))
