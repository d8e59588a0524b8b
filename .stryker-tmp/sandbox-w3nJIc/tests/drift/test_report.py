"""The three renderings of a drift report, from reports built directly."""

from __future__ import annotations

import json

from infra.drift.findings import NOTICE, DriftFinding, DriftReport, EnvironmentReport
from infra.drift.report import MARKER, MAX_TABLE_ROWS, render


def finding(number: int, environment: str = "staging", detail: str = "x") -> DriftFinding:
    return DriftFinding("SCH002", environment, "schema", "extra", f"table t{number}", detail,
                        "changed out of band", "undo it")


def report_with(*findings: DriftFinding, parity=()) -> DriftReport:
    environment = EnvironmentReport("staging", list(findings), applied_version=3, latest_version=4,
                                    objects_compared=10, checked=["schema", "history", "bindings"])
    return DriftReport([environment], list(parity))


def test_a_long_table_is_cut_and_points_at_the_json_format():
    text = render(report_with(*(finding(number) for number in range(MAX_TABLE_ROWS + 50))), "markdown")
    rows = [line for line in text.splitlines() if line.startswith("| staging | SCH002")]
    assert len(rows) == MAX_TABLE_ROWS
    assert "| | | | 50 more | run `invoke drift --format json` for all | |" in text
    assert "- `staging` **SCH002** table t0, table t1, table t2, table t3, table t4 and 145 more: undo it" in text


def test_pipes_and_newlines_cannot_break_the_table():
    text = render(report_with(finding(1, detail="CHECK (a || b)\nsecond line")), "markdown")
    assert "| staging | SCH002 | extra | table t1 | CHECK (a \\|\\| b) second line | changed out of band |" in text


def test_parity_findings_have_their_own_summary_line():
    parity = DriftFinding("PAR002", "production, staging", "parity", "changed", "D1 database db-1",
                          "declared by both production and staging (MYCO_TEAM_DB)", "copied configuration", "fix it")
    text = render(report_with(parity=[parity]), "markdown")
    assert text.startswith(MARKER + "\n**hyphae drift**: 0 of 1 environment drifted, 1 finding across environments\n")
    assert "- ❌ across environments: 1 finding" in text


def test_notices_alone_keep_a_report_clean_in_every_format():
    pending = DriftFinding("PEN001", "staging", "history", "pending", "migration 0004_x.sql", "not applied yet",
                           "", "invoke migrate --env staging", NOTICE)
    report = report_with(pending)
    assert report.clean
    assert json.loads(render(report, "json"))["clean"] is True
    assert render(report, "human").splitlines()[0] == ("staging: clean; schema at 0003 of 0004, 10 objects compared; "
                                                       "1 migration pending; checked schema, history, bindings")
    assert "  PEN001 (notice) pending migration 0004_x.sql: not applied yet" in render(report, "human")
