"""What the pull request's migrations change: the engine replays both histories, drift's comparison
compares them, and the statements name renames and rebuilds."""

from __future__ import annotations

from infra.review.base import read_history_change
from infra.review.changes import plan_schema_changes
from tests.review.scenario import fixture_files, make_pull_request

BASE = {"0001_initial.sql": """
CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (id TEXT PRIMARY KEY, team_id TEXT NOT NULL REFERENCES teams (id), email TEXT);
CREATE INDEX IF NOT EXISTS idx_members_team ON members (team_id);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, note TEXT);
"""}


def changes_of(tmp_path, pr_files: dict[str, str], base: dict[str, str] = BASE):
    directory = make_pull_request(tmp_path / "repo", base, pr_files)
    return plan_schema_changes(read_history_change(directory))


def summary(result) -> list[tuple[str, str, str]]:
    return [(change.change, change.kind, change.name) for change in result.changes]


def test_the_scenario_adds_a_table_rebuilds_one_drops_a_column_and_renames_one(tmp_path):
    result = changes_of(tmp_path, fixture_files("pull_request"), fixture_files("base"))
    assert summary(result) == [
        ("removed", "column", "sessions.mood"),
        ("renamed", "column", "machines.name → machines.hostname"),
        ("rebuilt", "table", "spores"),
        ("changed", "column", "spores.importance"),
        ("changed", "column", "spores.status"),
        ("added", "table", "session_labels"),
        ("added", "index", "idx_session_labels_label"),
    ]
    assert result.rebuilt_tables == {"spores"}
    assert result.renamed_columns == {("machines", "name"): "hostname"}
    importance = next(change for change in result.changes if change.name == "spores.importance")
    assert importance.detail.startswith("type: before TEXT, after INTEGER; NOT NULL: before no, after yes")
    assert importance.migrations == ("0003_rebuild_spores.sql",)


def test_a_renamed_table_is_one_rename_not_a_removal_and_an_addition(tmp_path):
    result = changes_of(tmp_path, {"0002_rename.sql": "ALTER TABLE audit RENAME TO audit_log;\n"
                                                      "ALTER TABLE audit_log ADD COLUMN at INTEGER;\n"})
    assert result.renamed_tables == {"audit": "audit_log"}
    assert summary(result) == [("renamed", "table", "audit → audit_log"), ("added", "column", "audit_log.at")]
    assert result.changes[0].migrations == ("0002_rename.sql",)


def test_a_dropped_table_and_its_index_are_removed(tmp_path):
    result = changes_of(tmp_path, {"0002_drop.sql": "DROP INDEX idx_members_team;\nDROP TABLE members;\n"})
    assert summary(result) == [("removed", "table", "members"), ("removed", "index", "idx_members_team")]
    assert result.changes[0].detail == "columns: id TEXT PRIMARY KEY #1, team_id TEXT NOT NULL, email TEXT"


def test_create_if_not_exists_on_a_table_that_exists_is_no_rebuild(tmp_path):
    result = changes_of(tmp_path, {"0002_again.sql": "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY);\n"})
    assert result.changes == [] and result.rebuilt_tables == set()


def test_a_table_dropped_and_created_again_is_rebuilt(tmp_path):
    result = changes_of(tmp_path, {"0002_recreate.sql": "DROP TABLE audit;\n"
                                                        "CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT);\n"})
    assert summary(result) == [("rebuilt", "table", "audit")]


def test_a_table_renamed_away_and_a_new_one_in_its_place(tmp_path):
    result = changes_of(tmp_path, {"0002_swap.sql": "ALTER TABLE audit RENAME TO audit_old;\n"
                                                    "CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER);\n"})
    assert result.renamed_tables == {} and result.rebuilt_tables == {"audit"}
    assert ("added", "table", "audit_old") in summary(result)


def test_no_new_migrations_means_no_change(tmp_path):
    result = changes_of(tmp_path, {})
    assert result.changes == [] and result.history.added == []
    assert set(result.before.tables) == set(result.after.tables) == {"teams", "members", "audit"}


def test_a_changed_index_and_a_view_are_changes_of_their_table(tmp_path):
    result = changes_of(tmp_path, {"0002_index.sql": "DROP INDEX idx_members_team;\n"
                                                     "CREATE INDEX idx_members_team ON members (team_id, email);\n"
                                                     "CREATE VIEW team_sizes AS SELECT team_id, count(*) AS n "
                                                     "FROM members GROUP BY team_id;\n"})
    assert summary(result) == [("changed", "index", "idx_members_team"), ("added", "view", "team_sizes")]
    assert result.changes[0].detail == "columns: before (team_id), after (team_id, email)"
    assert result.changed_tables == ["members"]  # a view is no table: the diagram has no entity for it
