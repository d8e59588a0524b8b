"""The simulated Myco client (simulator.py) against the Worker on workerd: afterwards D1 holds
exactly what each client holds, no row lost, none deleted that a client has, and the clients'
counters agree with /queue-stats.

Client A writes 1,000 rows over all 19 tables (five with a project id upstream's check refuses),
client B 60; both drain. B rotates the MCP token; A updates 150 rows and deletes 100, and its next
/health makes it reconnect once for the new token. Then A's vault diverges behind the outbox's
back (rows deleted, added and changed without an outbox entry), a reconcile pass finds exactly
those, and a last drain brings D1 back to a mirror of both vaults.
"""

from __future__ import annotations

import random
import sqlite3

import httpx
import pytest

from infra.contract import read_contract
from infra.environments import schema_version
from tests.worker.conftest import AUTH, OTHER_PROJECT, PROJECT, TEAM_KEY, local_database, stand_ins
from tests.worker.simulator import SimulatedClient

pytestmark = pytest.mark.workerd

CONTRACT = read_contract()
PREFIX = {"sessions": "sess", "prompt_batches": "pbat", "spores": "spore", "entities": "ent", "graph_edges": "edge",
          "resolution_events": "res", "plans": "plan", "artifacts": "art", "digest_extracts": "digest", "skill_candidates": "skcand",
          "skill_records": "skill", "skill_usage": "skuse", "knowledge_release_state": "krel", "skill_lineage": "sklin",
          "okf_generations": "okfgen", "okf_pages": "okfpage", "okf_page_revisions": "okfrev"}
LEGACY_INTEGER_IDS = ("prompt_batches", "digest_extracts", "knowledge_release_state")  # vaults older than local v73
WORDS = "team sync worker batch vector schema migration drift lint ledger query index token client manifest".split()
BAD_PROJECT = "/home/dev/repo"  # the path-string regression upstream's project_id check exists for


def make_row(table: str, number: int, machine: str, project: str | None, rng: random.Random) -> dict:
    spec = CONTRACT.tables[table]
    row = {}
    for name, kind in spec.fields.items():
        if name == "id":
            row[name] = number if table in LEGACY_INTEGER_IDS and number % 2 else f"{PREFIX.get(table, table)}_{machine}_{number:06d}"
        elif name == "machine_id":
            row[name] = machine
        elif name == "project_id":
            row[name] = project
        elif name == "synced_at":
            row[name] = None
        elif name == "content_hash":
            row[name] = f"h{number}-{rng.randrange(10**6)}"
        elif kind == "integer":
            row[name] = 1_767_225_600 + rng.randrange(10**6)
        elif kind == "real":
            row[name] = rng.randrange(1000) / 1000
        else:
            row[name] = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 9)))
    if "status" in row:
        row["status"] = "active" if rng.random() < 0.8 else "superseded"
    for name in spec.dropped:
        row[name] = 0  # `embedded`: sent by the client, dropped by the Worker
    if table == "team_members":
        row.update(id=machine, user=machine, role="member", joined="2026-01-02T03:04:05Z")
    if table == "entity_mentions":
        row.update(entity_id=f"ent_{machine}_{number}", note_id=f"spore_{number}", note_type="spore", agent_id="myco-agent")
    return row


def populate(client: SimulatedClient, count: int, rng: random.Random, bad: int = 0) -> None:
    """`count` rows over every table: one team_members self row, the rest spread evenly."""
    client.write("team_members", make_row("team_members", 0, client.machine_id, None, rng))
    tables = [table for table in CONTRACT.tables if table != "team_members"]
    for number in range(1, count):
        table = tables[number % len(tables)]
        project = BAD_PROJECT if number <= bad else client.projects[number % len(client.projects)]
        client.write(table, make_row(table, number, client.machine_id, project, rng))


