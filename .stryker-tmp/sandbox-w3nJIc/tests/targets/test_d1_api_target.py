"""The D1 API target through the official SDK against the loopback API: batches, retries, lost responses."""

from __future__ import annotations

import logging

import httpx
import pytest
from loopback import Fault

from infra.environments import load_environment
from infra.errors import EnvironmentNotCreated, MissingCredentials, RemoteApiError, UsageError
from infra.targets import BatchFailed, BatchStatement, ResponseLost
from infra.targets.d1_api import D1ApiTarget, RetryPolicy

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


@pytest.fixture
def target(cloudflare_env):
    database_id = cloudflare_env.d1.add_database()
    remote = D1ApiTarget("dev", cloudflare_env.account_id, database_id, cloudflare_env.token,
                         cloudflare_env.base_url, FAST)
    yield remote
    remote.close()


def test_a_batch_is_one_transaction(target, cloudflare_env):
    target.batch([BatchStatement("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"),
                  BatchStatement("INSERT INTO t (v) VALUES (?)", ("a",))])
    with pytest.raises(BatchFailed) as caught:
        target.batch([BatchStatement("INSERT INTO t (v) VALUES ('b')"), BatchStatement("INSERT INTO missing VALUES (1)")])
    assert "no such table: missing" in caught.value.message and caught.value.index is None
    assert target.query("SELECT v FROM t") == [{"v": "a"}]
    assert cloudflare_env.requests["d1.query"] == 3


def test_parameters_travel_as_strings_and_sql_casts_them(target):
    rows = target.query("SELECT CAST(? AS INTEGER) + 1 AS n, ? AS s", [41, "x"])
    assert rows == [{"n": 42, "s": "x"}]


def test_reads_are_retried_on_500_and_timeouts(target, cloudflare_env):
    cloudflare_env.inject("d1.query", Fault.status_code(500), Fault.status_code(502))
    assert target.query("SELECT 1 AS one") == [{"one": 1}]
    assert cloudflare_env.requests["d1.query"] == 3


def test_a_read_that_times_out_is_retried(cloudflare_env):
    database_id = cloudflare_env.d1.add_database()
    impatient = D1ApiTarget("dev", cloudflare_env.account_id, database_id, cloudflare_env.token,
                            cloudflare_env.base_url, FAST, timeout=httpx.Timeout(0.3))
    cloudflare_env.inject("d1.query", Fault.delay(1.0))
    assert impatient.query("SELECT 2 AS two") == [{"two": 2}]
    impatient.close()


def test_a_write_whose_answer_is_lost_raises_response_lost_and_is_not_resent(target, cloudflare_env):
    cloudflare_env.inject("d1.query", Fault.commit_then_drop())
    with pytest.raises(ResponseLost):
        target.batch([BatchStatement("CREATE TABLE landed (id INTEGER)")])
    assert cloudflare_env.requests["d1.query"] == 1
    assert target.query("SELECT count(*) AS n FROM landed") == [{"n": 0}]


def test_a_write_that_times_out_is_reported_as_lost_not_resent(cloudflare_env):
    database_id = cloudflare_env.d1.add_database()
    impatient = D1ApiTarget("dev", cloudflare_env.account_id, database_id, cloudflare_env.token,
                            cloudflare_env.base_url, FAST, timeout=httpx.Timeout(0.3))
    cloudflare_env.inject("d1.query", Fault.delay(0.6))
    with pytest.raises(ResponseLost, match="timeout"):
        impatient.batch([BatchStatement("CREATE TABLE slow (id INTEGER)")])
    assert cloudflare_env.requests["d1.query"] == 1
    impatient.close()


def test_a_write_refused_with_429_is_retried(target, cloudflare_env):
    cloudflare_env.inject("d1.query", Fault.status_code(429, retry_after="0"))
    target.batch([BatchStatement("CREATE TABLE after_429 (id INTEGER)")])
    assert cloudflare_env.requests["d1.query"] == 2


def test_a_429_waits_as_long_as_retry_after_says(target, cloudflare_env):
    # FAST's own backoff is 10-20 ms: a gap of a second can only come from the header.
    cloudflare_env.inject("d1.query", Fault.status_code(429, retry_after="1"))
    target.batch([BatchStatement("CREATE TABLE after_wait (id INTEGER)")])
    first, second = [request.received_at for request in cloudflare_env.log if request.route == "d1.query"]
    assert second - first >= 1.0


