"""Edges of the rules a plain fixture does not reach: quoted and upper-case names, tables without a
key, the sum's baseline line, every field of a history finding. Each test names the bug it guards
against (found by `invoke mutate --module lint-rules`, docs/mutation.md)."""

from __future__ import annotations

from pathlib import Path

from infra.history.files import read_migrations
from infra.history.sumfile import chain_digests, render_sum, write_sum
from infra.lint import lint_migrations
from infra.lint.rules import RULES
from infra.lint.rules import contract as contract_rule


def _findings(report):
    return [(finding.code, finding.line, finding.message) for finding in report.findings]


def test_his005_points_at_the_stale_entry_when_the_sum_has_a_baseline_line(tmp_path):
    """Guards against the stale entry's line counted with the `baseline:` line as an entry (one line early)."""
    for name in ["001_a.sql", "002_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    write_sum(tmp_path, read_migrations(tmp_path))  # header, baseline comment, baseline line, two entries
    (tmp_path / "002_b.sql").write_text("SELECT 2;\n")
    lines = (tmp_path / "hyphae.sum").read_text().splitlines()
    (finding,) = lint_migrations(tmp_path).findings
    assert (finding.code, lines[finding.line - 1].split()[0]) == ("HIS005", "002_b.sql")


def test_history_findings_carry_column_1_and_the_rule_s_hint(tmp_path):
    """Guards against HIS001/HIS005 findings losing the column or the hint CI shows with them."""
    for name in ["0001_a.sql", "0003_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    (tmp_path / "hyphae.sum").write_text(render_sum(chain_digests(read_migrations(tmp_path))))
    (tmp_path / "0001_a.sql").write_text("SELECT 2;\n")
    findings = lint_migrations(tmp_path).findings
    assert [(finding.code, finding.line, finding.column, finding.hint) for finding in findings] == [
        ("HIS001", 1, 1, RULES["HIS001"].hint), ("HIS005", 2, 1, RULES["HIS005"].hint)]


def test_an_empty_sum_is_stale_at_its_first_line(tmp_path):
    """Guards against the stale line of a sum without entries pointing past the file."""
    (tmp_path / "0001_a.sql").write_text("SELECT 1;\n")
    (tmp_path / "hyphae.sum").write_text("")
    assert [(finding.code, finding.line) for finding in lint_migrations(tmp_path).findings] == [("HIS005", 1)]


def test_a_sum_with_bytes_that_are_not_utf8_is_stale_at_that_entry(tmp_path):
    """Guards against a damaged sum crashing the linter instead of showing where it is stale."""
    for name in ["0001_a.sql", "0002_b.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    text = render_sum(chain_digests(read_migrations(tmp_path)))
    damaged = text.replace("0002_b.sql", "0002_\xff.sql").encode("latin-1")
    Path(tmp_path / "hyphae.sum").write_bytes(damaged)
    report = lint_migrations(tmp_path)
    assert [(finding.code, finding.line) for finding in report.findings] == [("HIS005", 3)]


def test_without_a_contract_file_the_fingerprint_is_empty(monkeypatch, tmp_path):
    """Guards against a repository without contract/myco-client.yaml failing to build the lint cache key."""
    monkeypatch.setattr(contract_rule, "CONTRACT_PATH", tmp_path / "missing.yaml")
    assert contract_rule.contract_fingerprint() == b""
