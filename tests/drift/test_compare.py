"""The structural comparison: each out-of-band change is reported exactly, and nothing else is."""

from __future__ import annotations

import re

from infra.drift.compare import compare_schemas, schema_findings
from infra.drift.normalize import mentioned_names
from infra.drift.schema import read_connection_schema
from tests.drift.replay import migrated_database


def differences_after(*statements: str) -> list[tuple[str, str, str]]:
    expected = read_connection_schema(migrated_database())
    live = migrated_database()
    for statement in statements:
        live.execute(statement)
    return [(d.change, d.object, d.detail) for d in compare_schemas(expected, read_connection_schema(live))]


def test_a_freshly_migrated_database_has_no_differences():
    assert differences_after() == []


def test_an_extra_column_is_reported_with_its_definition():
    assert differences_after("ALTER TABLE sessions ADD COLUMN mood TEXT NOT NULL DEFAULT 'ok'") == [
        ("extra", "column sessions.mood", "mood TEXT NOT NULL DEFAULT 'ok' in the database only"),
    ]


def test_a_dropped_index_is_reported_missing_with_its_columns():
    assert differences_after("DROP INDEX idx_sessions_status") == [
        ("missing", "index idx_sessions_status", "ON sessions(status) in the repository, not in the database"),
    ]


def test_a_changed_default_is_reported_with_both_values():
    live_changes = [
        "ALTER TABLE nodes RENAME TO nodes_old",
        "CREATE TABLE nodes (machine_id TEXT NOT NULL PRIMARY KEY, package_version TEXT, schema_version INTEGER,"
        " sync_protocol_version INTEGER DEFAULT 2, last_seen INTEGER NOT NULL, registered_at INTEGER NOT NULL,"
        " team_key_generation INTEGER)",
        "DROP TABLE nodes_old",
    ]
    assert differences_after(*live_changes) == [
        ("changed", "column nodes.sync_protocol_version", "default: repository none, live 2"),
    ]


def test_an_extra_table_is_reported_with_its_columns():
    assert differences_after("CREATE TABLE scratch (id INTEGER PRIMARY KEY, note TEXT)") == [
        ("extra", "table scratch", "in the database only (columns: id, note)"),
    ]


def test_a_changed_partial_index_where_and_uniqueness_are_reported():
    assert differences_after(
        "DROP INDEX idx_spores_status",
        "CREATE UNIQUE INDEX idx_spores_status ON spores(status) WHERE status <> 'archived'",
    ) == [
        ("changed", "index idx_spores_status",
         "unique: repository no, live yes; partial WHERE: repository none, live status <> 'archived'"),
    ]


def test_quoting_case_and_whitespace_do_not_count():
    expected = migrated_database(up_to=0)
    expected.execute('CREATE TABLE "Notes" (id INTEGER, "Body" text DEFAULT (\'x\'), PRIMARY KEY (id))')
    expected.execute("CREATE INDEX idx_notes_body ON Notes(Body) WHERE Body <> 'y'")
    expected.execute('CREATE VIEW v AS SELECT id FROM Notes WHERE "Body" = \'x\'')
    live = migrated_database(up_to=0)
    live.execute("create table notes (\n  ID integer,\n  body TEXT default 'x',\n  primary key (ID))")
    live.execute('create index IDX_NOTES_BODY on "notes" ( "body" ) where body<>\'y\'')
    live.execute("create   view V as select ID from notes where body='x'")
    assert compare_schemas(read_connection_schema(expected), read_connection_schema(live)) == []


def test_string_literal_case_still_counts():
    assert differences_after(
        "DROP INDEX idx_spores_status",
        "CREATE INDEX idx_spores_status ON spores(status) WHERE status = 'Active'",
    )[0][2] == "partial WHERE: repository none, live status = 'Active'"


