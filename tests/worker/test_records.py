"""One bad record never fails the others (reference §4, §7.9): every field is checked against its
contract type before any D1 call, and a record that can never be stored is rejected alone, naming
the field, while its batch-mates are written. Nothing is converted silently. Over HTTP on workerd.
"""

from __future__ import annotations

import httpx
import pytest

from tests.worker.conftest import AUTH, PROJECT, enqueue, http_in_node, read_rows, record, session, spore

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
    ({"machine_id": "m-connect", "package_version": 5}, 400, "package_version must be a string, not an integer"),
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


@pytest.mark.parametrize("record_id, error", [
    ("i" * 1024, None),
    ("é" * 512, None),  # 512 characters, 1,024 bytes
    ("i" * 1025, "id is 1025 bytes; at most 1024"),
    ("é" * 513, "id is 1026 bytes; at most 1024"),  # 513 characters: under the limit only when counted in characters
], ids=["1024-ascii", "1024-bytes-utf8", "1025-ascii", "1026-bytes-utf8"])
def test_an_id_may_take_1024_bytes_counted_in_utf8(running_worker, worker_state, record_id, error):
    """Guards against the id limit off by one, or counted in characters rather than UTF-8 bytes."""
    answer = enqueue(running_worker, [spore(record_id, "m-id-size")], "m-id-size")
    stored = read_rows(worker_state, "SELECT count(*) FROM spores WHERE machine_id = 'm-id-size' AND id = ?", record_id)
    if error is None:
        assert (answer["accepted"], answer["rejected"], stored) == (1, [], [(1,)])
    else:
        assert answer["rejected"] == [{"table": "spores", "id": record_id[:64] + "…", "error": error}]
        assert (answer["accepted"], stored) == (0, [(0,)])


def test_a_records_machine_id_over_1024_bytes_is_rejected(running_worker):
    """Guards against a record's own machine_id skipping the key limit the request's machine_id has."""
    answer = enqueue(running_worker, [spore("sp-long-machine", "é" * 513), spore("sp-short-machine", "m-key")], "m-key")
    assert answer["accepted"] == 1
    assert answer["rejected"] == [{"table": "spores", "id": "sp-long-machine", "error": "machine_id is 1026 bytes; at most 1024"}]


def test_an_id_of_exactly_1024_bytes_is_echoed_whole_when_its_record_is_rejected(running_worker):
    """Guards against the echo cutting an id the limit allows (the client matches rejections by the whole id)."""
    for record_id in ("i" * 1024, "é" * 512):
        answer = enqueue(running_worker, [with_data(spore(record_id, "m-echo-edge"), tags=[1])], "m-echo-edge")
        assert answer["rejected"] == [{"table": "spores", "id": record_id,
                                       "error": "field tags: expected text, got an array (SQLite would not store it as sent)"}]


def test_an_unknown_table_name_is_echoed_whole_up_to_1024_bytes_and_cut_after(running_worker):
    """Guards against the echo of a rejected record's table cutting a name the key limit allows, or
    echoing a longer one whole."""
    names = ["t" * 1024, "t" * 1025]
    records = [{**spore(f"sp-table-{len(name)}", "m-echo-table"), "table": name} for name in names]
    answer = enqueue(running_worker, records, "m-echo-table")
    assert answer["rejected"] == [
        {"table": "t" * 1024, "id": "sp-table-1024", "error": f"Unknown table: {'t' * 1024}"},
        {"table": "t" * 64 + "…", "id": "sp-table-1025", "error": f"Unknown table: {'t' * 64}…"},
    ]


