"""The linter on real public D1 histories (tests/corpus/, sources in its README.md), with workerd's
local D1 as ground truth, on empty tables and on tables holding a representative row (seeded before
each migration as the linter seeds them; a failure with rows counts when it fails with both text
samples, 'hyphae' and '{}', as the linter requires): every statement workerd refuses is a hyphae
error at that statement, and where workerd accepts a statement both ways hyphae reports an error
only for the reasons listed in KNOWN_ERRORS (safety findings by design, each explained). workerd's
verdicts are committed (tests/corpus/workerd_verdicts.json); the workerd-marked test replays the
corpus again and compares (HYPHAE_REFRESH_CORPUS=1 rewrites the file).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.history.files import read_migrations
from infra.lint import lint_migrations
from infra.lint.splitter import split_statements
from infra.paths import REPO_ROOT
from tests.conftest import node_toolchain_available

CORPUS = REPO_ROOT / "tests" / "corpus"
VERDICTS = CORPUS / "workerd_verdicts.json"
HISTORIES = sorted(path.name for path in CORPUS.iterdir() if path.is_dir())

# Errors where workerd accepts the statement on empty tables and with rows: (history, file, line) ->
# code, and why it stays. None is a false alarm by the measure "workerd accepts and nothing is
# lost": in each, data is lost or put at risk, which workerd does not see (it reports only what
# fails). SAFE001 on a rebuild's DROP TABLE is reported only when the engine saw a column or row not
# arrive in the new table (infra/lint/rebuilds.py); rebuilds that keep everything pass.
_COPY_FAILS = ("SAFE001", "the rebuild's copy just above fails on rows (SAFE005 there): the rows would not reach the new table")
_COLUMN_LEFT_OUT = ("SAFE001", "the rebuild leaves a column out (the generator warned that its data will be lost)")
_BACKFILL = ("SAFE003", "UPDATE without WHERE on a table with rows (D1's 30-second limit)")
KNOWN_ERRORS: dict[tuple[str, str, int], tuple[str, str]] = {
    ("cf0", "0002_rich_marten_broadcloak.sql", 11): ("SAFE005", "the rebuild makes nullable columns NOT NULL: rows with NULL fail"),
    ("cf0", "0002_rich_marten_broadcloak.sql", 12): _COPY_FAILS,
    ("cf0", "0005_open_viper.sql", 12): ("SAFE002", "the rebuild renames token to key: the values move, the Worker reading token breaks"),
    ("cf0", "0006_green_snowbird.sql", 11): ("SAFE001", "the rebuild drops the id column 0005 added"),
    ("cf0", "0008_certain_the_anarchist.sql", 8): _COPY_FAILS,
    ("mailcast", "0001_email_read_state.sql", 5): ("SAFE003", "UPDATE without WHERE on a table that holds mail"),
    ("ngeblogblog", "0001_solid_ezekiel.sql", 1): ("SAFE002", "renames table todos to user"),
    ("ngeblogblog", "0004_nebulous_joshua_kane.sql", 1): ("SAFE001", "DROP COLUMN username"),
    ("planner-viagens", "20240711015812_participants_table2/migration.sql", 21): _COPY_FAILS,
    ("portfolio-cms", "20251225050352_add_blog_content/migration.sql", 17): _COPY_FAILS,
    ("portfolio-cms", "20251225053250_add_blog_content/migration.sql", 16): _COLUMN_LEFT_OUT,
    ("portfolio-cms", "20251225133205_add_experience_fields/migration.sql", 21): _COPY_FAILS,
    ("portfolio-cms", "20251225133205_add_experience_fields/migration.sql", 29): _COPY_FAILS,
    ("portfolio-cms", "20251225134243_add_experience_fields/migration.sql", 17): _COLUMN_LEFT_OUT,
    ("portfolio-cms", "20251225141104_add_service/migration.sql", 16): _COPY_FAILS,
    ("wildebeest", "0001_add-unique-following.sql", 3): ("SAFE005", "a new unique key on a table with rows: duplicates fail it"),
    ("wildebeest", "0007_change_subscriptions_id.sql", 3): ("SAFE001", "drops subscriptions and creates it anew, empty"),
    ("wildebeest", "0010_update_actor_properties.sql", 3): _BACKFILL,
    ("wildebeest", "0010_update_actor_properties.sql", 4): _BACKFILL,
    ("wildebeest", "0010_update_actor_properties.sql", 5): _BACKFILL,
    ("wildebeest", "0010_update_actor_properties.sql", 6): _BACKFILL,
    ("wordy-worker", "0001_add_unique.sql", 1): ("SAFE005", "a new unique key on a table with rows: duplicates fail it"),
}


def statements_of(history: str) -> list[tuple[str, int, str]]:
    """(migration name, line, sql) of every statement of a history, in wrangler's order."""
    return [(migration.name, statement.line, statement.sql)
            for migration in read_migrations(CORPUS / history)
            for statement in split_statements(migration.text)]