def test_ledger_and_internal_tables_are_ignored():
    assert differences_after(
        "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TEXT)",
        "INSERT INTO d1_migrations (name) VALUES ('0001_initial.sql')",  # creates sqlite_sequence
        "CREATE TABLE hyphae_migrations (version INTEGER PRIMARY KEY, sha256 TEXT)",
        "CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB)",
        "CREATE INDEX hyphae_lock_index ON hyphae_migrations(sha256)",
        "ANALYZE",  # creates sqlite_stat1 (and sqlite_stat4 where compiled in)
    ) == []


def test_an_extra_trigger_is_reported():
    changes = differences_after(
        "CREATE TRIGGER touch_plans AFTER UPDATE ON plans BEGIN UPDATE plans SET updated_at = 1; END",
    )
    assert changes == [("extra", "trigger touch_plans", "on plans in the database only")]


def test_a_dropped_unique_constraint_is_reported():
    """Guards against a table's UNIQUE constraints no longer being compared: without it the
    client's upserts into entity_mentions (keyed by that constraint) would fail or duplicate."""
    live = migrated_database()
    (create,) = live.execute("SELECT sql FROM sqlite_schema WHERE name = 'entity_mentions'").fetchone()
    indexes = [sql for (sql,) in live.execute("SELECT sql FROM sqlite_schema WHERE type = 'index' "
                                               "AND tbl_name = 'entity_mentions' AND sql IS NOT NULL")]
    without_unique = re.sub(r",\s*UNIQUE \([^)]*\)", "", create)
    assert without_unique != create
    changes = differences_after("ALTER TABLE entity_mentions RENAME TO entity_mentions_old",
                                without_unique, "DROP TABLE entity_mentions_old", *indexes)
    assert changes == [("changed", "table entity_mentions",
                        "unique constraints: repository ((entity_id, note_id, note_type, agent_id, machine_id)), live none")]


def test_column_order_counts_when_the_table_was_rebuilt():
    changes = differences_after(
        "CREATE TABLE team_config_new (value TEXT NOT NULL, key TEXT NOT NULL PRIMARY KEY)",
        "DROP TABLE team_config",
        "ALTER TABLE team_config_new RENAME TO team_config",
    )
    assert changes == [("changed", "table team_config", "column order: repository key, value, live value, key")]


def test_a_difference_a_pending_migration_explains_is_blamed_on_it():
    expected = read_connection_schema(migrated_database(up_to=4))
    latest = read_connection_schema(migrated_database())
    live = migrated_database(up_to=4)
    live.execute("ALTER TABLE team_dlq ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0")  # from 0005, by hand
    live.execute("ALTER TABLE plans ADD COLUMN owner TEXT")  # nobody's migration
    pending = {"0005_embed_stats_and_dlq_replays.sql": mentioned_names(
        "ALTER TABLE team_dlq ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0;")}
    findings = schema_findings("staging", expected, read_connection_schema(live), latest=latest,
                               pending_migrations=pending)
    assert [(f.code, f.object, f.cause.split(":")[0]) for f in findings] == [
        ("SCH002", "column plans.owner", "changed out of band"),
        ("SCH002", "column team_dlq.replay_count", "migration pending"),
    ]
    assert "0005_embed_stats_and_dlq_replays.sql" in findings[1].cause


def test_a_difference_on_a_table_an_edited_migration_names_is_blamed_on_the_edit():
    expected = read_connection_schema(migrated_database())
    live = migrated_database()
    live.execute("ALTER TABLE team_dlq DROP COLUMN replay_count")
    edited = {"0005_embed_stats_and_dlq_replays.sql": mentioned_names("ALTER TABLE team_dlq ADD COLUMN replay_count")}
    findings = schema_findings("dev", expected, read_connection_schema(live), edited_migrations=edited)
    assert [(f.code, f.object) for f in findings] == [("SCH001", "column team_dlq.replay_count")]
    assert findings[0].cause == "migration edited: 0005_embed_stats_and_dlq_replays.sql changed after it was applied"