def test_a_value_is_measured_in_utf8_bytes_against_d1s_limit(running_worker, worker_state):
    """Guards against a value's size counted in characters: 2,000,000 characters, one of them two
    bytes, is over D1's limit and rejected naming the field, not passed to the row check."""
    over = "x" * 1_999_999 + "é"
    answer = enqueue(running_worker, [with_data(spore("sp-utf8-over", "m-utf8"), content=over)], "m-utf8")
    assert answer["rejected"] == [{"table": "spores", "id": "sp-utf8-over",
                                   "error": "field content: 2000001 bytes, over D1's limit of 2000000 per value"}]
    wide = "é" * 1_000_001  # 1,000,001 characters, 2,000,002 bytes
    answer = enqueue(running_worker, [with_data(spore("sp-utf8-wide", "m-utf8"), content=wide)], "m-utf8")
    assert answer["rejected"][0]["error"] == "field content: 2000002 bytes, over D1's limit of 2000000 per value"
    wider = "é" * 2_000_001  # over the limit in characters already: its size is still given in bytes
    answer = enqueue(running_worker, [with_data(spore("sp-utf8-wider", "m-utf8"), content=wider)], "m-utf8")
    assert answer["rejected"][0]["error"] == "field content: 4000002 bytes, over D1's limit of 2000000 per value"
    assert read_rows(worker_state, "SELECT count(*) FROM spores WHERE machine_id = 'm-utf8'") == [(0,)]


def test_a_row_over_what_d1_may_take_is_rejected_naming_its_size_and_largest_field(running_worker, worker_state):
    """Guards against the row limit off by one, or the rejection losing the row's size or its largest field."""
    limit = 1_900_000 - 2 * 1024
    # a value of exactly D1's 2,000,000 bytes passes the value check and is refused by the row check
    probe = enqueue(running_worker, [with_data(spore("sp-row-test", "m-row-edge"), content="a" * 2_000_000)], "m-row-edge")
    overhead = int(probe["rejected"][0]["error"].split()[3]) - 2_000_000  # the row's JSON besides its content (same id length)
    fits = with_data(spore("sp-row-fits", "m-row-edge"), content="a" * (limit - overhead))
    over = with_data(spore("sp-row-over", "m-row-edge"), content="a" * (limit - overhead + 1))
    over["data"] = {"created_at": over["data"].pop("created_at"), **over["data"]}  # a number first: it has no length
    answer = enqueue(running_worker, [fits, over], "m-row-edge")
    assert answer["accepted"] == 1, answer
    assert answer["rejected"] == [{"table": "spores", "id": "sp-row-over", "error": f"the row is {limit + 1} bytes as JSON, "
                                   f"over the {limit} one row may take in D1 (largest field: content)"}]
    assert read_rows(worker_state, "SELECT id, length(content) FROM spores WHERE machine_id = 'm-row-edge'") == [
        ("sp-row-fits", limit - overhead)]


def test_a_delete_reads_only_its_key_so_a_stale_field_never_rejects_it(running_worker, worker_state):
    """Guards against a delete checking every field of its data: one wrongly typed field would reject
    it permanently and the row would never be removed."""
    enqueue(running_worker, [spore("sp-del-stale", "m-del-stale")], "m-del-stale")
    delete = record("spores", "sp-del-stale", "m-del-stale", "delete")
    delete["data"].update({"tags": [1], "importance": True})
    answer = enqueue(running_worker, [delete], "m-del-stale")
    assert (answer["accepted"], answer["rejected"]) == (1, [])
    assert read_rows(worker_state, "SELECT count(*) FROM spores WHERE machine_id = 'm-del-stale'") == [(0,)]


MENTION = {"entity_id": "e-key", "note_id": "n-key", "note_type": "spore", "agent_id": "a1", "project_id": PROJECT}