# workerd's runs: a fresh database, and rows seeded with each text sample the linter uses.
RUNS = ("empty", "rows:hyphae", "rows:{}")


def files_of(history: str) -> list[list[str]]:
    """Each migration's statements, in wrangler's order."""
    return [[statement.sql for statement in split_statements(migration.text)]
            for migration in read_migrations(CORPUS / history)]


# miniflare's synchronous proxy (node -> workerd) can fail its own internal assertion on a loaded
# machine; that is the stand-in's transport failing, not a verdict, so the replay is run once more.
PROXY_FAILURE = "SynchronousFetcher"


def replay_in_workerd() -> dict:
    payload = json.dumps({"runs": RUNS, "histories": {history: files_of(history) for history in HISTORIES}})
    for _attempt in range(2):
        result = subprocess.run(["node", str(CORPUS / "workerd_replay.mjs")], input=payload, capture_output=True,
                                text=True, cwd=REPO_ROOT, timeout=600)
        if result.returncode == 0 or PROXY_FAILURE not in result.stderr:
            break
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def refusals(verdicts: dict, history: str) -> list[str | None]:
    """Per statement: why workerd refuses it on empty tables or for any plausible row, else None."""
    return [empty or (first if first and second else None)
            for empty, first, second in zip(*(verdicts[run][history] for run in RUNS))]


@pytest.mark.workerd
@pytest.mark.skipif(not node_toolchain_available(), reason="needs node_modules (./run installs it)")
def test_committed_workerd_verdicts_are_what_workerd_says():
    fresh = replay_in_workerd()
    if os.environ.get("HYPHAE_REFRESH_CORPUS"):
        VERDICTS.write_text(json.dumps(fresh, indent=1, ensure_ascii=False) + "\n")
    assert fresh == json.loads(VERDICTS.read_text())


def test_the_corpus_has_25_histories_600_statements_from_wrangler_drizzle_and_prisma_each_with_its_source():
    readme = (CORPUS / "README.md").read_text()
    assert len(HISTORIES) >= 25 and sum(len(statements_of(history)) for history in HISTORIES) >= 600
    assert all(f"| {history} |" in readme for history in HISTORIES)
    assert {"wrangler", "drizzle", "prisma"} <= {kind for kind in ("wrangler", "drizzle", "prisma") if f"| {kind}" in readme}
    verdicts = json.loads(VERDICTS.read_text())
    assert set(verdicts) == set(RUNS) and all(set(verdicts[run]) == set(HISTORIES) for run in RUNS)


@pytest.fixture(scope="module")
def verdicts() -> dict:
    return json.loads(VERDICTS.read_text())


@pytest.mark.parametrize("history", HISTORIES)
def test_errors_match_workerd_statement_by_statement(history, verdicts):
    report = lint_migrations(CORPUS / history, use_cache=False)
    errors = {}
    for finding in report.errors:
        name = next(m.name for m in read_migrations(CORPUS / history) if Path(finding.file).as_posix().endswith(m.name))
        errors.setdefault((name, finding.line), []).append(finding.code)
    statements = statements_of(history)
    assert all(len(verdicts[run][history]) == len(statements) for run in RUNS)
    missed, unexplained = [], []
    for (name, line, sql), refusal in zip(statements, refusals(verdicts, history)):
        codes = errors.pop((name, line), [])
        if refusal and not codes:
            missed.append(f"{name}:{line} workerd refuses ({refusal[:80]}), hyphae reports no error")
        elif not refusal and codes and KNOWN_ERRORS.get((history, name, line), ("",))[0] not in codes:
            unexplained.append(f"{name}:{line} workerd accepts on empty tables and with rows, hyphae reports {codes}")
    assert missed == [] and unexplained == [], (missed, unexplained)


def test_every_listed_error_is_still_reported(verdicts):
    """A stale entry in KNOWN_ERRORS would hide a future false alarm at that line."""
    for (history, name, line), (code, _) in KNOWN_ERRORS.items():
        report = lint_migrations(CORPUS / history, use_cache=False)
        assert any(finding.code == code and finding.line == line and Path(finding.file).as_posix().endswith(name)
                   for finding in report.errors), (history, name, line, code)
