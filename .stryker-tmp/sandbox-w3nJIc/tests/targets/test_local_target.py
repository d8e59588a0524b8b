"""The local target: the workerd D1 file with D1's rules, batches as transactions, file restore points."""

from __future__ import annotations

import sqlite3

import pytest

from infra.environments import load_environment
from infra.errors import UsageError
from infra.paths import local_d1_file, state_dir
from infra.targets import BatchFailed, BatchStatement, open_target
from infra.targets.local import LocalTarget


@pytest.fixture
def target():
    local = open_target(load_environment("local"))
    yield local
    local.close()


def test_local_writes_the_file_the_local_worker_uses(target):
    target.batch([BatchStatement("CREATE TABLE t (id INTEGER)")])
    assert isinstance(target, LocalTarget)
    assert target.path == local_d1_file("myco-team-local")
    assert sqlite3.connect(target.path).execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]


def test_a_failing_batch_rolls_back_and_names_the_statement(target):
    target.batch([BatchStatement("CREATE TABLE t (id INTEGER PRIMARY KEY)")])
    with pytest.raises(BatchFailed) as caught:
        target.batch([BatchStatement("INSERT INTO t VALUES (1)"), BatchStatement("CREATE TABLE u (id INTEGER)"),
                      BatchStatement("INSERT INTO t VALUES (1)")])
    assert caught.value.index == 2
    assert caught.value.message == "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT_PRIMARYKEY"
    assert target.query("SELECT count(*) AS n FROM t") == [{"n": 0}]
    assert target.query("SELECT name FROM sqlite_master WHERE name = 'u'") == []


def test_a_failed_check_written_on_several_lines_is_reported_on_one(target):
    target.batch([BatchStatement("CREATE TABLE checked (v INTEGER CHECK (v > 0\n  AND v < 10))")])
    with pytest.raises(BatchFailed) as caught:
        target.batch([BatchStatement("INSERT INTO checked VALUES (0)")])
    assert caught.value.message == "CHECK constraint failed: v > 0 AND v < 10: SQLITE_CONSTRAINT_CHECK"


def test_d1_rules_hold_locally(target):
    with pytest.raises(BatchFailed, match="not authorized"):
        target.batch([BatchStatement("CREATE TABLE _cf_mine (id INTEGER)")])
    with pytest.raises(BatchFailed, match="SQLITE_TOOBIG|too large|too big"):
        target.batch([BatchStatement("SELECT '" + "x" * 100_001 + "'")])


def test_a_restore_point_is_a_file_copy_that_restores(target):
    target.batch([BatchStatement("CREATE TABLE before (id INTEGER)")])
    point = target.create_restore_point()
    assert point.kind == "file"
    assert (state_dir() / "restore-points" / "local" / f"{point.reference}.sqlite").is_file()
    target.batch([BatchStatement("CREATE TABLE after (id INTEGER)")])
    target.restore(point.reference)
    assert target.query("SELECT name FROM sqlite_master") == [{"name": "before"}]


def test_an_unknown_restore_point_is_refused_and_lists_known_ones(target):
    target.batch([BatchStatement("CREATE TABLE kept (id INTEGER)")])
    point = target.create_restore_point()
    with pytest.raises(UsageError, match=f"no restore point 'nope' for environment 'local' \\(known: {point.reference}\\)"):
        target.restore("nope")
    with pytest.raises(UsageError):
        target.restore("../../etc/passwd")
    assert target.query("SELECT name FROM sqlite_master") == [{"name": "kept"}]


def test_read_only_never_creates_the_file():
    reader = open_target(load_environment("local"), read_only=True)
    assert reader.query("SELECT count(*) AS n FROM sqlite_master") == [{"n": 0}]
    reader.close()
    assert not local_d1_file("myco-team-local").exists()


def test_an_unknown_restore_point_leaves_no_database_where_there_was_none():
    target = open_target(load_environment("local"))
    try:
        with pytest.raises(UsageError, match="no restore point 'nope'"):
            target.restore("nope")
    finally:
        target.close()
    assert not local_d1_file("myco-team-local").exists()