def test_a_retry_after_beyond_the_policys_limit_falls_back_to_backoff():
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0, max_retry_after=60.0)
    assert policy.delay(0, 3.0) == 3.0
    assert 2.0 <= policy.delay(3, 3600.0) <= 4.0  # an hour-long Retry-After is not honoured blindly
    assert 0.25 <= policy.delay(0, None) <= 0.5


def test_a_failed_check_written_on_several_lines_is_reported_on_one(target):
    target.batch([BatchStatement("CREATE TABLE checked (v INTEGER CHECK (v > 0\n  AND v < 10))")])
    with pytest.raises(BatchFailed) as caught:
        target.batch([BatchStatement("INSERT INTO checked VALUES (0)")])
    assert "CHECK constraint failed: v > 0 AND v < 10" in caught.value.message


def test_a_write_with_a_500_is_reported_as_lost_not_resent(target, cloudflare_env):
    cloudflare_env.inject("d1.query", Fault.status_code(500))
    with pytest.raises(ResponseLost, match="HTTP 500"):
        target.batch([BatchStatement("CREATE TABLE maybe (id INTEGER)")])
    assert cloudflare_env.requests["d1.query"] == 1


def test_restore_point_and_restore(target):
    target.batch([BatchStatement("CREATE TABLE kept (id INTEGER)")])
    point = target.create_restore_point()
    target.batch([BatchStatement("CREATE TABLE dropped_by_restore (id INTEGER)")])
    message = target.restore(point.reference)
    assert "to undo: invoke restore --env dev --bookmark" in message
    names = [row["name"] for row in target.query("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")]
    assert names == ["kept"]


def test_an_unknown_bookmark_is_refused_and_changes_nothing(target):
    target.batch([BatchStatement("CREATE TABLE kept (id INTEGER)")])
    with pytest.raises(UsageError, match="D1 refused to restore .* to bookmark '00000000-00000000-00000000-nope'"):
        target.restore("00000000-00000000-00000000-nope")
    assert target.query("SELECT count(*) AS n FROM kept") == [{"n": 0}]


def test_missing_credentials_name_the_variable(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    with pytest.raises(MissingCredentials, match="CLOUDFLARE_API_TOKEN is not set"):
        D1ApiTarget.for_environment(load_environment("dev"))


def test_a_database_no_output_names_is_looked_up_by_name_else_not_created(monkeypatch, cloudflare_env):
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    monkeypatch.delenv("HYPHAE_STAGING_DATABASE_ID", raising=False)
    with pytest.raises(EnvironmentNotCreated, match="no D1 database named myco-team-staging.*HYPHAE_STAGING_DATABASE_ID"):
        D1ApiTarget.for_environment(load_environment("staging"))
    database_id = cloudflare_env.d1.add_database(name="myco-team-staging")
    assert D1ApiTarget.for_environment(load_environment("staging")).database_id == database_id


def test_the_token_appears_in_no_message_and_no_log_line(cloudflare_env, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    database_id = cloudflare_env.d1.add_database()
    monkeypatch.setenv("HYPHAE_DEV_DATABASE_ID", database_id)
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    remote = D1ApiTarget.for_environment(load_environment("dev"), FAST)
    messages = []
    cloudflare_env.inject("d1.query", Fault.status_code(500), Fault.status_code(500), Fault.status_code(500))
    for call in (lambda: remote.query("SELECT 1"), lambda: remote.batch([BatchStatement("SELECT * FROM nowhere")]),
                 lambda: remote.restore("bogus")):
        try:
            call()
        except (RemoteApiError, BatchFailed, UsageError) as error:
            messages.append(str(error))
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", cloudflare_env.token[::-1])
    wrong = D1ApiTarget.for_environment(load_environment("dev"), FAST)
    with pytest.raises(RemoteApiError) as refused:
        wrong.query("SELECT 1")
    messages.append(str(refused.value))
    captured = capsys.readouterr()
    everything = "\n".join(messages + [record.getMessage() for record in caplog.records] + [captured.out, captured.err,
                           repr(remote.__dict__), repr(wrong.__dict__)])
    assert len(messages) == 4
    assert cloudflare_env.token not in everything and cloudflare_env.token[::-1] not in everything
