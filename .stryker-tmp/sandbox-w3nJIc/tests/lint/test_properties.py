"""Property tests: arbitrary and mangled SQL never makes the linter raise; it reports findings."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.lint import lint_migrations
from infra.lint.splitter import split_statements
from infra.paths import DEFAULT_MIGRATIONS_DIR

HISTORY = [path.read_text() for path in sorted(DEFAULT_MIGRATIONS_DIR.glob("*.sql"))]
SQL_WORDS = ["CREATE", "TABLE", "INDEX", "ALTER", "ADD", "COLUMN", "DROP", "IF", "NOT", "EXISTS", "(", ")", ",", ";",
             "BEGIN", "END", "TRIGGER", "VIEW", "SELECT", "FROM", "WHERE", "'", '"', "--", "/*", "*/", "CASE", "WHEN",
             "PRAGMA", "ATTACH", "_cf_x", "t", "a", "1", "NULL", "DEFAULT", "UNIQUE", "PRIMARY", "KEY", "RENAME", "TO",
             "WITH", "UPDATE", "DELETE", "SET", "\n", "-- hyphae: allow SAFE001 why\n", "-- hyphae: allow SAF01\n"]

settings.register_profile("lint", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lint_text(*bodies: str):
    with tempfile.TemporaryDirectory() as folder:
        for number, body in enumerate(bodies, start=1):
            Path(folder, f"{number:04d}_fuzz.sql").write_text(body, encoding="utf-8", errors="surrogatepass")
        return lint_migrations(Path(folder), use_cache=False)


@settings(settings.get_profile("lint"))
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_arbitrary_text_never_raises(text):
    report = lint_text(text)
    assert report.files_checked == 1
    if split_statements(text) and any(statement.sql.strip() for statement in split_statements(text)):
        assert report.statements_checked >= 1


def lines_plain_sqlite_rejects(setup: str, text: str) -> set[int]:
    """Lines of the statements of `text` that plain SQLite (no D1 rules) refuses after `setup`."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.executescript(setup)
    rejected = set()
    for statement in split_statements(text):
        try:
            connection.execute(statement.sql)
        except Exception:  # noqa: BLE001 - any refusal counts
            rejected.add(statement.line)
    connection.close()
    return rejected


@settings(settings.get_profile("lint"))
@given(st.lists(st.sampled_from(SQL_WORDS), max_size=40).map(" ".join))
def test_sql_shaped_noise_never_raises_and_rejected_statements_become_findings(text):
    report = lint_text(HISTORY[0], text)
    for finding in report.findings:
        assert finding.code and finding.line >= 1 and finding.column >= 1
    lines_with_findings = {finding.line for finding in report.findings if finding.file.endswith("0002_fuzz.sql")}
    assert lines_plain_sqlite_rejects(HISTORY[0], text) <= lines_with_findings


@settings(settings.get_profile("lint"))
@given(st.integers(min_value=0, max_value=len(HISTORY) - 1), st.data())
def test_mangled_history_never_raises(index, data):
    text = HISTORY[index]
    start = data.draw(st.integers(min_value=0, max_value=len(text)))
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 200)))
    insertion = data.draw(st.sampled_from(["", ";", "'", "(", "--", "BEGIN", "END;", "\x00", "/*",
                                                 "\n-- hyphae: allow SAFE001\n", "-- hyphae: allow X1 y"]))
    mangled = text[:start] + insertion + text[end:]
    report = lint_text(*HISTORY[:index], mangled)
    assert report.files_checked == index + 1


def test_unterminated_string_is_a_finding_not_an_exception():
    report = lint_text("CREATE TABLE IF NOT EXISTS t (a TEXT DEFAULT 'oops);")
    assert [finding.code for finding in report.errors] == ["SQL004"]
