"""One bad record never fails the others (reference §4, §7.9): every field is checked against its
contract type before any D1 call, and a record that can never be stored is rejected alone, naming
the field, while its batch-mates are written. Nothing is converted silently. Over HTTP on workerd.
"""

from __future__ import annotations

import httpx
import pytest

from tests.worker.conftest import AUTH, PROJECT, enqueue, read_rows, record, session, spore

pytestmark = pytest.mark.workerd

THREE_MB = "x" * 3_000_000
OVER_D1 = "y" * 2_000_001  # D1 stores at most 2,000,000 bytes per value


def with_data(record_: dict, **data) -> dict:
    return {**record_, "data": {**record_["data"], **data}}


BAD_RECORDS = [
    # (the bad record, the start of its error)
    (spore("sp-hash-object") | {"content_hash": {"sha": "abc"}}, "content_hash must be a string or null, not an object"),
    (spore("sp-hash-number") | {"content_hash": 12345}, "content_hash must be a string or null, not an integer"),
    (spore("sp-hash-bool") | {"content_hash": True}, "content_hash must be a string or null, not a boolean"),
    (with_data(spore("sp-data-hash"), content_hash=7), "field content_hash: expected text, got an integer"),
    (with_data(spore("sp-object"), context={"nested": 1}), "field context: expected text, got an object"),
    (with_data(spore("sp-array"), tags=[1]), "field tags: expected text, got an array"),
    (with_data(spore("sp-bool"), importance=True), "field importance: expected an integer, got a boolean"),
    (with_data(spore("sp-int-string"), created_at="yesterday"), "field created_at: expected an integer, got a string"),
    (with_data(spore("sp-text-number"), status=1.0), "field status: expected text, got an integer"),
    (with_data(spore("sp-unsafe"), created_at=2**53 + 2), "field created_at: the integer 9007199254740994 is beyond 2^53"),
    (with_data(spore("sp-huge"), content=OVER_D1), "field content: 2000001 bytes, over D1's limit of 2000000"),
    (with_data(spore("sp-row"), content="a" * 1_000_000, context="b" * 1_000_000), "the row is 2000"),
    (spore("") | {"id": ""}, "id must be a non-empty string"),
    (spore("5") | {"id": 5}, "id must be a non-empty string, not an integer"),
    (spore("sp-machine") | {"machine_id": 42}, "machine_id must be a non-empty string, not an integer"),
]


@pytest.mark.parametrize("bad, error", BAD_RECORDS, ids=[error.split(":")[0].split(" (")[0][:40] for _, error in BAD_RECORDS])
def test_a_wrongly_typed_or_oversized_field_is_rejected_alone_naming_it(running_worker, worker_state, bad, error):
    machine = f"m-type-{abs(hash(error)) % 10**8}"
    bad = {**bad, "machine_id": bad["machine_id"] if not isinstance(bad["machine_id"], str) else machine}
    good = [spore(f"ok-{index}", machine, content_hash=f"h{index}") for index in range(3)]
    answer = enqueue(running_worker, [good[0], bad, *good[1:]], machine)
    assert answer["accepted"] == 3, answer
    [rejected] = answer["rejected"]
    assert rejected["error"].startswith(error), rejected["error"]
    assert (rejected["table"], rejected["id"]) == ("spores", bad["id"])
    stored = read_rows(worker_state, "SELECT id FROM spores WHERE machine_id = ? ORDER BY id", machine)
    assert stored == [("ok-0",), ("ok-1",), ("ok-2",)]


def test_a_three_megabyte_id_is_rejected_and_echoed_as_a_short_prefix(running_worker, worker_state):
    bad = spore("z", "m-long-id", content_hash="abc") | {"id": THREE_MB}
    bad["data"]["id"] = THREE_MB
    answer = enqueue(running_worker, [bad, spore("sp-next", "m-long-id")], "m-long-id")
    [rejected] = answer["rejected"]
    assert rejected["error"] == "id is 3000000 bytes; at most 1024"
    assert rejected["id"] == "x" * 64 + "…"
    assert answer["accepted"] == 1 and len(httpx.Response(200, json=answer).content) < 2000
    assert read_rows(worker_state, "SELECT id FROM spores WHERE machine_id = 'm-long-id'") == [("sp-next",)]


def test_an_ordinary_id_is_echoed_exactly_whatever_else_is_wrong(running_worker):
    exact = "spore_" + "é" * 200  # 406 bytes: within the id limit, so echoed whole
    answer = enqueue(running_worker, [with_data(spore(exact, "m-echo"), tags=[1])], "m-echo")
    assert answer["rejected"][0]["id"] == exact


def test_an_integer_id_beyond_2_53_is_rejected(running_worker):
    # JSON already rounded it: the Worker echoes the number it read (the client only sends strings)
    answer = enqueue(running_worker, [spore("big", "m-big") | {"id": 2**53 + 1}, spore("sp-fine", "m-big")], "m-big")
    assert answer["accepted"] == 1
    assert answer["rejected"] == [{"table": "spores", "id": 2**53, "error": "id must be a non-empty string, not an integer"}]


