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

# Errors where workerd accepts the statement: (history, file, line) -> code, and why it stays.
# None of them is a false alarm by the measure "workerd accepts on empty tables and nothing is
# lost": SAFE003 is a whole-table backfill (D1's 30-second limit), the SAFE005 ones are data
# hazards workerd's empty-table replay cannot see, and the SAFE001 is a rebuild whose copy fails on
# rows holding NULL, so its rows would not reach the new table (rebuilds that copy every column and
# row are proven by the engine and not reported, infra/lint/rebuilds.py).
KNOWN_ERRORS: dict[tuple[str, str, int], tuple[str, str]] = {
    ("cf0", "0002_rich_marten_broadcloak.sql", 11): ("SAFE005", "the rebuild makes nullable columns NOT NULL: rows with NULL fail"),
    ("cf0", "0002_rich_marten_broadcloak.sql", 12): ("SAFE001", "the copy just above fails with rows holding NULL"),
    ("mailcast", "0001_email_read_state.sql", 5): ("SAFE003", "UPDATE without WHERE on a table that holds mail"),
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


def replay_in_workerd() -> dict:
    payload = json.dumps({"runs": RUNS, "histories": {history: files_of(history) for history in HISTORIES}})
    result = subprocess.run(["node", str(CORPUS / "workerd_replay.mjs")], input=payload, capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=600)
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


def test_the_corpus_has_15_histories_from_wrangler_drizzle_and_prisma():
    readme = (CORPUS / "README.md").read_text()
    assert len(HISTORIES) >= 15 and all(f"| {history} |" in readme for history in HISTORIES)
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
