"""Remote runs against the loopback API: few requests, transient failures, lost responses, exactly once."""

from __future__ import annotations

import sqlite3
import threading

import httpx
import pytest
from loopback import Fault
from migration_history import HISTORY, read_ledger_rows, write_history

from infra.d1.rules import read_user_schema
from infra.errors import MissingCredentials, RemoteApiError
from infra.runner.apply import run_migrate
from infra.targets import d1_api


def _many(count: int) -> dict[str, str]:
    return {f"{number:04d}_table_{number}.sql": f"CREATE TABLE t{number} (id INTEGER PRIMARY KEY, v TEXT);\n"
            f"CREATE INDEX t{number}_v ON t{number} (v);\n" for number in range(1, count + 1)}


def test_fifty_pending_migrations_take_a_handful_of_requests(cloudflare_env, remote_database, tmp_path):
    folder = write_history(tmp_path / "many", _many(50))
    cloudflare_env.reset_counts()
    report = run_migrate("dev", folder)
    assert len(report.applied) == 50
    total = sum(cloudflare_env.requests.values())
    assert total == report.requests
    assert total <= 50 / 5, cloudflare_env.requests  # wrangler: one request per file
    assert cloudflare_env.requests["d1.bookmark"] == 1


def test_a_response_lost_after_commit_is_not_applied_twice(cloudflare_env, remote_database, history):
    # 1st query: ledger + lock; 2nd: the migrations (commits, then the connection drops).
    cloudflare_env.inject("d1.query", Fault.none(), Fault.commit_then_drop())
    report = run_migrate("dev", history)
    assert report.applied == list(HISTORY)
    assert read_ledger_rows(remote_database)[0] == list(HISTORY)
    assert any("the ledger shows the batch committed" in note for note in report.notes)
    assert cloudflare_env.pending_faults("d1.query") == 0


def test_a_500_on_the_batch_is_checked_in_the_ledger_then_resent_once(cloudflare_env, remote_database, history):
    cloudflare_env.inject("d1.query", Fault.none(), Fault.status_code(500))
    report = run_migrate("dev", history)
    assert report.applied == list(HISTORY)
    assert read_ledger_rows(remote_database)[0] == list(HISTORY)


def test_429_is_retried_after_retry_after(cloudflare_env, remote_database, history):
    cloudflare_env.inject("d1.query", Fault.status_code(429, retry_after="0"), Fault.none(),
                          Fault.status_code(429, retry_after="0"))
    cloudflare_env.inject("d1.bookmark", Fault.status_code(429, retry_after="0"))
    report = run_migrate("dev", history)
    assert report.applied == list(HISTORY)
    assert cloudflare_env.requests["d1.bookmark"] == 2


def test_an_api_that_keeps_failing_ends_in_a_one_line_error_with_nothing_applied(cloudflare_env, remote_database, history):
    cloudflare_env.inject("d1.query", Fault.none(), *[Fault.status_code(429, retry_after="0")] * 20)
    with pytest.raises(RemoteApiError) as caught:
        run_migrate("dev", history)
    assert "kept failing" in str(caught.value) and "\n" not in str(caught.value)
    assert read_user_schema(remote_database) == []