def server_rows(state, table: str, machine: str) -> dict[str, dict]:
    connection = sqlite3.connect(f"file:{local_database(state)}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute(f'SELECT * FROM "{table}" WHERE machine_id = ?', (machine,)).fetchall()
    finally:
        connection.close()
    key = [column for column in CONTRACT.tables[table].key if column != "machine_id"]
    return {",".join(str(row[column]) for column in key): dict(row) for row in rows}


def assert_d1_mirrors(state, client: SimulatedClient) -> int:
    """Every table: D1's rows of the client's machine are exactly its vault (minus the rows it
    knows were rejected), field by field. Returns the number of rows compared."""
    compared = 0
    for table, spec in CONTRACT.tables.items():
        expected = {key: row for key, row in client.vault.get(table, {}).items() if (table, key) not in client.fate_resolved}
        stored = server_rows(state, table, client.machine_id)
        assert set(stored) == set(expected), f"{table}: only in D1 {sorted(set(stored) - set(expected))[:5]}, only in the vault {sorted(set(expected) - set(stored))[:5]}"
        for key, row in expected.items():
            for name in spec.fields:
                if name == "synced_at":
                    continue  # the server's receive time
                want = str(row[name]) if name == "id" else row[name]
                assert stored[key][name] == want, f"{table} {key}.{name}: D1 {stored[key][name]!r}, vault {want!r}"
            compared += 1
    return compared


@pytest.fixture
def worker(start_worker, tmp_path):
    state = tmp_path / "simulated-team"
    running = start_worker(upto=schema_version(), state=state, extra=stand_ins())
    running.state = state
    return running


def test_two_simulated_clients_end_with_d1_holding_exactly_their_vaults(worker):
    rng = random.Random(11)
    assert httpx.put(f"{worker.url}/config", json={"team_id": "team_sim", "team_name": "Sim"}, headers=AUTH).status_code == 200
    alice = SimulatedClient(worker.url, TEAM_KEY, "machine-alice", CONTRACT, (PROJECT, OTHER_PROJECT))
    bob = SimulatedClient(worker.url, TEAM_KEY, "machine-bob", CONTRACT, (PROJECT,))
    assert alice.connect()["config"]["team_id"] == "team_sim"
    bob.connect()

    populate(alice, 1000, rng, bad=5)
    populate(bob, 60, rng)
    assert sum(len(rows) for rows in alice.vault.values()) == 1000 and set(alice.vault) == set(CONTRACT.tables)
    alice.drain()
    bob.drain()
    assert (alice.pending(), bob.pending()) == ([], [])
    assert alice.counters.rejected == 5 and alice.counters.batches == 10

    # A teammate rotates the MCP token: Alice's next /health sees another hash and reconnects once.
    new_token = httpx.post(f"{worker.url}/mcp/rotate", headers=AUTH).json()["token"]
    updatable = [(table, key) for table, rows in alice.vault.items() for key, row in rows.items()
                 if table not in ("team_members", "entity_mentions") and row.get("project_id") != BAD_PROJECT]
    rng.shuffle(updatable)
    for table, key in updatable[:150]:
        row = dict(alice.vault[table][key])
        if "content_hash" in row:
            row["content_hash"] = f"{row['content_hash']}-v2"
        changed = next(name for name, kind in CONTRACT.tables[table].fields.items() if kind == "text" and name not in
                       ("id", "machine_id", "project_id", "content_hash"))
        row[changed] = f"{row[changed]} (edited)"
        alice.write(table, row)
    for table, key in updatable[150:250]:
        alice.delete(table, key)
    alice.drain()
    assert (alice.token, alice.counters.connects) == (new_token, 2)
    alice.health()
    assert alice.counters.connects == 2, "the hash the Worker shows must be the client's own, or it reconnects forever"

    # The vault diverges behind the outbox's back; one reconcile pass finds exactly that.
    survivors = [(table, key) for table, key in updatable[250:] if key in alice.vault[table]]
    seen_partitions, silently_deleted = set(), []
    for table, key in survivors:
        partition = (table, alice.vault[table][key]["project_id"])
        if partition not in seen_partitions and len(silently_deleted) < 12:
            seen_partitions.add(partition)
            silently_deleted.append((table, key))
            alice.delete(table, key, outbox=False)
    for number in range(2000, 2010):
        table = ("sessions", "spores", "plans", "okf_pages", "skill_lineage")[number % 5]
        alice.write(table, make_row(table, number, alice.machine_id, PROJECT, rng), outbox=False)
    stale = [(table, key) for table, key in survivors if table in ("sessions", "spores") and key in alice.vault[table]][:8]
    for table, key in stale:
        alice.write(table, {**alice.vault[table][key], "content_hash": "changed-offline"}, outbox=False)
    alice.reconcile()
    assert (alice.counters.reconcile_upserts, alice.counters.reconcile_deletes) == (18, 12)
    alice.drain()
    bob.drain()

    assert assert_d1_mirrors(worker.state, alice) == 1000 - 5 - 100 - 12 + 10
    assert assert_d1_mirrors(worker.state, bob) == 60
    alice.reconcile()
    assert (alice.counters.reconcile_upserts, alice.counters.reconcile_deletes) == (18, 12), "a second pass finds nothing"

    stats = httpx.get(f"{worker.url}/queue-stats", headers=AUTH).json()
    clients = (alice.counters, bob.counters)
    assert stats["enqueued"] == sum(counters.records_pushed for counters in clients)
    assert stats["accepted"] == sum(counters.accepted for counters in clients)
    assert stats["rejected"] == sum(counters.rejected for counters in clients) == 5
    assert (stats["dead_lettered"], stats["dropped_fields"], stats["backlog"]) == (0, {}, 0)
    alice.close()
    bob.close()


def test_a_worker_advertising_an_older_protocol_pauses_the_client_with_rows_pending(start_worker, tmp_path):
    vars_protocol_2 = {"SYNC_PROTOCOL_VERSION": "2", "MIN_COMPAT_CLIENT_VERSION": "1", "MYCO_SCHEMA_VERSION": str(schema_version()),
                       "EMBEDDING_MODEL": "@cf/baai/bge-m3"}
    worker = start_worker(upto=schema_version(), state=tmp_path / "old", extra={"vars": vars_protocol_2})
    client = SimulatedClient(worker.url, TEAM_KEY, "machine-paused", CONTRACT, (PROJECT,))
    populate(client, 20, random.Random(3))
    client.drain()
    assert (client.counters.skipped_drains, client.counters.batches, len(client.pending())) == (1, 0, 20)
    client.close()
