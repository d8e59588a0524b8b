"""The tasks as a user runs them: `invoke migrate|status|restore`, one-line errors, nothing changed, no token."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from migration_history import HISTORY, read_ledger_rows

from infra.d1.rules import read_user_schema
from infra.history.files import read_migrations
from infra.history.sumfile import chain_digests, render_sum
from infra.paths import REPO_ROOT
from infra.runner.apply import MigrateOptions

INVOKE = str(REPO_ROOT / ".venv" / "bin" / "invoke")


def invoke(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([INVOKE, *arguments], cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ),
                          input=stdin, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("hyphae: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0]


def test_migrate_then_status_on_local(history, local_database):
    applied = invoke("migrate", "--path", str(history))
    assert applied.returncode == 0, applied.stderr
    assert "applied 0003_notes.sql (2 statements)" in applied.stdout
    assert "undo with: invoke restore --env local --bookmark " in applied.stdout
    status = invoke("status", "--path", str(history))
    assert status.returncode == 0
    assert "checksums: every applied migration matches its file" in status.stdout and "lock: free" in status.stdout


def test_plan_as_json_lists_statements_and_writes_nothing(history, local_database):
    result = invoke("migrate", "--path", str(history), "--plan", "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [migration["name"] for migration in plan["pending"]] == list(HISTORY)
    assert plan["pending"][2]["statements"][1] == {"line": 2, "sql": "ALTER TABLE projects ADD COLUMN title TEXT;"}
    human = invoke("migrate", "--path", str(history), "--plan", "--to", "0003")
    assert "migrate local (plan: nothing is written)" in human.stdout and "pending: 3 migration(s)" in human.stdout
    assert "    0003_notes.sql (2 statements)\n" in human.stdout
    assert "         2: ALTER TABLE projects ADD COLUMN title TEXT;" in human.stdout
    assert not local_database.exists()


def test_unknown_environment_is_one_line_and_suggests(history, local_database):
    assert_one_line_error(invoke("migrate", "--env", "stagin", "--path", str(history)), 2,
                          "unknown environment 'stagin'", "did you mean 'staging'?")
    assert not local_database.exists()


def test_a_missing_or_malformed_folder_is_one_line(tmp_path, local_database):
    assert_one_line_error(invoke("migrate", "--path", str(tmp_path / "nowhere")), 2, "no such migrations folder")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "0001_latin1.sql").write_bytes(b"-- caf\xe9\nCREATE TABLE t (id INTEGER);\n")
    assert_one_line_error(invoke("migrate", "--path", str(bad)), 2, "0001_latin1.sql: not UTF-8")
    (bad / "0001_latin1.sql").unlink()
    (bad / "Initial Schema.sql").write_text("CREATE TABLE t (id INTEGER);\n")
    # wrangler would apply it; a sum without a baseline applies the numbering rules to every file
    (bad / "hyphae.sum").write_text(render_sum(chain_digests(read_migrations(bad))))
    assert_one_line_error(invoke("migrate", "--path", str(bad)), 1, "HIS001", "nothing was written")
    assert not local_database.exists()


def test_bad_flags_are_one_line(history):
    assert_one_line_error(invoke("migrate", "--path", str(history), "--format", "xml"), 2, "--format 'xml'")
    assert_one_line_error(invoke("migrate", "--path", str(history), "--to", "seven"), 2, "--to 'seven'")
    assert_one_line_error(invoke("restore", "--env", "local"), 2, "--bookmark")


def test_missing_token_for_a_remote_environment_names_the_variable(history, remote_database, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    assert_one_line_error(invoke("migrate", "--env", "dev", "--path", str(history)), 2, "CLOUDFLARE_API_TOKEN is not set")
    assert read_user_schema(remote_database) == []


def test_a_failing_remote_migration_is_one_line_and_the_token_is_never_printed(history, remote_database, cloudflare_env,
                                                                                isolated_state_dir):
    first = invoke("migrate", "--env", "dev", "--path", str(history))
    assert first.returncode == 0, first.stderr
    (history / "0004_bad.sql").write_text("-- hyphae: allow SAFE005 checked by hand\n"
                                          "CREATE UNIQUE INDEX accounts_email ON accounts (email);\n")
    import sqlite3

    connection = sqlite3.connect(remote_database)
    connection.executescript("INSERT INTO accounts (email) VALUES ('a@x'), ('a@x');")
    connection.close()
    failed = invoke("migrate", "--env", "dev", "--path", str(history))
    assert_one_line_error(failed, 1, "0004_bad.sql:2", "UNIQUE constraint failed: accounts.email")
    assert read_ledger_rows(remote_database)[0] == list(HISTORY)
    status = invoke("status", "--env", "dev", "--path", str(history), "--format", "json")
    assert json.loads(status.stdout)["pending"] == ["0004_bad.sql"]
    written = "".join(path.read_bytes().decode("latin-1") for path in Path(isolated_state_dir).rglob("*") if path.is_file())
    for output in (first.stdout, first.stderr, failed.stdout, failed.stderr, status.stdout, status.stderr, written):
        assert cloudflare_env.token not in output


def test_restore_asks_first_and_restores_on_yes(history, local_database):
    first = invoke("migrate", "--path", str(history), "--to", "0001")
    assert "applied 1 migration(s)" in first.stdout
    assert "left pending by --to: 0002_projects.sql, 0003_notes.sql" in first.stdout
    migrated = json.loads(invoke("migrate", "--path", str(history), "--format", "json").stdout)
    assert migrated["applied"] == ["0002_projects.sql", "0003_notes.sql"] and migrated["held_back"] == []
    bookmark = migrated["restore_point"]["bookmark"]
    refused = invoke("restore", "--env", "local", "--bookmark", bookmark)  # no terminal: it must not guess
    assert_one_line_error(refused, 2, "pass --yes")
    assert len(read_ledger_rows(local_database)[0]) == 3
    restored = invoke("restore", "--env", "local", "--bookmark", bookmark, "--yes")
    assert restored.returncode == 0, restored.stderr
    assert read_ledger_rows(local_database)[0] == ["0001_accounts.sql"]


@pytest.mark.parametrize("task", ["migrate", "status", "restore"])
def test_each_task_has_help(task):
    result = invoke(task, "--help")
    assert result.returncode == 0 and "Docstring:" in result.stdout


def test_restoring_a_remote_database_to_an_unknown_bookmark_is_one_line(history, remote_database, cloudflare_env):
    migrated = invoke("migrate", "--env", "dev", "--path", str(history))
    before = read_user_schema(remote_database)
    result = invoke("restore", "--env", "dev", "--bookmark", "00000000-00000000-00000000-nope", "--yes")
    assert_one_line_error(result, 2, "D1 refused to restore", "00000000-00000000-00000000-nope")
    assert read_user_schema(remote_database) == before
    bookmark = next(line for line in migrated.stdout.splitlines() if "undo with: " in line).rsplit(" ", 1)[1]
    restored = invoke("restore", "--env", "dev", "--bookmark", bookmark, "--yes")
    assert restored.returncode == 0 and "to undo: invoke restore --env dev --bookmark " in restored.stdout
    for output in (result.stdout, result.stderr, restored.stdout, restored.stderr):
        assert cloudflare_env.token not in output


def assert_asked_then(result: subprocess.CompletedProcess, question: str, code: int, *fragments: str) -> None:
    """A question on stderr (stdout stays clean for JSON), then what `assert_one_line_error` checks."""
    question_line, rest = result.stderr.split("\n", 1)
    assert question in question_line and question_line.endswith("[y/N] "), result.stderr
    assert_one_line_error(subprocess.CompletedProcess(result.args, result.returncode, result.stdout, rest), code, *fragments)


def invoke_in_terminal(*arguments: str, answer: str) -> subprocess.CompletedProcess:
    """Run a task with a terminal as its stdin, where `answer` is already typed."""
    leader, follower = os.openpty()
    try:
        os.write(leader, answer.encode())
        return subprocess.run([INVOKE, *arguments], cwd=REPO_ROOT, stdin=follower, capture_output=True, text=True,
                              env=dict(os.environ), timeout=120)
    finally:
        os.close(follower)
        os.close(leader)


def _hold_lock(database: Path) -> None:
    import sqlite3

    connection = sqlite3.connect(database)
    connection.execute("INSERT INTO hyphae_lock VALUES (1, 'ci@runner pid 99', 'otherrun', 'elsewhere', 99, "
                       "unixepoch(), unixepoch() + 300)")
    connection.commit()
    connection.close()


def test_the_restore_command_migrate_prints_runs_as_printed_and_asks_first(environment, history):
    import shlex

    env_name, database = environment
    assert invoke("migrate", "--env", env_name, "--path", str(history), "--to", "0001").returncode == 0
    migrated = invoke("migrate", "--env", env_name, "--path", str(history))
    printed = next(line for line in migrated.stdout.splitlines() if "undo with: " in line).split("undo with: ", 1)[1]
    program, *arguments = shlex.split(printed)
    assert program == "invoke" and arguments[:3] == ["restore", "--env", env_name]
    declined = invoke_in_terminal(*arguments, answer="n\n")
    assert_asked_then(declined, "Everything written since is undone.", 2, "restore not confirmed; nothing was changed")
    assert read_ledger_rows(database)[0] == list(HISTORY)
    accepted = invoke_in_terminal(*arguments, answer="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert read_ledger_rows(database)[0] == ["0001_accounts.sql"]


def test_status_shows_the_lock_holder_the_last_restore_point_and_edited_files(environment, history):
    from infra.runner.apply import run_migrate

    env_name, database = environment
    run_migrate(env_name, history, MigrateOptions(to_version=1))
    point = run_migrate(env_name, history).restore_point
    _hold_lock(database)
    (history / "0002_projects.sql").write_text(HISTORY["0002_projects.sql"] + "-- edited\n")
    human = invoke("status", "--env", env_name, "--path", str(history))
    assert human.returncode == 1, human.stderr
    assert "lock: ci@runner pid 99 (run otherrun, lease ends in " in human.stdout
    assert f"last restore point: {point.reference} ({point.kind}, " in human.stdout
    assert "HIS002 0002_projects.sql was edited after it was applied to " + env_name in human.stdout
    data = json.loads(invoke("status", "--env", env_name, "--path", str(history), "--format", "json").stdout)
    assert data["lock"].startswith("ci@runner pid 99 (run otherrun")
    assert data["last_restore_point"]["reference"] == point.reference
    assert [finding["code"] for finding in data["findings"]] == ["HIS002"]
    assert [entry["name"] for entry in data["applied"]] == list(HISTORY) and data["pending"] == []


def test_break_lock_asks_in_a_terminal_and_refuses_without_one(history, local_database):
    assert invoke("migrate", "--path", str(history), "--to", "0001").returncode == 0
    _hold_lock(local_database)
    no_terminal = invoke("migrate", "--path", str(history), "--break-lock")
    assert_one_line_error(no_terminal, 2, "Break the migration lock on local held by ci@runner pid 99", "pass --yes")
    declined = invoke_in_terminal("migrate", "--path", str(history), "--break-lock", "--format", "json", answer="n\n")
    assert_asked_then(declined, "Break the migration lock on local held by ci@runner pid 99", 1,
                      "held by ci@runner pid 99", "not broken (you declined)")
    assert declined.stdout == ""
    assert read_ledger_rows(local_database)[0] == ["0001_accounts.sql"]
    accepted = invoke_in_terminal("migrate", "--path", str(history), "--break-lock", "--format", "json", answer="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "broke the lock held by ci@runner pid 99" in json.loads(accepted.stdout)["notes"]
    assert read_ledger_rows(local_database)[0] == list(HISTORY)


def test_status_on_a_database_wrangler_migrated_says_to_adopt_and_changes_nothing(history, local_database):
    import sqlite3

    from infra.ledger.schema import WRANGLER_TABLE_SQL

    local_database.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(local_database)
    connection.executescript(WRANGLER_TABLE_SQL + ";" + HISTORY["0001_accounts.sql"]
                             + "INSERT INTO d1_migrations (name) VALUES ('0001_accounts.sql');")
    connection.close()
    before = local_database.read_bytes()
    status = invoke("status", "--path", str(history))
    assert status.returncode == 0, status.stderr
    assert "applied  0001_accounts.sql" in status.stdout and "NOT ADOPTED (wrangler)" in status.stdout
    assert "1 migration(s) applied by wrangler are not verified; `invoke migrate --env local --adopt`" in status.stdout
    assert "every applied migration matches" not in status.stdout
    assert local_database.read_bytes() == before


def _damage(database: Path, kind: str) -> None:
    """`not a database`: text where the file should be; `malformed`: a real file with page 1 overwritten."""
    if kind == "not a database":
        database.write_bytes(b"these bytes are not a SQLite database\n" * 200)
        return
    data = bytearray(database.read_bytes())
    data[200:4000] = b"\xab" * 3800  # the schema table's page, past the file header
    database.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["not a database", "malformed"])
def test_a_damaged_local_database_exits_2_naming_the_file_and_restore(history, local_database, kind):
    applied = json.loads(invoke("migrate", "--path", str(history), "--format", "json").stdout)
    bookmark = applied["restore_point"]["bookmark"]
    _damage(local_database, kind)
    damaged = local_database.read_bytes()

    for task in (["migrate"], ["migrate", "--plan"], ["status"])[: 3 if kind == "not a database" else 1]:
        result = invoke(*task, "--path", str(history))
        assert_one_line_error(result, 2, f"local D1 file {local_database} is damaged",
                              f"invoke restore --env local --bookmark {bookmark}")
        assert "d1_migrations" not in result.stderr, "the hint about renaming tables does not apply"
    assert local_database.read_bytes() == damaged, "nothing was written"

    restored = invoke("restore", "--env", "local", "--bookmark", bookmark, "--yes")
    assert restored.returncode == 0, restored.stderr
    assert invoke("migrate", "--path", str(history)).returncode == 0
    assert read_ledger_rows(local_database)[0] == list(HISTORY)


def test_a_damaged_local_database_without_a_restore_point_says_how_to_start_again(history, local_database):
    local_database.parent.mkdir(parents=True, exist_ok=True)
    _damage(local_database, "not a database")
    result = invoke("migrate", "--path", str(history))
    assert_one_line_error(result, 2, f"local D1 file {local_database} is damaged", "no restore point",
                          "move it away")



def test_a_plan_of_an_environment_not_created_yet_is_a_notice_listing_every_migration(history, dev_not_created):
    plan = invoke("migrate", "--env", "dev", "--plan", "--path", str(history))
    assert plan.returncode == 0, plan.stderr
    assert "note: dev is not created yet: 3 migration(s) will be applied by its first deploy" in plan.stdout
    assert "pending: 3 migration(s)" in plan.stdout and "    0003_notes.sql (2 statements)" in plan.stdout
    as_json = json.loads(invoke("migrate", "--env", "dev", "--plan", "--path", str(history), "--format", "json").stdout)
    assert as_json["created"] is False and [entry["name"] for entry in as_json["pending"]] == list(HISTORY)

    applied = invoke("migrate", "--env", "dev", "--yes", "--path", str(history))
    assert applied.returncode == 0, applied.stderr
    assert "dev is not created yet: 3 migration(s) will be applied by its first deploy" in applied.stdout
    status = invoke("status", "--env", "dev", "--path", str(history))
    assert status.returncode == 0, status.stderr
    assert "(not created yet)" in status.stdout and "  pending  0001_accounts.sql" in status.stdout
    assert dev_not_created.requests["d1.create"] == 0 and dev_not_created.requests["d1.query"] == 0


def test_a_database_without_a_stack_output_is_found_by_its_declared_name(history, dev_not_created):
    database_id = dev_not_created.d1.add_database(name="myco-team-dev")
    dev_not_created.d1.add_database(name="myco-team-dev-old")  # the API's name filter is a search
    assert invoke("migrate", "--env", "dev", "--path", str(history)).returncode == 0
    assert read_ledger_rows(dev_not_created.d1.path(database_id))[0] == list(HISTORY)
