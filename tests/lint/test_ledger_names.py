"""D1002 for the migration ledger's names (`d1_migrations`, `hyphae_*`) where the engine lets them through."""

from __future__ import annotations

import pytest

from tests.lint.test_rules import BASE


@pytest.mark.parametrize("body, line", [
    ("-- hyphae: allow SAFE002 test\nALTER TABLE sessions RENAME TO hyphae_sessions;", 2),
    ("-- hyphae: allow SAFE002 test\nALTER TABLE sessions RENAME TO Hyphae_Migrations;", 2),
    ("CREATE VIEW IF NOT EXISTS hyphae_recent AS SELECT id FROM sessions;", 1),
])
def test_a_statement_naming_a_hyphae_ledger_table_is_refused_although_the_engine_allows_it(lint_history, body, line):
    """Guards against D1002 no longer reading statements that name `hyphae_*`: SQLite's authorizer
    refuses only CREATE TABLE of such a name, so a rename or a view would slip into the ledger's names."""
    report = lint_history(BASE, body)
    d1002 = [(finding.line, finding.message) for finding in report.errors if finding.code == "D1002"]
    assert d1002 and d1002[0][0] == line and "is a migrations ledger table" in d1002[0][1], report.findings
