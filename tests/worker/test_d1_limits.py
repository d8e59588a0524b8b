"""The local D1 enforces D1's 100-bound-parameter limit, so the Worker's batching is really tested.

tests/worker/test_enqueue.py writes 3,000 values' worth of records through the Worker; that
proves they travel within the limit (as one JSON parameter) only if the runtime refuses a 101st
parameter, as D1 does.
A toolchain upgrade that lifts the limit locally fails here instead of silently weakening it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra.paths import REPO_ROOT
from tests.worker.conftest import run_in_node

pytestmark = pytest.mark.workerd

PROBE = Path(__file__).with_name("d1_limit_probe.mjs")


def test_local_d1_accepts_100_bound_parameters_and_refuses_101():
    result = subprocess.run(["node", str(PROBE), "100", "101"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["100"] == "ok"
    assert "too many SQL variables" in answers["101"]


# worker-d1's survivors: d1.js's helpers, run by node as the Worker imports them


def d1_in_node(body: str):
    """`body` run by node with d1.js as `d1` and budget.js as `budget` (see run_in_node)."""
    return run_in_node("import * as d1 from './worker/src/d1.js'; import * as budget from './worker/src/budget.js';", body)


def test_a_quoted_name_doubles_the_double_quotes_it_holds():
    """Guards against a double quote inside an SQL name dropped rather than doubled, which names
    another table or column than the one asked for."""
    assert d1_in_node("""answer = [d1.quote("sessions"), d1.quote('odd"name'), d1.quote('""')];""") == [
        '"sessions"', '"odd""name"', '""""""']


def test_chunk_cuts_a_list_into_slices_of_the_size_and_no_more():
    """Guards against `chunk` adding an empty slice after a list that divides evenly (or for an empty
    list), or handing every slice the whole list."""
    answer = d1_in_node("answer = [d1.chunk([1, 2, 3, 4, 5], 2), d1.chunk([1, 2, 3, 4], 2), d1.chunk([], 2)];")
    assert answer == [[[1, 2], [3, 4], [5]], [[1, 2], [3, 4]], []]


def test_chunk_json_cuts_a_list_where_its_json_would_pass_the_bytes():
    """Guards against chunkJson's byte count lost (no size of its own JSON per item, the comma
    subtracted, the sum taken as a difference), its cut never made or made one item early, and a
    new chunk starting with something in it: each chunk's JSON must stay within `maxBytes`, an item
    is never split, and a list that fits is not cut."""
    # "a" is 3 bytes of JSON and 4 with its comma; within the 2 of the brackets, 10 bytes hold two
    answer = d1_in_node("""answer = [d1.chunkJson(["a", "b", "c"], 10), d1.chunkJson(["a", "b", "c"], 14),
                        d1.chunkJson(["a", "b", "c", "d", "e"], 10), d1.chunkJson(["long", "a"], 3), d1.chunkJson([], 10)];""")
    assert answer == [[["a", "b"], ["c"]], [["a", "b", "c"]], [["a", "b"], ["c", "d"], ["e"]], [["long"], ["a"]], []]
    assert all(len(json.dumps(part, separators=(",", ":"))) <= 10 for part in answer[0] + answer[2])


def test_an_empty_batch_sends_nothing_and_answers_no_results():
    """Guards against a batch of no statements answering a result that no statement produced (a
    caller reads one result per statement)."""
    answer = d1_in_node("""
        let sent = 0;
        const db = new d1.Database({ batch: async () => { sent += 1; return []; } }, new budget.Budget({ queries: 5, subrequests: 5 }));
        answer = [await db.batch([]), sent, db.calls, db.statements, db.remaining()];""")
    assert answer == [[], 0, 0, 0, 5]


def test_a_worker_without_its_d1_binding_answers_503_naming_it():
    """Guards against a Worker deployed without its D1 binding failing later on an undefined binding
    (a 500 that names nothing) instead of 503 naming MYCO_TEAM_DB, or with an empty message."""
    answer = d1_in_node("""
        try { d1.openDatabase({}); answer = "opened"; } catch (error) { answer = [error.status, error.message]; }""")
    assert answer == [503, "the D1 binding MYCO_TEAM_DB is missing"]


def test_an_invocation_opens_one_database_so_its_usage_counts_every_call():
    """Guards against each openDatabase of one invocation making a new Database: what the earlier
    ones sent would be missing from the usage the Worker reports (the x-hyphae-d1-* headers)."""
    answer = d1_in_node("""
        const prepared = { bind: () => prepared, first: async () => ({ n: 1 }), all: async () => ({ results: [] }) };
        const env = { MYCO_TEAM_DB: { prepare: () => prepared, batch: async (items) => items.map(() => ({})) } };
        d1.attachBudget(env, new budget.Budget({ queries: 10, subrequests: 10 }));
        const first = d1.openDatabase(env);
        await first.first("SELECT 1");
        const second = d1.openDatabase(env);
        await second.batch([d1.statement("SELECT 1"), d1.statement("SELECT 2")]);
        answer = [first === second, d1.d1Usage(env), second.remaining()];""")
    assert answer == [True, {"calls": 2, "statements": 3}, 7]


def test_message_of_reads_an_error_a_thrown_text_and_nothing():
    """Guards against messageOf reading `.message` of whatever was thrown: a thrown text would read
    "undefined" and a thrown null would fail while reporting the failure."""
    answer = d1_in_node("""answer = [d1.messageOf(new Error("boom")), d1.messageOf("plain text"), d1.messageOf(null),
                         d1.messageOf(undefined), d1.messageOf(new Error(""))];""")
    assert answer == ["boom", "plain text", "null", "undefined", "Error"]
