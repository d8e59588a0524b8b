"""CON003: a database that cannot store every field of contract/myco-client.yaml, read through
the same schema reader as drift (live side: a real SQLite database)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from infra.artifact.allowlist import replay_migrations
from infra.contract import read_contract
from infra.drift.contract import affinity, contract_findings, read_problems
from infra.drift.schema import read_connection_schema
from infra.paths import DEFAULT_MIGRATIONS_DIR


@pytest.fixture
def migrated() -> sqlite3.Connection:
    connection = replay_migrations(DEFAULT_MIGRATIONS_DIR)
    yield connection
    connection.close()


def findings_after(connection: sqlite3.Connection, *statements: str) -> list[tuple[str, str, str]]:
    applied = read_connection_schema(connection)
    for statement in statements:
        connection.execute(statement)
    live = read_connection_schema(connection)
    return [(finding.code, finding.change, finding.object) for finding in contract_findings("staging", live, applied)]


def test_the_repositorys_schema_stores_every_contract_field(migrated):
    assert read_problems(read_connection_schema(migrated), read_contract()) == {}


def test_a_missing_column_and_a_missing_table_are_drift(migrated):
    findings = findings_after(migrated, "ALTER TABLE spores DROP COLUMN tags", "DROP TABLE okf_pages")
    assert findings == [("CON003", "missing", "column spores.tags"), ("CON003", "missing", "table okf_pages")]


def test_an_integer_id_column_is_drift_because_the_manifest_would_no_longer_match(migrated):
    findings = findings_after(
        migrated,
        "CREATE TABLE digest_extracts_int (id INTEGER NOT NULL, machine_id TEXT NOT NULL, project_id TEXT, agent_id TEXT, tier INTEGER, "
        "content TEXT, substrate_hash TEXT, generated_at INTEGER, synced_at INTEGER, PRIMARY KEY (id, machine_id))",
        "DROP TABLE digest_extracts", "ALTER TABLE digest_extracts_int RENAME TO digest_extracts")
    assert findings == [("CON003", "changed", "column digest_extracts.id")]


def test_a_not_null_column_the_client_never_sends_is_drift_and_one_with_a_default_is_not(migrated):
    applied = read_connection_schema(migrated)
    assert findings_after(migrated, "ALTER TABLE sessions ADD COLUMN reviewer TEXT NOT NULL DEFAULT 'x'") == []
    live = read_connection_schema(_with_required_column())
    assert [(f.code, f.change, f.object) for f in contract_findings("staging", live, applied)] == [
        ("CON003", "changed", "column sessions.reviewer")]


def _with_required_column() -> sqlite3.Connection:
    connection = replay_migrations(DEFAULT_MIGRATIONS_DIR)
    connection.executescript("""
        CREATE TABLE sessions_new AS SELECT * FROM sessions;
        DROP TABLE sessions;
        CREATE TABLE sessions (id TEXT NOT NULL, machine_id TEXT NOT NULL, agent TEXT, "user" TEXT, project_root TEXT, project_id TEXT,
          branch TEXT, started_at INTEGER, ended_at INTEGER, status TEXT, prompt_count INTEGER, tool_count INTEGER, title TEXT,
          summary TEXT, transcript_path TEXT, parent_session_id TEXT, parent_session_reason TEXT, processed INTEGER,
          content_hash TEXT, created_at INTEGER, synced_at INTEGER, reviewer TEXT NOT NULL, PRIMARY KEY (id, machine_id));
    """)
    return connection


def test_an_empty_database_is_left_to_the_pending_migrations(migrated):
    empty = sqlite3.connect(":memory:")
    assert contract_findings("local", read_connection_schema(empty), read_connection_schema(empty)) == []


@pytest.mark.parametrize("declared, expected", [("TEXT", "TEXT"), ("INTEGER", "INTEGER"), ("BIGINT", "INTEGER"), ("VARCHAR(20)", "TEXT"),
                                                 ("", "BLOB"), ("REAL", "REAL"), ("DOUBLE", "REAL"), ("NUMERIC", "NUMERIC"), ("BOOLEAN", "NUMERIC")])
def test_affinity_follows_sqlites_rules(declared, expected):
    assert affinity(declared) == expected


def test_the_finding_names_the_consequence_and_the_fix(migrated):
    applied = read_connection_schema(migrated)
    migrated.execute("ALTER TABLE prompt_batches DROP COLUMN thread_id")
    [finding] = contract_findings("production", read_connection_schema(migrated), applied)
    assert (finding.environment, finding.area, finding.severity, finding.cause) == ("production", "contract", "drift", "changed out of band")
    assert "every write to prompt_batches fails" in finding.detail and "as the migrations define it" in finding.fix
    assert Path("contract/myco-client.yaml").name in finding.fix


@pytest.mark.parametrize("declared, expected", [("CLOB", "TEXT"), ("NCHAR(5)", "TEXT"), ("BLOB", "BLOB"), ("FLOAT", "REAL"),
                                                 ("DOUBLE PRECISION", "REAL"), ("  ", "BLOB"), ("int", "INTEGER"),
                                                 ("DECIMAL(10,5)", "NUMERIC"), ("DATETIME", "NUMERIC"),
                                                 ("POINT", "INTEGER")])
def test_affinity_follows_sqlites_rules_in_their_order(declared, expected):
    """Guards against an affinity rule dropped, reordered, or case-sensitive (sqlite.org/datatype3.html §3.1)."""
    assert affinity(declared) == expected


def test_each_problem_says_what_it_costs_the_client(migrated):
    """Guards against a CON003 detail losing the consequence a reader acts on."""
    applied = read_connection_schema(migrated)
    migrated.execute("ALTER TABLE spores DROP COLUMN tags")
    migrated.execute("DROP TABLE okf_pages")
    details = {f.object: (f.change, f.detail) for f in contract_findings("staging", read_connection_schema(migrated), applied)}
    assert details == {
        "column spores.tags": ("missing", "the client sends tags: every write to spores fails (dead-lettered, see /dlq) "
                                          "until the column is back"),
        "table okf_pages": ("missing", "the client syncs okf_pages: every write to it fails (dead-lettered, see /dlq) "
                                       "until the table is back")}
    live = read_connection_schema(_with_required_column())
    [required] = contract_findings("staging", live, applied)
    assert required.detail == "NOT NULL without a default and not a field the client sends: every write to sessions fails"


def test_an_integer_id_finding_names_the_type_and_the_consequence(migrated):
    """Guards against the affinity finding losing the declared type or why it breaks reconcile."""
    applied = read_connection_schema(migrated)
    migrated.executescript(
        "CREATE TABLE digest_extracts_int (id INTEGER NOT NULL, machine_id TEXT NOT NULL, project_id TEXT, agent_id TEXT, "
        "tier INTEGER, content TEXT, substrate_hash TEXT, generated_at INTEGER, synced_at INTEGER, PRIMARY KEY (id, machine_id));"
        "DROP TABLE digest_extracts; ALTER TABLE digest_extracts_int RENAME TO digest_extracts;")
    [finding] = contract_findings("staging", read_connection_schema(migrated), applied)
    assert finding.detail == ('INTEGER affinity turns the text id "123" into 123: the manifest no longer matches the '
                              "client's id and it deletes its own row")


def test_only_a_required_column_the_client_cannot_fill_refuses_records(migrated):
    """Guards against flagging a NOT NULL column that is a key, generated, defaulted or synced_at
    (the Worker fills those), or missing the one the client cannot fill."""
    import dataclasses

    from infra.drift.schema import Column

    schema = read_connection_schema(migrated)
    sessions = schema.tables["sessions"]
    extra = (Column("synced_at_copy", "INTEGER", True, None, 0), Column("g", "INTEGER", True, None, 0, "AS (1) STORED"),
             Column("k", "TEXT", True, None, 3), Column("d", "TEXT", True, "'x'", 0), Column("n", "TEXT", False, None, 0))
    columns = tuple(column for column in sessions.columns if column.name != "synced_at")
    schema.tables["sessions"] = dataclasses.replace(
        sessions, columns=columns + (Column("synced_at", "INTEGER", True, None, 0),) + extra)
    assert read_problems(schema, read_contract()) == {
        "column sessions.synced_at_copy": ("changed", "NOT NULL without a default and not a field the client sends: "
                                                      "every write to sessions fails")}


def test_a_missing_table_does_not_stop_the_check_of_the_tables_after_it(migrated):
    """Guards against the first missing table (sessions) hiding every problem of the tables after it."""
    applied = read_connection_schema(migrated)
    migrated.execute("DROP TABLE sessions")
    migrated.execute("ALTER TABLE spores DROP COLUMN tags")
    live = read_connection_schema(migrated)
    assert [(f.change, f.object) for f in contract_findings("staging", live, applied)] == [
        ("missing", "column spores.tags"), ("missing", "table sessions")]


@pytest.mark.parametrize("declared", ["REAL", "NUMERIC", "BIGINT"])
def test_a_text_id_stored_with_a_numeric_affinity_is_a_problem(migrated, declared):
    """Guards against a REAL or NUMERIC key column (which turns "123" into a number as INTEGER does) passing."""
    import dataclasses

    schema = read_connection_schema(migrated)
    sessions = schema.tables["sessions"]
    schema.tables["sessions"] = dataclasses.replace(sessions, columns=tuple(
        dataclasses.replace(column, type=declared) if column.name == "id" else column for column in sessions.columns))
    assert list(read_problems(schema, read_contract())) == ["column sessions.id"]


def test_a_required_synced_at_the_client_never_sends_does_not_refuse_records(migrated):
    """Guards against flagging a NOT NULL synced_at on a table whose contract does not list it
    (skill_usage): the Worker fills synced_at itself whenever the table has that column."""
    import dataclasses

    schema = read_connection_schema(migrated)
    assert "synced_at" not in read_contract().tables["skill_usage"].fields
    usage = schema.tables["skill_usage"]
    schema.tables["skill_usage"] = dataclasses.replace(usage, columns=tuple(
        dataclasses.replace(column, not_null=True, default=None) if column.name == "synced_at" else column
        for column in usage.columns))
    assert schema.tables["skill_usage"].column("synced_at").not_null
    assert read_problems(schema, read_contract()) == {}
