"""The risks: the pull request's lint findings, the tables a SAFE finding touches, and their row
counts read (read-only) from the local D1 file and, through the official SDK, the loopback D1 API."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from loopback import point_dev_at_new_database

from infra.environments import load_environment
from infra.lint import lint_migrations
from infra.paths import local_d1_file
from infra.review.base import read_history_change
from infra.review.changes import plan_schema_changes
from infra.review.risks import plan_risks, read_row_counts, tables_at_risk
from tests.review.conftest import ROWS
from tests.review.scenario import make_pull_request


def test_only_the_pull_requests_findings_are_risks_and_safe_ones_name_their_tables(tmp_path, monkeypatch):
    base = {"0001_old.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\nUPDATE t SET v = 'x';\n"}
    directory = make_pull_request(tmp_path / "repo", base, {"0002_new.sql": "UPDATE t SET v = lower(v);\n"})
    monkeypatch.chdir(tmp_path / "repo")
    history = read_history_change(directory)
    report = lint_migrations(directory)
    assert {finding.file.rsplit("/", 1)[-1] for finding in report.findings} >= {"0001_old.sql", "0002_new.sql"}
    risks = plan_risks(report, history.new_files, plan_schema_changes(history).before)
    assert [(risk.finding.code, risk.finding.file, risk.tables) for risk in risks] == [
        ("SAFE003", "migrations/0002_new.sql", ("t",))]


def test_a_rebuild_names_the_table_it_copies_and_drops(pull_request):
    history = read_history_change(pull_request / "migrations")
    risks = plan_risks(lint_migrations(pull_request / "migrations"), history.new_files,
                       plan_schema_changes(history).before)
    assert {(risk.finding.code, risk.finding.line): risk.tables for risk in risks if risk.tables} == {
        ("SAFE001", 3): ("sessions",), ("SAFE002", 5): ("machines",), ("SAFE001", 15): ("spores",)}
    assert tables_at_risk(risks) == ["machines", "sessions", "spores"]


def test_local_row_counts_come_from_the_local_file_which_stays_unchanged(pull_request):
    path = local_d1_file(load_environment("local").local_database_id)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    counts = read_row_counts("local", ["machines", "sessions", "spores", "session_labels"])
    assert counts.error is None
    assert counts.counts == {"machines": len(ROWS["machines"]), "sessions": len(ROWS["sessions"]),
                             "spores": len(ROWS["spores"]), "session_labels": None}
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_remote_row_counts_are_read_through_the_d1_api_with_two_read_queries(cloudflare_env, monkeypatch):
    database = point_dev_at_new_database(cloudflare_env, monkeypatch)
    tables = [f"t{number}" for number in range(150)]  # more than one query's 100 columns
    connection = sqlite3.connect(database)
    for number, table in enumerate(tables):
        connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        connection.executemany(f"INSERT INTO {table} (id) VALUES (?)", [(row,) for row in range(number % 4)])
    connection.commit()
    connection.close()
    cloudflare_env.reset_counts()
    counts = read_row_counts("dev", tables + ["missing"])
    assert counts.error is None
    assert counts.counts == {**{table: number % 4 for number, table in enumerate(tables)}, "missing": None}
    statements = [json.loads(request.body)["sql"] for request in cloudflare_env.log if request.route == "d1.query"]
    assert len(statements) == 3  # which tables exist, then two counts of at most 100 tables each
    assert all(statement.startswith("SELECT ") for statement in statements)


def test_an_environment_that_cannot_be_read_is_recorded_not_raised(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    monkeypatch.setenv("HYPHAE_STAGING_DATABASE_ID", "00000000-0000-0000-0000-000000000000")
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    counts = read_row_counts("staging", ["sessions"])
    assert counts.counts == {}
    assert "CLOUDFLARE_API_TOKEN is not set" in counts.error


def test_a_fresh_machine_without_a_local_database_counts_no_table():
    counts = read_row_counts("local", ["sessions"])
    assert (counts.error, counts.counts) == (None, {"sessions": None})
    assert not local_d1_file(load_environment("local").local_database_id).exists()

