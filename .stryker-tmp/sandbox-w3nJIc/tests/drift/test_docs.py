"""docs/drift.md documents every finding code drift can report, and the command's flags."""

from __future__ import annotations

import re

from infra.paths import REPO_ROOT

DRIFT_SOURCES = sorted((REPO_ROOT / "infra" / "drift").glob("*.py"))


def codes_reported() -> set[str]:
    codes = set()
    for path in DRIFT_SOURCES:
        codes |= set(re.findall(r'"((?:SCH|PEN|NEW|BND|CFG|PAR|CON)\d{3})"', path.read_text()))
    return codes | {"HIS002", "HIS003", "HIS004"}


def test_every_code_has_a_row_in_the_docs():
    docs = (REPO_ROOT / "docs" / "drift.md").read_text()
    documented = set(re.findall(r"^\| ([A-Z]{3}\d{3}) \|", docs, flags=re.MULTILINE))
    assert codes_reported() - documented == set(), "codes reported by infra/drift/ but missing from docs/drift.md"
    assert len(codes_reported()) == 16  # SCH001-003, HIS002-004, PEN001, NEW001, BND001-004, CFG001, PAR001-002, CON003


def test_the_docs_show_every_flag_of_the_task():
    from infra.commands.drift import drift

    docs = (REPO_ROOT / "docs" / "drift.md").read_text()
    for flag in ("--env", "--all", "--path", "--format"):
        assert flag in docs
    assert set(drift.help) == {"env", "all", "path", "format"}
