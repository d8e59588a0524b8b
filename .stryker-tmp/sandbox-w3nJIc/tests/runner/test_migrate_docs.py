"""docs/migrate.md documents every flag of the tasks and every ledger table."""

from __future__ import annotations

from infra.commands.migrate import migrate, restore, status
from infra.ledger.schema import LEDGER_TABLES
from infra.paths import REPO_ROOT

DOCS = (REPO_ROOT / "docs" / "migrate.md").read_text()


def test_every_flag_of_the_tasks_is_documented():
    for task in (migrate, status, restore):
        for flag in task.help:
            assert f"--{flag}" in DOCS, f"--{flag} of invoke {task.name} is missing from docs/migrate.md"


def test_every_ledger_table_is_documented():
    for table in LEDGER_TABLES:
        assert f"`{table}(" in DOCS, f"ledger table {table} is missing from docs/migrate.md"


def test_the_documented_lease_matches_the_code():
    from infra.ledger.lock import LEASE_SECONDS
    from infra.runner.batches import REQUEST_BUDGET

    assert f"expires {LEASE_SECONDS} s" in DOCS and f"at most {REQUEST_BUDGET} per request" in DOCS
