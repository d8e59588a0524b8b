"""Rendering: human (grouped by file, line and hint), json (the documented shape), github annotations."""

from __future__ import annotations

import json

from infra.lint.findings import ERROR, WARNING, Finding, LintReport
from infra.lint.report import render

REPORT = LintReport(
    findings=[
        Finding("ORD002", ERROR, "migrations/0002_skills.sql", 55, 1, "no such column: parent_prompt_batch_id", "add the column first"),
        Finding("IDEM001", WARNING, "migrations/0002_skills.sql", 60, 1, "CREATE INDEX without IF NOT EXISTS", "write IF NOT EXISTS"),
        Finding("SAFE001", ERROR, "migrations/0003_x.sql", 3, 5, "DROP TABLE a deletes, 100% of it", "keep it", allowed_reason="archived"),
    ],
    notes=["migrations/hyphae.sum does not exist"],
    files_checked=3,
    statements_checked=40,
)


def test_human_groups_by_file_with_line_code_and_hint():
    text = render(REPORT, "human")
    lines = text.splitlines()
    assert lines[0] == "migrations/0002_skills.sql"
    assert lines[1].split() == ["55:1", "error", "ORD002", "no", "such", "column:", "parent_prompt_batch_id"]
    assert lines[2].strip() == "hint: add the column first"
    assert "migrations/0003_x.sql" in lines and "      reason: archived" in lines
    assert lines[-1] == "lint failed: 3 files, 40 statements, 1 error, 1 warning, 1 allowed"
    assert "note: migrations/hyphae.sum does not exist" in lines


def test_json_is_exactly_findings_with_the_documented_keys_and_a_summary():
    payload = json.loads(render(REPORT, "json"))
    assert list(payload) == ["findings", "summary"]
    assert [list(finding) for finding in payload["findings"]] == [
        ["code", "severity", "file", "line", "column", "message", "hint"]] * 3
    assert payload["findings"][0] == {"code": "ORD002", "severity": "error", "file": "migrations/0002_skills.sql", "line": 55,
                                      "column": 1, "message": "no such column: parent_prompt_batch_id",
                                      "hint": "add the column first"}
    assert payload["findings"][1]["severity"] == "warning"
    assert (payload["findings"][2]["severity"], payload["findings"][2]["hint"]) == ("allowed", "allowed: archived")
    assert payload["summary"] == {"files": 3, "statements": 40, "errors": 1, "warnings": 1, "allowed": 1,
                                  "notes": ["migrations/hyphae.sum does not exist"]}


def test_github_annotations_escape_properties_and_data():
    lines = render(REPORT, "github").splitlines()
    assert lines[0] == ("::error file=migrations/0002_skills.sql,line=55,col=1,title=ORD002::"
                        "no such column: parent_prompt_batch_id. add the column first")
    assert lines[1].startswith("::warning file=migrations/0002_skills.sql,line=60,col=1,title=IDEM001::")
    assert lines[2] == "::notice file=migrations/0003_x.sql,line=3,col=5,title=SAFE001::DROP TABLE a deletes, 100%25 of it (allowed: archived)"
    assert lines[-1] == "lint: 1 error, 1 warning"