@pytest.mark.parametrize("data, error", [
    ({**MENTION, "note_id": None}, "key field(s) note_id missing"),
    ({key: value for key, value in MENTION.items() if key not in ("entity_id", "agent_id")}, "key field(s) entity_id, agent_id missing"),
    ({**MENTION, "note_type": ""}, "key field note_type must be a non-empty string"),
    ({**MENTION, "entity_id": 7}, "key field entity_id must be a non-empty string, not an integer"),
    ({**MENTION, "note_id": "n" * 1025}, "key field note_id is 1025 bytes; at most 1024"),
], ids=["null", "two-missing", "empty", "integer", "too-long"])
@pytest.mark.parametrize("operation", ["upsert", "delete"])
def test_a_record_keyed_by_its_fields_needs_every_key_field_as_text(running_worker, worker_state, data, error, operation):
    """Guards against a record of a table keyed by its fields (entity_mentions) stored or deleted without
    a whole key: a missing, empty, numeric or oversized key field names no row."""
    good = {"table": "entity_mentions", "operation": "upsert", "machine_id": "m-key-fields", "data": {**MENTION, "note_id": "n-ok"}}
    answer = enqueue(running_worker, [{**good, "operation": operation, "data": data}, good], "m-key-fields")
    assert answer["rejected"] == [{"table": "entity_mentions", "id": None, "error": error}]
    assert answer["accepted"] == 1
    assert read_rows(worker_state, "SELECT note_id FROM entity_mentions WHERE machine_id = 'm-key-fields'") == [("n-ok",)]


def test_the_server_sets_synced_at_whatever_the_client_sends(running_worker, worker_state):
    """Guards against the client's own synced_at read as a field of its data: the receive time is the
    server's, and a local value of another type must not reject the record."""
    answer = enqueue(running_worker, [with_data(spore("sp-synced", "m-synced"), synced_at="yesterday")], "m-synced")
    assert (answer["accepted"], answer["rejected"]) == (1, [])
    [(synced_at, kind)] = read_rows(worker_state, "SELECT synced_at, typeof(synced_at) FROM spores WHERE machine_id = 'm-synced'")
    assert synced_at != "yesterday" and kind == "integer"


@pytest.mark.parametrize("envelope", [{}, {"machine_id": None}], ids=["absent", "null"])
def test_a_record_without_its_own_machine_id_takes_the_requests(running_worker, worker_state, envelope):
    """Guards against a record whose machine_id is absent or null rejected (or stored under another
    machine) rather than stored as the pushing machine's."""
    bare = {key: value for key, value in spore("sp-no-machine", "m-unused").items() if key != "machine_id"}
    answer = enqueue(running_worker, [{**bare, **envelope}], "m-request")
    assert (answer["accepted"], answer["rejected"]) == (1, [])
    assert read_rows(worker_state, "SELECT machine_id FROM spores WHERE id = 'sp-no-machine'") == [("m-request",)]


def test_the_content_hash_may_travel_in_the_envelope_or_in_data_alone(running_worker, worker_state):
    """Guards against a hash sent in one place only being lost: the envelope's is stored when data lacks
    it, a record without any envelope hash is read (not rejected), and either one makes a resend unchanged."""
    envelope_only = spore("sp-hash-envelope", "m-hash-one", content_hash="h-envelope")
    del envelope_only["data"]["content_hash"]
    data_only = spore("sp-hash-data", "m-hash-one", content_hash="h-data")
    del data_only["content_hash"]
    answer = enqueue(running_worker, [envelope_only, data_only], "m-hash-one")
    assert (answer["accepted"], answer["rejected"], answer["unchanged"]) == (2, [], 0)
    assert read_rows(worker_state, "SELECT id, content_hash FROM spores WHERE machine_id = 'm-hash-one' ORDER BY id") == [
        ("sp-hash-data", "h-data"), ("sp-hash-envelope", "h-envelope")]
    again = enqueue(running_worker, [envelope_only, data_only], "m-hash-one")
    assert (again["accepted"], again["unchanged"]) == (2, 2)


def edge(record_id: str, machine_id: str, **data) -> dict:
    fields = {"agent_id": "a", "source_id": "s", "source_type": "spore", "target_id": "t", "target_type": "entity",
              "type": "relates", "created_at": 1, **data}
    return record("graph_edges", record_id, machine_id, **fields)


def test_a_content_hash_on_a_table_that_keeps_none_is_ignored(running_worker, worker_state):
    """Guards against an envelope hash used for a table without a content_hash column (graph_edges):
    looking up stored hashes there fails the push."""
    answer = enqueue(running_worker, [edge("ge-hash", "m-edge-hash", confidence=0.5) | {"content_hash": "h-edge"}], "m-edge-hash")
    assert (answer["accepted"], answer["rejected"], answer["unchanged"], answer["dead_lettered"]) == (1, [], 0, []), answer
    assert read_rows(worker_state, "SELECT id, confidence FROM graph_edges WHERE machine_id = 'm-edge-hash'") == [("ge-hash", 0.5)]