def test_a_generated_column_expression_changed_out_of_band_is_reported_with_both_expressions():
    definition = ("CREATE TABLE sizes (id INTEGER PRIMARY KEY, bytes INTEGER NOT NULL,"
                  " kib INTEGER GENERATED ALWAYS AS (bytes / 1024) STORED, label AS (lower(\"Name\")), name TEXT)")
    expected = migrated_database(up_to=0)
    expected.execute(definition)
    same = migrated_database(up_to=0)
    same.execute('create table SIZES (ID integer primary key, BYTES integer not null,'
                 ' KIB integer as ( "bytes"/1024 ) stored, label text generated always as (LOWER(name)) virtual,'
                 ' name TEXT)'.replace("label text", "label"))
    live = migrated_database(up_to=0)
    live.execute(definition.replace("bytes / 1024", "bytes / 1000"))
    assert compare_schemas(read_connection_schema(expected), read_connection_schema(same)) == []
    assert [(d.change, d.object, d.detail) for d in compare_schemas(read_connection_schema(expected),
                                                                    read_connection_schema(live))] == [
        ("changed", "column sizes.kib",
         "generated: repository AS (bytes / 1024) STORED, live AS (bytes / 1000) STORED"),
    ]


def test_a_generated_column_turned_stored_or_plain_is_reported():
    expected = migrated_database(up_to=0)
    expected.execute("CREATE TABLE t (a INT, b INT AS (a * 2))")
    stored = migrated_database(up_to=0)
    stored.execute("CREATE TABLE t (a INT, b INT AS (a * 2) STORED)")
    plain = migrated_database(up_to=0)
    plain.execute("CREATE TABLE t (a INT, b INT)")
    assert [d.detail for d in compare_schemas(read_connection_schema(expected), read_connection_schema(stored))] == [
        "generated: repository AS (a * 2) VIRTUAL, live AS (a * 2) STORED"]
    assert [d.detail for d in compare_schemas(read_connection_schema(expected), read_connection_schema(plain))] == [
        "generated: repository AS (a * 2) VIRTUAL, live none"]


def test_an_index_moved_to_other_columns_or_another_table_names_what_changed():
    """Guards against a changed index being reported without saying which of its table or
    columns differ."""
    assert differences_after(
        "DROP INDEX idx_sessions_status",
        "CREATE INDEX idx_sessions_status ON spores(status, content_hash DESC)",
    ) == [("changed", "index idx_sessions_status",
           "table: repository sessions, live spores; columns: repository (status), live (status, content_hash DESC)")]


def test_a_changed_view_or_trigger_definition_is_reported_with_both_texts():
    """Guards against a view or trigger whose body changed out of band being missed or reported
    without both definitions."""
    expected = migrated_database(up_to=0)
    live = migrated_database(up_to=0)
    expected.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    live.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    expected.execute("CREATE VIEW v AS SELECT a FROM t")
    live.execute("CREATE VIEW v AS SELECT b FROM t")
    expected.execute("CREATE TRIGGER g AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END")
    live.execute("CREATE TRIGGER g AFTER INSERT ON t BEGIN UPDATE t SET a = 2; END")
    differences = compare_schemas(read_connection_schema(expected), read_connection_schema(live))
    assert [(d.change, d.object, d.table, d.detail) for d in differences] == [
        ("changed", "view v", "v", "definition: repository CREATE VIEW v AS SELECT a FROM t, live CREATE VIEW v AS SELECT b FROM t"),
        ("changed", "trigger g", "t", "definition: repository CREATE TRIGGER g after INSERT ON t BEGIN UPDATE t SET a = 1 ; END, "
                                      "live CREATE TRIGGER g after INSERT ON t BEGIN UPDATE t SET a = 2 ; END"),
    ]


def test_a_dropped_expression_index_shows_its_expression():
    """Guards against an expression key (which PRAGMA index_xinfo does not name) being shown as
    anything but the statement's expression."""
    expected = migrated_database(up_to=0)
    expected.execute("CREATE TABLE t (name TEXT, b TEXT)")
    expected.execute("CREATE INDEX idx_t_name ON t(lower(name), b)")
    live = migrated_database(up_to=0)
    live.execute("CREATE TABLE t (name TEXT, b TEXT)")
    assert [(d.change, d.object, d.detail) for d in compare_schemas(read_connection_schema(expected), read_connection_schema(live))] == [
        ("missing", "index idx_t_name", "ON t(LOWER(name), b) in the repository, not in the database")]


