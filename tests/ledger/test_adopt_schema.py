"""Adoption's schema comparison and its messages: the live schema object by object against the
replay of the applied files, whitespace aside, and every refusal's whole message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from infra.errors import LedgerMismatch
from infra.history.files import read_migrations
from infra.ledger.adopt import files_to_adopt, verify_live_schema
from infra.ledger.read import LedgerState
from infra.ledger.schema import AppliedMigration
from infra.paths import local_d1_file
from infra.runner.apply import MigrateOptions, run_migrate
from infra.targets.local import LocalTarget
from tests.ledger.test_adopt import HISTORY, _folder, _wrangler_migrated


def live(tmp_path: Path, *statements: str) -> LocalTarget:
    database = tmp_path / "live.sqlite"
    connection = sqlite3.connect(database)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return LocalTarget(database)


def refusal(target, files) -> str:
    with pytest.raises(LedgerMismatch) as caught:
        verify_live_schema(target, files)
    return str(caught.value)


def test_a_live_schema_laid_out_differently_is_still_the_history(tmp_path):
    """Guards against whitespace deciding the comparison: wrangler and hand-made databases keep the
    statement's text as it was sent, line breaks and all."""
    folder = _folder(tmp_path, {"0001_accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"})
    target = live(tmp_path, "CREATE TABLE accounts (id INTEGER PRIMARY KEY,\n\temail   TEXT NOT NULL)")
    verify_live_schema(target, read_migrations(folder))
    target.close()


def test_an_object_whose_definition_differs_is_refused_quoting_both_up_to_120_characters(tmp_path):
    """Guards against adoption comparing only the objects' names: a column changed by hand would be adopted."""
    wide = ", ".join(f"column_{n} TEXT" for n in range(12))
    folder = _folder(tmp_path, {"0001_wide.sql": f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {wide});\n"})
    target = live(tmp_path, f"CREATE TABLE wide (id TEXT PRIMARY KEY, {wide})")
    database_sql = f"CREATE TABLE wide (id TEXT PRIMARY KEY, {wide})"[:120]
    files_sql = f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {wide})"[:120]
    assert refusal(target, read_migrations(folder)) == (
        f"cannot adopt local D1 file {target.path}: its schema is not the replay of the 1 applied migration files "
        f"(table wide differs: database has `{database_sql}`, files give `{files_sql}`); bring the database or the "
        "files in line (see `invoke drift`), then adopt")
    target.close()


def test_an_object_missing_from_the_database_is_named(tmp_path):
    folder = _folder(tmp_path, HISTORY)
    target = live(tmp_path, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL)",
                  "CREATE TABLE projects (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id))")
    assert "(index projects_account is missing from the database)" in refusal(target, read_migrations(folder))
    target.close()


def test_a_history_that_does_not_replay_is_refused_naming_file_and_line(tmp_path):
    folder = _folder(tmp_path, {"0001_twice.sql": "CREATE TABLE a (id INTEGER);\n\nCREATE TABLE a (id INTEGER);\n"})
    target = live(tmp_path)
    assert refusal(target, read_migrations(folder)) == (
        f"cannot adopt: replaying {folder / '0001_twice.sql'}:3 fails (table a already exists); "
        "the applied history does not replay")
    target.close()


def test_a_missing_applied_file_refuses_adoption_saying_to_restore_it(tmp_path):
    folder = _folder(tmp_path, {"0001_accounts.sql": HISTORY["0001_accounts.sql"]})
    state = LedgerState([AppliedMigration("0001_accounts.sql", "t", None), AppliedMigration("0002_projects.sql", "t", None)])
    with pytest.raises(LedgerMismatch) as caught:
        files_to_adopt(read_migrations(folder), state, "staging")
    assert str(caught.value) == ("HIS003 0002_projects.sql is recorded as applied in staging but the file is missing from "
                                 "the migrations folder; restore it from git, then adopt")


def test_adoption_through_migrate_refuses_a_changed_definition_and_writes_nothing(tmp_path):
    folder = _folder(tmp_path, HISTORY)
    database = local_d1_file("myco-team-local")
    changed = {**HISTORY, "0001_accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT);\n"}
    _wrangler_migrated(database, changed, list(HISTORY))
    before = database.read_bytes()
    with pytest.raises(LedgerMismatch, match=r"table accounts differs: database has `CREATE TABLE accounts \(id INTEGER "
                                             r"PRIMARY KEY, email TEXT\)`, files give `CREATE TABLE accounts"):
        run_migrate("local", folder, MigrateOptions(adopt=True))
    assert database.read_bytes() == before