@pytest.mark.parametrize("project_id, shown", [
    (5, "5"), (None, "null"), ([PROJECT], "an array"), (True, "true"), ("p" * 1025, '"' + "p" * 64 + '…"'),
], ids=["number", "null", "array", "boolean", "long"])
def test_an_invalid_project_id_is_shown_as_json_or_by_its_type(running_worker, project_id, shown):
    """Guards against the project_id rejection misquoting what was sent (upstream's message shows the JSON
    value, a type for arrays and objects, and a long string only as a prefix)."""
    answer = enqueue(running_worker, [with_data(spore("sp-bad-project", "m-bad-project"), project_id=project_id)], "m-bad-project")
    assert answer["rejected"] == [{"table": "spores", "id": "sp-bad-project",
                                   "error": f"Invalid project_id: expected proj_<32 hex chars>, got {shown}"}]


@pytest.mark.parametrize("record_id", [{"id": "x"}, ["x"]], ids=["object", "array"])
def test_an_id_that_is_an_object_or_array_is_echoed_as_null(running_worker, record_id):
    """Guards against a rejection echoing a structured id back (the client matches rejected ids as strings)."""
    answer = enqueue(running_worker, [spore("sp-structured", "m-structured") | {"id": record_id}], "m-structured")
    kind = "an object" if isinstance(record_id, dict) else "an array"
    assert answer["rejected"] == [{"table": "spores", "id": None, "error": f"id must be a non-empty string, not {kind}"}]


@pytest.mark.parametrize("data, error", [
    ({"confidence": "high"}, "field confidence: expected a number, got a string"),
    ({"confidence": [1]}, "field confidence: expected a number, got an array (SQLite would not store it as sent)"),
    ({"source_id": 7.5}, "field source_id: expected text, got a number"),
], ids=["real-string", "real-array", "id-like-fraction"])
def test_a_real_or_id_like_field_takes_only_its_own_numbers(running_worker, worker_state, data, error):
    """Guards against a real field's rejection naming the wrong type, or an id-like text field taking a
    number with a fraction (only the integer ids of old vaults are text's exception)."""
    answer = enqueue(running_worker, [edge("ge-typed", "m-edge-typed", **data)], "m-edge-typed")
    assert answer["rejected"] == [{"table": "graph_edges", "id": "ge-typed", "error": error}]
    assert read_rows(worker_state, "SELECT count(*) FROM graph_edges WHERE machine_id = 'm-edge-typed'") == [(0,)]


def test_a_record_that_is_null_is_rejected_alone(running_worker, worker_state):
    """Guards against a null record taken for an object (null is typeof "object"): a 500 for the batch."""
    answer = enqueue(running_worker, [None, spore("sp-after-null", "m-null-record")], "m-null-record")
    assert answer["rejected"] == [{"table": None, "id": None, "error": "a record must be a JSON object"}]
    assert answer["accepted"] == 1


def test_a_null_field_is_stored_as_null(running_worker, worker_state):
    """Guards against a null value (a column the client left empty) rejected for its type."""
    answer = enqueue(running_worker, [with_data(spore("sp-null-field", "m-null-field"), context=None, importance=None)], "m-null-field")
    assert (answer["accepted"], answer["rejected"]) == (1, [])
    assert read_rows(worker_state, "SELECT context, importance FROM spores WHERE machine_id = 'm-null-field'") == [(None, None)]