def test_an_expression_index_sqlglot_cannot_read_still_has_a_key():
    """Guards against an index statement the lens cannot parse losing its expression keys (or
    failing): each unnamed key reads as <expression>, named ones keep their column."""
    from infra.drift.schema import build_schema

    row = {"type": "index", "name": "idx_odd", "table_name": "t", "sql": "CREATE INDEX idx_odd ON t(((",
           "index_columns": '[[null, 0, "BINARY"], ["b", 1, "NOCASE"]]', "index_flags": '[1, "c", 0]'}
    (index,) = build_schema([row]).indexes.values()
    assert (index.name, index.table, index.keys, index.unique, index.where) == (
        "idx_odd", "t", ("<expression>", "b COLLATE NOCASE DESC"), True, None)


def _compare(expected_sql: list[str], live_sql: list[str]) -> list[tuple[str, str, str]]:
    expected, live = migrated_database(up_to=0), migrated_database(up_to=0)
    for statement in expected_sql:
        expected.execute(statement)
    for statement in live_sql:
        live.execute(statement)
    return [(d.change, d.object, d.detail) for d in compare_schemas(read_connection_schema(expected), read_connection_schema(live))]


def test_every_attribute_of_a_rebuilt_table_is_compared_and_named():
    """Guards against a column's type, NOT NULL, primary key position or generated expression, or
    a table's CHECK constraints, foreign keys or WITHOUT ROWID, changing without a finding that
    names it with both values."""
    parent = "CREATE TABLE p (id INTEGER PRIMARY KEY, other INTEGER UNIQUE)"
    assert _compare(
        [parent, "CREATE TABLE t (a TEXT NOT NULL, b INTEGER, c INTEGER, g INTEGER AS (b + 1) VIRTUAL, "
                 "PRIMARY KEY (a), CHECK (b > 0), FOREIGN KEY (b) REFERENCES p(id) ON DELETE CASCADE) WITHOUT ROWID"],
        [parent, "CREATE TABLE t (a INTEGER, b INTEGER NOT NULL, c INTEGER, g INTEGER AS (b + 2) VIRTUAL, "
                 "PRIMARY KEY (b), FOREIGN KEY (b) REFERENCES p(other))"],
    ) == [
        ("changed", "column t.a", "type: repository TEXT, live INTEGER; NOT NULL: repository yes, live no; "
                                  "primary key position: repository 1, live 0"),
        ("changed", "column t.b", "NOT NULL: repository no, live yes; primary key position: repository 0, live 1"),
        ("changed", "column t.g", "generated: repository AS (b + 1) VIRTUAL, live AS (b + 2) VIRTUAL"),
        ("changed", "table t", "CHECK constraints: repository (b > 0), live none"),
        ("changed", "table t", "foreign keys: repository ((b) REFERENCES p(id) ON UPDATE NO ACTION ON DELETE CASCADE), "
                               "live ((b) REFERENCES p(other) ON UPDATE NO ACTION ON DELETE NO ACTION)"),
        ("changed", "table t", "WITHOUT ROWID: repository yes, live no"),
    ]


def test_missing_and_extra_columns_and_tables_are_described():
    """Guards against a missing or extra column losing its definition, or a missing table its detail."""
    assert _compare(
        ["CREATE TABLE t (id INTEGER PRIMARY KEY, gone, g INTEGER AS (id * 2) STORED NOT NULL)",
         "CREATE TABLE only_here (x)"],
        ["CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER AS (id * 2) STORED NOT NULL)",
         "ALTER TABLE t ADD COLUMN new TEXT NOT NULL DEFAULT 'n'"],
    ) == [
        ("missing", "table only_here", "in the repository, not in the database"),
        ("missing", "column t.gone", "gone (no type) in the repository, not in the database"),
        ("extra", "column t.new", "new TEXT NOT NULL DEFAULT 'n' in the database only"),
    ]


