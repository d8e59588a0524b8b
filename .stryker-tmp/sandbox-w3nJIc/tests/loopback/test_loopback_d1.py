"""The loopback API speaks D1 as the official SDK expects: every response parses with its own calls."""

from __future__ import annotations

import cloudflare
import httpx
import pytest
from cloudflare import Cloudflare

from loopback import Fault


def _user_objects(api, database_id) -> list[str]:
    rows = api.d1.connect(database_id).execute("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
    return [row[0] for row in rows]


@pytest.fixture
def client(loopback_api):
    sdk = Cloudflare(api_token=loopback_api.token, base_url=loopback_api.base_url, max_retries=0)
    yield sdk
    sdk.close()


@pytest.fixture
def database_id(loopback_api):
    return loopback_api.d1.add_database(name="myco-team-dev")


def test_query_returns_rows_the_sdk_parses_as_query_results(client, loopback_api, database_id):
    account = loopback_api.account_id
    client.d1.database.query(database_id, account_id=account, sql="CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    client.d1.database.query(database_id, account_id=account, sql="INSERT INTO t (v) VALUES (?)", params=["x"])
    page = client.d1.database.query(database_id, account_id=account, sql="SELECT id, v FROM t")
    results = list(page)
    assert len(results) == 1 and results[0].success is True
    assert results[0].results == [{"id": 1, "v": "x"}]
    assert results[0].meta.rows_read == 1


def test_raw_returns_columns_and_rows(client, loopback_api, database_id):
    account = loopback_api.account_id
    page = client.d1.database.raw(database_id, account_id=account, sql="SELECT 1 AS one, 'a' AS letter")
    (result,) = list(page)
    assert result.results.columns == ["one", "letter"]
    assert result.results.rows == [[1, "a"]]


def test_a_batch_gives_one_result_per_statement_and_commits_together(client, loopback_api, database_id):
    account = loopback_api.account_id
    page = client.d1.database.query(database_id, account_id=account, batch=[
        {"sql": "CREATE TABLE a (id INTEGER)"},
        {"sql": "INSERT INTO a VALUES (1); INSERT INTO a VALUES (2)"},
        {"sql": "SELECT count(*) AS n FROM a"},
    ])
    results = list(page)
    assert len(results) == 4
    assert results[-1].results == [{"n": 2}]


def test_a_failing_statement_rolls_back_the_whole_batch_with_d1s_message(client, loopback_api, database_id):
    account = loopback_api.account_id
    with pytest.raises(cloudflare.BadRequestError) as caught:
        client.d1.database.query(database_id, account_id=account,
                                 sql="CREATE TABLE kept (id INTEGER); CREATE TABLE broken (;")
    assert "SQLITE_ERROR" in str(caught.value)
    assert _user_objects(loopback_api, database_id) == []


def test_d1_rules_are_enforced_on_the_loopback(client, loopback_api, database_id):
    account = loopback_api.account_id
    with pytest.raises(cloudflare.BadRequestError) as caught:
        client.d1.database.query(database_id, account_id=account, sql="BEGIN TRANSACTION")
    assert "not authorized" in str(caught.value)
    with pytest.raises(cloudflare.BadRequestError):
        client.d1.database.query(database_id, account_id=account, sql="SELECT '" + "x" * 100_001 + "'")


def test_unknown_database_and_wrong_token_and_wrong_account_are_refused(client, loopback_api, database_id):
    with pytest.raises(cloudflare.NotFoundError):
        client.d1.database.query("no-such-db", account_id=loopback_api.account_id, sql="SELECT 1")
    with pytest.raises(cloudflare.PermissionDeniedError):
        client.d1.database.query(database_id, account_id="f" * 32, sql="SELECT 1")
    intruder = Cloudflare(api_token="wrong-token", base_url=loopback_api.base_url, max_retries=0)
    with pytest.raises(cloudflare.PermissionDeniedError):
        intruder.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1")


def test_a_new_database_holds_only_d1s_internal_table(loopback_api, database_id):
    names = [row[0] for row in loopback_api.d1.connect(database_id).execute("SELECT name FROM sqlite_master")]
    assert names == ["_cf_KV"]


def test_database_get_parses(client, loopback_api, database_id):
    database = client.d1.database.get(database_id, account_id=loopback_api.account_id)
    assert database.uuid == database_id and database.name == "myco-team-dev"


def test_time_travel_restores_a_bookmark_and_returns_the_previous_one(client, loopback_api, database_id):
    account = loopback_api.account_id
    client.d1.database.query(database_id, account_id=account, sql="CREATE TABLE before (id INTEGER)")
    bookmark = client.d1.database.time_travel.get_bookmark(database_id, account_id=account).bookmark
    assert client.d1.database.time_travel.get_bookmark(database_id, account_id=account).bookmark == bookmark
    client.d1.database.query(database_id, account_id=account, sql="CREATE TABLE after (id INTEGER)")
    restored = client.d1.database.time_travel.restore(database_id, account_id=account, bookmark=bookmark)
    assert restored.previous_bookmark and restored.previous_bookmark != bookmark
    names = _user_objects(loopback_api, database_id)
    assert names == ["before"]
    client.d1.database.time_travel.restore(database_id, account_id=account, bookmark=restored.previous_bookmark)
    names = _user_objects(loopback_api, database_id)
    assert sorted(names) == ["after", "before"]


def test_requests_are_counted_per_route(client, loopback_api, database_id):
    loopback_api.reset_counts()
    for _ in range(3):
        client.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1")
    client.d1.database.time_travel.get_bookmark(database_id, account_id=loopback_api.account_id)
    assert loopback_api.requests["d1.query"] == 3
    assert loopback_api.requests["d1.bookmark"] == 1


def test_injected_429_carries_retry_after_and_500_is_an_internal_error(client, loopback_api, database_id):
    loopback_api.inject("d1.query", Fault.status_code(429, retry_after="7"), Fault.status_code(500))
    with pytest.raises(cloudflare.RateLimitError) as caught:
        client.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1")
    assert caught.value.response.headers["retry-after"] == "7"
    with pytest.raises(cloudflare.InternalServerError):
        client.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1")
    assert list(client.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1"))


def test_commit_then_drop_commits_but_the_client_gets_no_response(client, loopback_api, database_id):
    loopback_api.inject("d1.query", Fault.commit_then_drop())
    with pytest.raises(cloudflare.APIConnectionError):
        client.d1.database.query(database_id, account_id=loopback_api.account_id, sql="CREATE TABLE landed (id INTEGER)")
    names = _user_objects(loopback_api, database_id)
    assert names == ["landed"]


def test_injected_delay_trips_a_client_timeout(loopback_api, database_id):
    loopback_api.inject("d1.query", Fault.delay(1.0))
    impatient = Cloudflare(api_token=loopback_api.token, base_url=loopback_api.base_url, max_retries=0,
                           timeout=httpx.Timeout(0.2))
    with pytest.raises(cloudflare.APITimeoutError):
        impatient.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1")


def test_latency_delays_every_request(loopback_api, database_id):
    loopback_api.latency = 0.5
    impatient = Cloudflare(api_token=loopback_api.token, base_url=loopback_api.base_url, max_retries=0,
                           timeout=httpx.Timeout(0.1))
    for call in (lambda: impatient.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1"),
                 lambda: impatient.d1.database.time_travel.get_bookmark(database_id, account_id=loopback_api.account_id)):
        with pytest.raises(cloudflare.APITimeoutError):
            call()
    loopback_api.latency = 0.0
    assert list(impatient.d1.database.query(database_id, account_id=loopback_api.account_id, sql="SELECT 1"))