def test_data_id_and_machine_id_never_reach_the_row_whatever_they_hold(running_worker, worker_state):
    """Guards against data's own id or machine_id read as fields: a legacy integer id, or a local
    machine_id of another type, would reject the record or override the envelope's identity."""
    legacy = with_data(spore("sp-legacy-id", "m-legacy"), id=12, machine_id=["local"])
    answer = enqueue(running_worker, [legacy], "m-legacy")
    assert (answer["accepted"], answer["rejected"]) == (1, [])
    assert read_rows(worker_state, "SELECT id, machine_id FROM spores WHERE machine_id = 'm-legacy'") == [("sp-legacy-id", "m-legacy")]


def test_when_both_hashes_are_sent_data_is_stored_as_sent(running_worker, worker_state):
    """Guards against the envelope's hash overwriting the one data carries (values are stored as sent)."""
    both = spore("sp-hash-both", "m-hash-both", content_hash="h-data") | {"content_hash": "h-envelope"}
    assert enqueue(running_worker, [both], "m-hash-both")["accepted"] == 1
    assert read_rows(worker_state, "SELECT content_hash FROM spores WHERE machine_id = 'm-hash-both'") == [("h-data",)]


def test_an_envelope_hash_d1_cannot_store_is_rejected_naming_content_hash(running_worker, worker_state):
    """Guards against an oversized envelope hash (stored when data has none) rejected without its field's name."""
    huge = spore("sp-hash-huge", "m-hash-huge", content_hash="h" * 2_000_001)
    del huge["data"]["content_hash"]
    answer = enqueue(running_worker, [huge], "m-hash-huge")
    assert answer["rejected"] == [{"table": "spores", "id": "sp-hash-huge",
                                   "error": "field content_hash: 2000001 bytes, over D1's limit of 2000000 per value"}]


def test_a_column_outside_the_contract_is_dropped_not_written(running_worker, worker_state):
    """Guards against a field the database has a column for, but the contract does not name
    (knowledge_release_state.basis_ref), read as a contract field: without a type it rejects the record."""
    release = record("knowledge_release_state", "krel-basis", "m-basis", identity_key="k", namespace="n",
                     state="released", confidence="high", checked_at=1, created_at=1, updated_at=1, basis_ref="refs/x")
    release["data"]["record_id"] = "r"  # record()'s own parameter is named record_id
    answer = enqueue(running_worker, [release], "m-basis")
    assert (answer["accepted"], answer["rejected"]) == (1, []), answer
    assert (answer["dropped_fields"], answer["dead_lettered"]) == ({"knowledge_release_state.basis_ref": 1}, []), answer
    assert read_rows(worker_state, "SELECT id, basis_ref FROM knowledge_release_state WHERE machine_id = 'm-basis'") == [("krel-basis", None)]


def test_a_delete_never_takes_the_envelope_hash_into_its_row(running_worker, worker_state):
    """Guards against a delete's row taking the envelope's content hash: a delete is its key, and a
    large hash would push it over the row limit and refuse it."""
    enqueue(running_worker, [spore("sp-del-hash", "m-del-hash")], "m-del-hash")
    delete = record("spores", "sp-del-hash", "m-del-hash", "delete") | {"content_hash": "h" * 1_950_000}
    answer = enqueue(running_worker, [delete], "m-del-hash")
    assert (answer["accepted"], answer["rejected"]) == (1, [])
    assert read_rows(worker_state, "SELECT count(*) FROM spores WHERE machine_id = 'm-del-hash'") == [(0,)]


def test_an_upsert_without_any_hash_clears_the_stored_one(running_worker, worker_state):
    """Guards against a stored content hash outliving its content: an upsert carrying no hash at all
    rewrites the row but kept the old hash, so resending the old content under that hash was
    skipped as unchanged and the row stayed at the newer content."""
    first = spore("sp-hash-outlived", "m-hash-two", content="first text", content_hash="h-first")
    assert enqueue(running_worker, [first], "m-hash-two")["accepted"] == 1
    hashless = spore("sp-hash-outlived", "m-hash-two", content="second text")
    assert "content_hash" not in hashless["data"] and hashless["content_hash"] is None
    assert enqueue(running_worker, [hashless], "m-hash-two")["accepted"] == 1
    stored = "SELECT content, content_hash FROM spores WHERE id = 'sp-hash-outlived' AND machine_id = 'm-hash-two'"
    assert read_rows(worker_state, stored) == [("second text", None)]
    again = enqueue(running_worker, [first], "m-hash-two")
    assert (again["accepted"], again["unchanged"]) == (1, 0)
    assert read_rows(worker_state, stored) == [("first text", "h-first")]


