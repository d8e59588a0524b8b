"""docs/rules.md documents every rule, and its examples do what the page says (they are linted here)."""

from __future__ import annotations

import re

import pytest

from infra.lint.rules import RULES
from infra.paths import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "rules.md").read_text()
SECTIONS = dict(re.findall(r"^## ([A-Z][A-Z0-9]*\d{3}) \((?:error|warning)\)[^\n]*\n(.*?)(?=^## |\Z)", DOC, re.M | re.S))
EXAMPLES = {code: dict(re.findall(r"```sql (setup|fails|passes)\n(.*?)```", body, re.S)) for code, body in SECTIONS.items()}
FROM_LEDGER_OR_FILES = {"HIS001", "HIS002", "HIS003", "HIS004", "HIS005"}


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_code_has_a_section_with_its_severity(code):
    assert code in SECTIONS, f"docs/rules.md has no '## {code} (...)' section"
    assert re.search(rf"^## {code} \({RULES[code].severity}\)", DOC, re.M), f"{code}: severity in docs differs from the catalog"


@pytest.mark.parametrize("code", sorted(set(RULES) - FROM_LEDGER_OR_FILES))
def test_failing_example_reports_the_code_and_passing_example_does_not(code, lint_history):
    examples = EXAMPLES[code]
    assert {"setup", "fails", "passes"} <= set(examples), f"{code}: needs setup, fails and passes sql blocks"
    failing = lint_history(examples["setup"], examples["fails"])
    assert code in {finding.code for finding in failing.findings if finding.file.endswith("0002_step_2.sql")}, failing.findings
    passing = lint_history(examples["setup"], examples["passes"])
    assert not passing.errors and not passing.warnings, passing.findings


def test_docs_cover_no_code_the_catalog_lacks():
    assert set(SECTIONS) <= set(RULES)
