"""CON001/CON002: migrations stay expand-only for the fields of contract/myco-client.yaml.

Small histories whose 0001 creates synced tables named as in the contract; the statement under
test is in 0002. The real history (with 0006's table rebuilds) passes: test_linter.py.
"""

from __future__ import annotations

import pytest

from infra.contract import read_contract
from infra.lint.cache import rules_fingerprint
from infra.lint.rules import contract as contract_rule
from tests.lint.conftest import codes_at

BASE = """CREATE TABLE IF NOT EXISTS spores (id TEXT NOT NULL, machine_id TEXT NOT NULL, content TEXT NOT NULL, tags TEXT,
    synced_at INTEGER, PRIMARY KEY (id, machine_id));
CREATE TABLE IF NOT EXISTS knowledge_release_state (id TEXT NOT NULL, machine_id TEXT NOT NULL, state TEXT NOT NULL, basis_ref TEXT,
    synced_at INTEGER, PRIMARY KEY (id, machine_id));
"""
ALLOW = "-- hyphae: allow SAFE001 test\n"
REBUILD = """CREATE TABLE IF NOT EXISTS spores_new ({columns}, PRIMARY KEY (id, machine_id));
INSERT INTO spores_new ({copied}) SELECT {copied} FROM spores;
-- hyphae: allow SAFE001 table rebuild
DROP TABLE spores;
ALTER TABLE spores_new RENAME TO spores;"""

FAILING = [
    ("CON001", ALLOW + "ALTER TABLE spores DROP COLUMN tags;", 2),
    ("CON001", "-- hyphae: allow SAFE002 test\nALTER TABLE spores RENAME COLUMN content TO body;", 2),
    ("CON001", ALLOW + "DROP TABLE spores;", 2),
    ("CON001", "-- hyphae: allow SAFE002 test\nALTER TABLE spores RENAME TO spores_archive;", 2),
    ("CON001", REBUILD.format(columns="id TEXT NOT NULL, machine_id TEXT NOT NULL, content TEXT NOT NULL, synced_at INTEGER",
                              copied="id, machine_id, content, synced_at"), 5),
    ("CON002", REBUILD.format(columns="id TEXT NOT NULL, machine_id TEXT NOT NULL, content TEXT NOT NULL, tags TEXT NOT NULL, synced_at INTEGER",
                              copied="id, machine_id, content, tags, synced_at"), 5),
    ("CON002", REBUILD.format(columns="id TEXT NOT NULL, machine_id TEXT NOT NULL, content TEXT NOT NULL, tags TEXT, synced_at INTEGER, "
                                      "session_id TEXT NOT NULL DEFAULT '', prompt_batch_id TEXT NOT NULL",
                              copied="id, machine_id, content, tags, synced_at, prompt_batch_id"), 5),
]

PASSING = [
    "ALTER TABLE spores ADD COLUMN importance INTEGER NOT NULL DEFAULT 5;",
    "ALTER TABLE spores ADD COLUMN properties TEXT;",
    REBUILD.format(columns="id TEXT NOT NULL, machine_id TEXT NOT NULL, content TEXT NOT NULL, tags TEXT, synced_at INTEGER, status TEXT DEFAULT 'active'",
                   copied="id, machine_id, content, tags, synced_at"),
    ALLOW + "ALTER TABLE knowledge_release_state DROP COLUMN basis_ref;",  # the client strips basis_ref: not in the contract
    "CREATE TABLE IF NOT EXISTS okf_pages (id TEXT NOT NULL, machine_id TEXT NOT NULL, path TEXT NOT NULL, synced_at INTEGER, PRIMARY KEY (id, machine_id));",
]


@pytest.mark.parametrize(("code", "body", "line"), FAILING, ids=[f"{code}-{n}" for n, (code, _, _) in enumerate(FAILING)])
def test_a_migration_taking_from_a_contract_table_fails_at_the_statement_naming_it(code, body, line, lint_history):
    report = lint_history(BASE, body)
    assert (code, line) in codes_at(report, "0002_step_2.sql"), report.findings
    finding = next(finding for finding in report.findings if finding.code == code)
    assert finding.severity == "error" and "spores" in finding.message


@pytest.mark.parametrize("body", PASSING, ids=[f"passing-{n}" for n in range(len(PASSING))])
def test_expanding_or_rebuilding_with_every_field_passes(body, lint_history):
    report = lint_history(BASE, body)
    assert not report.errors and not report.warnings, report.findings


def test_the_finding_names_the_lost_fields(lint_history):
    report = lint_history(BASE, REBUILD.format(columns="id TEXT NOT NULL, machine_id TEXT NOT NULL, synced_at INTEGER", copied="id, machine_id, synced_at"))
    [finding] = [finding for finding in report.findings if finding.code == "CON001"]
    assert finding.message.startswith("spores loses content, tags: contract field(s) content, tags")


def test_no_comment_allows_a_contract_finding(lint_history):
    report = lint_history(BASE, "-- hyphae: allow CON001 we are sure\n" + ALLOW.strip() + "\nALTER TABLE spores DROP COLUMN tags;")
    assert {"CON001", "LINT001"} <= {finding.code for finding in report.errors}


def test_a_table_that_is_not_a_synced_table_is_not_judged(lint_history):
    report = lint_history("CREATE TABLE IF NOT EXISTS spores (id TEXT NOT NULL PRIMARY KEY, tags TEXT);", ALLOW + "ALTER TABLE spores DROP COLUMN tags;")
    assert [finding.code for finding in report.findings] == ["SAFE001"]


def test_every_contract_table_has_machine_id_and_the_rule_reads_the_repositorys_contract():
    assert all("machine_id" in table.fields for table in read_contract().tables.values())
    assert contract_rule.contract_fingerprint().startswith(b"# The Myco client's side of team sync")


def test_a_changed_contract_changes_the_lint_cache_key(monkeypatch, tmp_path):
    before = rules_fingerprint()
    edited = tmp_path / "contract.yaml"
    edited.write_bytes(contract_rule.contract_fingerprint() + b"\n# edited\n")
    monkeypatch.setattr(contract_rule, "CONTRACT_PATH", edited)
    assert rules_fingerprint() != before