# worker-http's survivors (lines 100-147): http.js's helpers, run by node as the Worker imports them

def test_now_seconds_counts_seconds_since_the_epoch():
    """Guards against nowSeconds multiplying milliseconds instead of dividing them: every stored
    time and `generated_at` would be a million times too large."""
    before, now, after = http_in_node(
        "const before = Math.floor(Date.now() / 1000); const now = http.nowSeconds(); answer = [before, now, Math.floor(Date.now() / 1000)];")
    assert before <= now <= after


def test_read_limit_takes_a_positive_integer_clamped_else_the_fallback():
    """Guards against readLimit ignoring the parameter sent, answering no number when it is absent,
    taking 0 or a negative number (a page of nothing, or SQL's LIMIT -1: everything), or raising
    the limit to its maximum instead of clamping to it."""
    answer = http_in_node("""
        const limit = (query) => http.readLimit(new URL(`https://w.invalid/x${query}`), "limit", 50, 500);
        answer = ["", "?limit=5", "?limit=1", "?limit=0", "?limit=-3", "?limit=many", "?limit=500", "?limit=9999", "?other=7"].map(limit);""")
    assert answer == [50, 5, 1, 50, 50, 50, 500, 500, 50]


def test_describe_type_names_null_as_null():
    """Guards against describeType calling null "an object" (typeof null) or naming it with an
    empty word in the messages that quote it."""
    answer = http_in_node("answer = [null, [1], {}, 'x', 3, 1.5, true, undefined].map(http.describeType);")
    assert answer == ["null", "an array", "an object", "a string", "an integer", "a number", "a boolean", "a undefined"]


REFUSED = """
    const refused = (call) => { try { return ["ok", call()]; } catch (error) { return [error.status, error.message]; } };"""


def test_require_string_refuses_absent_null_and_blank_values_with_the_whole_message():
    """Guards against requireString letting undefined, null, an empty or a blank string through
    (or refusing them as "not a string" rather than as required), an empty message, and the value
    returned untrimmed."""
    answer = http_in_node(REFUSED + """
        answer = [undefined, null, "", "   ", " m1 ", 7].map((value) => refused(() => http.requireString(value, "machine_id")));""")
    required = [400, "machine_id is required (a non-empty string)"]
    assert answer == [required, required, required, required, ["ok", "m1"], [400, "machine_id must be a string, not an integer"]]


def test_optional_string_takes_null_as_absent():
    """Guards against optionalString refusing a JSON null (a client that sends "agent": null for no
    agent) as "must be a string, not null"."""
    answer = http_in_node(REFUSED + """
        answer = [undefined, null, "x", 7].map((value) => refused(() => http.optionalString(value, "agent")));""")
    assert answer == [["ok", None], ["ok", None], ["ok", "x"], [400, "agent must be a string, not an integer"]]


def test_a_text_field_is_measured_in_utf8_bytes_against_d1s_limit():
    """Guards against checkText measuring a string by its UTF-16 length when that is within
    the limit (a string of 2-byte characters over D1's 2,000,000 bytes would pass and fail in D1),
    and refusing a string of exactly 2,000,000 bytes."""
    answer = http_in_node(REFUSED + """
        const measured = (text) => { const [status, value] = refused(() => http.requireString(text, "content")); return [status, status === "ok" ? value.length : value]; };
        answer = ["a".repeat(2_000_000), "a".repeat(2_000_001), "é".repeat(1_000_000), "é".repeat(1_000_001), "é".repeat(2_000_000)].map(measured);""")
    over = [413, "content is over 2000000 bytes (D1's largest string)"]
    assert answer == [["ok", 2_000_000], over, ["ok", 1_000_000], over, over]