def test_a_missing_generated_primary_key_column_is_described_in_full():
    """Guards against a column's description dropping its primary key position or generated expression."""
    assert _compare(["CREATE TABLE t (a INTEGER, b INTEGER, g INTEGER AS (a + b) STORED, PRIMARY KEY (b, a))"],
                    ["CREATE TABLE t (a INTEGER, b INTEGER, PRIMARY KEY (b, a))"]) == [
        ("missing", "column t.g", "g INTEGER GENERATED ALWAYS AS (a + b) STORED in the repository, not in the database")]
    assert _compare(["CREATE TABLE t (a INTEGER, b INTEGER, PRIMARY KEY (b, a))"], ["CREATE TABLE t (a INTEGER)"]) == [
        ("changed", "column t.a", "primary key position: repository 2, live 0"),
        ("missing", "column t.b", "b INTEGER PRIMARY KEY #1 in the repository, not in the database")]


def test_a_check_dropped_from_a_without_rowid_table_is_reported():
    """Guards against the CHECKs of a WITHOUT ROWID table never being compared (sqlglot reads such a
    statement as an opaque command, which had no CHECK in it)."""
    assert _compare(["CREATE TABLE t (a TEXT PRIMARY KEY, b INTEGER CHECK (b > 0)) WITHOUT ROWID"],
                    ["CREATE TABLE t (a TEXT PRIMARY KEY, b INTEGER) WITHOUT ROWID"]) == [
        ("changed", "table t", "CHECK constraints: repository (b > 0), live none")]


def test_missing_and_extra_indexes_views_and_triggers_are_described():
    """Guards against a missing or extra object's description losing UNIQUE, its partial WHERE, its
    table, or (a view) saying what it is."""
    assert _compare(
        ["CREATE TABLE t (a INTEGER, b TEXT)", "CREATE UNIQUE INDEX u ON t(a) WHERE b > 0", "CREATE VIEW v AS SELECT a FROM t"],
        ["CREATE TABLE t (a INTEGER, b TEXT)", "CREATE TRIGGER g AFTER DELETE ON t BEGIN SELECT 1; END"],
    ) == [
        ("missing", "index u", "UNIQUE ON t(a) WHERE b > 0 in the repository, not in the database"),
        ("missing", "view v", "definition in the repository, not in the database"),
        ("extra", "trigger g", "on t in the database only"),
    ]


def _causes(**kwargs) -> list[tuple[str, str]]:
    """Causes of one extra column, t.c, with the given migrations in play."""
    from infra.drift.schema import Column, Schema, Table

    columns = (Column("a", "INTEGER", False, None, 0),)
    expected = Schema(tables={"t": Table("t", columns)})
    live = Schema(tables={"t": Table("t", columns + (Column("c", "TEXT", False, None, 0),))})
    return [(finding.cause, finding.fix) for finding in schema_findings("staging", expected, live, **kwargs)]


def test_every_migration_that_may_explain_a_difference_is_named():
    """Guards against a likely cause naming one of several migrations, running their names together,
    or failing when no pending migration names the table (then every pending one is named)."""
    assert _causes() == [(
        "changed out of band",
        "if the change is wanted, write it as a migration (`invoke new SLUG`); otherwise undo it in the database")]
    edited = {"0003_b.sql": frozenset({"t"}), "0002_a.sql": frozenset({"t", "x"}), "0004_c.sql": frozenset({"x"})}
    assert _causes(edited_migrations=edited)[0][0] == "migration edited: 0002_a.sql, 0003_b.sql changed after it was applied"
    assert _causes(missing_migrations=("0007_z.sql", "0006_y.sql"))[0][0] == (
        "migration missing: 0006_y.sql, 0007_z.sql applied but its file is gone")