def test_missing_token_names_the_variable_before_any_request(cloudflare_env, remote_database, history, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    with pytest.raises(MissingCredentials, match="CLOUDFLARE_API_TOKEN is not set"):
        run_migrate("dev", history)
    assert sum(cloudflare_env.requests.values()) == 0


def test_a_wrong_token_is_a_one_line_error_that_does_not_echo_it(cloudflare_env, remote_database, history, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-the-token-0123456789")
    with pytest.raises(RemoteApiError) as caught:
        run_migrate("dev", history)
    assert "refused the credentials for environment 'dev'" in str(caught.value)
    assert "not-the-token-0123456789" not in str(caught.value)


def test_an_unknown_database_is_a_one_line_error_naming_it(cloudflare_env, remote_database, history, monkeypatch):
    monkeypatch.setenv("HYPHAE_DEV_DATABASE_ID", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(RemoteApiError, match="D1 database 00000000-0000-0000-0000-000000000000 .* was not found"):
        run_migrate("dev", history)


def test_a_lost_batch_that_commits_after_the_ledger_check_is_still_applied_once(cloudflare_env, remote_database, history):
    # The batch's connection drops at once but D1 runs it 0.1 s later, after hyphae read the ledger:
    # the resend then fails (the tables exist) and the ledger shows the first copy committed.
    cloudflare_env.inject("d1.query", Fault.none(), Fault.drop_then_commit(0.1))
    report = run_migrate("dev", history)
    assert report.applied == list(HISTORY)
    assert "a lost batch committed after all; its resend was refused and rolled back" in report.notes
    assert read_ledger_rows(remote_database)[0] == list(HISTORY)


def test_a_lost_answer_to_the_first_batch_is_resent_safely(cloudflare_env, remote_database, history):
    # The first batch only creates tables if absent and takes this run's lease: resending it is harmless.
    cloudflare_env.inject("d1.query", Fault.commit_then_drop(), Fault.status_code(502))
    report = run_migrate("dev", history)
    assert report.applied == list(HISTORY)
    assert read_ledger_rows(remote_database)[0] == list(HISTORY)
    assert cloudflare_env.pending_faults("d1.query") == 0


def test_an_adoption_batch_whose_answer_is_lost_after_commit_is_recorded_once(cloudflare_env, remote_database, history):
    import sqlite3

    from infra.ledger.schema import WRANGLER_TABLE_SQL
    from infra.runner.apply import MigrateOptions

    connection = sqlite3.connect(remote_database)
    connection.executescript(WRANGLER_TABLE_SQL + ";" + HISTORY["0001_accounts.sql"]
                             + "INSERT INTO d1_migrations (name) VALUES ('0001_accounts.sql');")
    connection.close()
    # Before the adoption batch: ledger read (2 requests), schema, first batch, schema again under the lease.
    cloudflare_env.inject("d1.query", *[Fault.none()] * 5, Fault.commit_then_drop())
    report = run_migrate("dev", history, MigrateOptions(adopt=True))
    dropped = [request.body.decode() for request in cloudflare_env.log if request.route == "d1.query"][5]
    assert "INSERT INTO hyphae_migrations" in dropped and "INSERT INTO d1_migrations" not in dropped  # the adoption
    assert report.adopted == ["0001_accounts.sql"] and report.applied == ["0002_projects.sql", "0003_notes.sql"]
    assert any("the ledger shows the batch committed" in note for note in report.notes)
    assert read_ledger_rows(remote_database)[0] == list(HISTORY)


def lease_rows(database) -> list[tuple]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT run_id, holder FROM hyphae_lock").fetchall()
    finally:
        connection.close()


def test_a_lost_first_batch_that_commits_after_the_run_released_never_retakes_the_lease(
        cloudflare_env, remote_database, history):
    # The first request (create the tables, take the lease, read the ledger) loses its connection at
    # once, so hyphae sends it again; the run applies everything and releases the lease. Only then
    # does D1 run the lost copy: it must not take the lease for the finished run, or every other
    # run is refused for 300 s.
    late_copy_runs = threading.Event()
    cloudflare_env.inject("d1.query", Fault.drop_then_commit(until=late_copy_runs))
    report = run_migrate("dev", history)
    late_copy_runs.set()
    cloudflare_env.wait_until_idle()

    assert report.applied == list(HISTORY)
    assert lease_rows(remote_database) == []
    assert run_migrate("dev", history).applied == [], "the next run must get the lock at once"


def test_a_first_batch_that_outlives_the_client_timeout_never_retakes_the_lease(
        cloudflare_env, remote_database, history, monkeypatch):
    # The client gives up on a request after REQUEST_TIMEOUT (45 s; 0.5 s here) and sends it again,
    # but D1 still runs the first copy, later than everything the run did after its resend.
    monkeypatch.setattr(d1_api, "REQUEST_TIMEOUT", httpx.Timeout(0.5, connect=10.0))
    late_copy_runs = threading.Event()
    cloudflare_env.inject("d1.query", Fault.delay(until=late_copy_runs))
    report = run_migrate("dev", history)
    late_copy_runs.set()
    cloudflare_env.wait_until_idle()

    assert report.applied == list(HISTORY)
    assert lease_rows(remote_database) == []
    assert run_migrate("dev", history).applied == []