def test_the_digit_string_and_the_number_five_are_not_two_rows(running_worker, worker_state):
    answer = enqueue(running_worker, [spore("5", "m-five"), spore("5", "m-five") | {"id": 5}], "m-five")
    assert answer["accepted"] == 1
    assert answer["rejected"] == [{"table": "spores", "id": 5, "error": "id must be a non-empty string, not an integer"}]
    assert read_rows(worker_state, "SELECT id, typeof(id) FROM spores WHERE machine_id = 'm-five'") == [("5", "text")]


def test_values_are_stored_as_sent_never_converted(running_worker, worker_state):
    batch = record("prompt_batches", "pbat-legacy", "m-exact", session_id="s1", created_at=1, parent_prompt_batch_id=7)
    fractional = spore("sp-real", "m-exact", created_at=1_767_225_600.5, tags='["a"]')
    answer = enqueue(running_worker, [batch, fractional], "m-exact")
    assert (answer["accepted"], answer["rejected"]) == (2, [])
    # an id-like text field takes a legacy integer id (the column's TEXT affinity keeps its digits)
    assert read_rows(worker_state, "SELECT parent_prompt_batch_id, typeof(parent_prompt_batch_id) FROM prompt_batches "
                                   "WHERE machine_id = 'm-exact'") == [("7", "text")]
    # a number with a fraction in an integer field stays the number sent; JSON text stays text
    assert read_rows(worker_state, "SELECT created_at, typeof(created_at), tags FROM spores WHERE machine_id = 'm-exact'") == [
        (1_767_225_600.5, "real", '["a"]')]


@pytest.mark.parametrize("version", ["3", 3.5, True, [3], {"v": 3}])
@pytest.mark.parametrize("path", ["/enqueue", "/connect"])
def test_a_wrongly_typed_sync_protocol_version_is_a_clear_400(running_worker, path, version):
    body = {"machine_id": "m-version", "sync_protocol_version": version, "records": [session("s-never", "m-version")]}
    response = httpx.post(f"{running_worker.url}{path}", json=body, headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("sync_protocol_version must be an integer (the client sends 3), not ")


@pytest.mark.parametrize("fields, status, message", [
    ({"machine_id": 42}, 400, "machine_id must be a string, not an integer"),
    ({"machine_id": ["m"]}, 400, "machine_id must be a string, not an array"),
    ({"machine_id": "m" * 2_000_001}, 413, "machine_id is over 2000000 bytes"),
    ({"machine_id": "m" * 1025}, 413, "machine_id is over 1024 bytes"),
    ({"machine_id": "m-connect", "version": {"v": 1}}, 400, "version must be a string, not an object"),
    ({"machine_id": "m-connect", "vault_name": 7}, 400, "vault_name must be a string, not an integer"),
    ({"machine_id": "m-connect", "agent": "a" * 2_000_001}, 413, "agent is over 2000000 bytes"),
    ({"machine_id": "m-connect", "schema_version": "9"}, 400, "schema_version must be an integer, not a string"),
])
def test_connect_answers_400_or_413_for_a_wrong_or_oversized_field_never_500(running_worker, worker_state, fields, status, message):
    response = httpx.post(f"{running_worker.url}/connect", json={"sync_protocol_version": 3, **fields}, headers=AUTH, timeout=60)
    assert response.status_code == status, response.text
    assert response.json()["error"].startswith(message)
    assert read_rows(worker_state, "SELECT count(*) FROM nodes WHERE length(machine_id) > 1000 OR machine_id = 'm-connect'") == [(0,)]


def test_put_config_refuses_a_value_d1_could_not_store(running_worker):
    response = httpx.put(f"{running_worker.url}/config", json={"team_name": "n" * 2_000_001}, headers=AUTH, timeout=60)
    assert response.status_code == 413
    assert response.json()["error"].startswith("config key team_name: over D1's 2000000 bytes")


def test_records_and_project_ids_of_the_wrong_type_are_rejected_with_their_types_not_their_values(running_worker):
    records = [
        {"table": ["spores"], "id": "t1", "operation": "upsert", "data": {"project_id": PROJECT}},
        {**spore("sp-op", "m-kinds"), "operation": {"upsert": True}},
        {**spore("sp-data", "m-kinds"), "data": "text"},
        with_data(spore("sp-project", "m-kinds"), project_id={"id": PROJECT}),
        "not a record",
    ]
    answer = enqueue(running_worker, records, "m-kinds")
    assert [entry["error"] for entry in answer["rejected"]] == [
        "Unknown table: an array",
        'operation must be "upsert" or "delete", not an object',
        "data must be a JSON object, not a string",
        "Invalid project_id: expected proj_<32 hex chars>, got an object",
        "a record must be a JSON object",
    ]
    assert [entry["table"] for entry in answer["rejected"]] == [None, "spores", "spores", "spores", None]