def test_a_difference_a_pending_migration_explains_names_it_or_every_pending_one():
    """Guards against the pending cause naming nothing (or failing) when no pending file names the table."""
    from infra.drift.schema import Column, Schema, Table

    columns = (Column("a", "INTEGER", False, None, 0), Column("c", "TEXT", False, None, 0))
    latest = Schema(tables={"t": Table("t", columns)})
    naming = {"0009_b.sql": frozenset({"t"}), "0008_a.sql": frozenset({"t"}), "0010_c.sql": frozenset({"x"})}
    assert _causes(latest=latest, pending_migrations=naming)[0][0] == (
        "migration pending: 0008_a.sql, 0009_b.sql makes this change but is not recorded as applied")
    unnamed = {"0009_b.sql": frozenset(), "0008_a.sql": frozenset()}
    assert _causes(latest=latest, pending_migrations=unnamed)[0] == (
        "migration pending: 0008_a.sql, 0009_b.sql makes this change but is not recorded as applied",
        "it was applied outside hyphae; record it with `invoke migrate --env staging --adopt`, "
        "or undo it by hand and run `invoke migrate`")


def test_a_review_names_its_own_two_sides_in_every_changed_attribute():
    """Guards against a column, table or index change naming "repository" and "live" when a pull
    request's review compares the history before it with the history after."""
    expected, live = migrated_database(up_to=0), migrated_database(up_to=0)
    expected.execute("CREATE TABLE t (a INTEGER, b TEXT, UNIQUE (a))")
    expected.execute("CREATE INDEX i ON t(a)")
    live.execute("CREATE TABLE t (b TEXT, a TEXT)")
    live.execute("CREATE INDEX i ON t(b)")
    differences = compare_schemas(read_connection_schema(expected), read_connection_schema(live), ("before", "after"))
    assert [d.detail for d in differences] == [
        "type: before INTEGER, after TEXT",
        "column order: before a, b, after b, a",
        "unique constraints: before ((a)), after none",
        "columns: before (a), after (b)",
    ]


def test_a_table_level_change_is_blamed_on_the_edited_migration_that_names_the_table():
    """Guards against a table-level difference (constraints, column order) losing its table, so
    no edited migration could explain it."""
    from infra.drift.schema import Column, Schema, Table

    columns = (Column("a", "INTEGER", False, None, 0), Column("b", "INTEGER", False, None, 0))
    expected = Schema(tables={"t": Table("t", columns, unique_constraints=(("a",),))})
    live = Schema(tables={"t": Table("t", columns[::-1])})
    findings = schema_findings("staging", expected, live, edited_migrations={"0003_t.sql": frozenset({"t"})})
    assert [(f.object, f.cause) for f in findings] == [
        ("table t", "migration edited: 0003_t.sql changed after it was applied"),
        ("table t", "migration edited: 0003_t.sql changed after it was applied")]


def test_a_dropped_table_is_blamed_on_the_edited_migration_that_names_it():
    """Guards against a table missing from the database losing its table, so the edited migration
    that creates it is not blamed (the cause falls to "changed out of band")."""
    from infra.drift.schema import Column, Schema, Table

    expected = Schema(tables={"t": Table("t", (Column("a", "INTEGER", False, None, 0),))})
    findings = schema_findings("staging", expected, Schema(), edited_migrations={"0003_t.sql": frozenset({"t"})})
    assert [(f.code, f.object, f.cause) for f in findings] == [
        ("SCH001", "table t", "migration edited: 0003_t.sql changed after it was applied")]


def test_a_dropped_or_extra_index_is_blamed_on_the_edited_migration_that_names_its_table():
    """Guards against a missing or extra index losing its table (or taking its own name for it),
    so the edited migration that names the table is not blamed."""
    from infra.drift.schema import Column, Index, Schema, Table

    table = Table("t", (Column("a", "INTEGER", False, None, 0),))
    expected = Schema(tables={"t": table}, indexes={"i": Index("i", "t", ("a",), False, None)})
    live = Schema(tables={"t": table}, indexes={"j": Index("j", "t", ("a",), True, None)})
    findings = schema_findings("staging", expected, live, edited_migrations={"0003_t.sql": frozenset({"t"})})
    assert [(f.code, f.object, f.cause) for f in findings] == [
        ("SCH001", "index i", "migration edited: 0003_t.sql changed after it was applied"),
        ("SCH002", "index j", "migration edited: 0003_t.sql changed after it was applied")]
