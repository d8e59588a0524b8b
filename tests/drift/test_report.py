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


def _rich_report(token_actor: str | None = "ops@example.com") -> DriftReport:
    """Two environments (one drifted with a notice and an MCP token record, one clean), and two
    findings across environments."""
    import datetime

    from infra.rotation.status import McpTokenEvent

    at = datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.timezone.utc)
    token = McpTokenEvent("rotated", "552c5040", at, 2, token_actor)
    drifted = EnvironmentReport("staging", [
        DriftFinding("SCH002", "staging", "schema", "extra", "column sessions.mood", "mood TEXT in the database only",
                     "changed out of band", "write it as a migration"),
        DriftFinding("BND001", "staging", "bindings", "missing", "binding MYCO_TEAM_DB", "d1 declared", "changed out of band",
                     "redeploy staging"),
        DriftFinding("SCH001", "staging", "schema", "missing", "index idx_a", "ON a(x) in the repository", "", ""),
        DriftFinding("PEN001", "staging", "history", "pending", "migration 0005_x.sql", "not applied yet", "",
                     "`invoke migrate --env staging` applies it", NOTICE),
    ], applied_version=4, latest_version=5, objects_compared=12, checked=["schema", "history", "bindings"], mcp_token=token)
    clean = EnvironmentReport("production", [], applied_version=5, latest_version=5, objects_compared=13,
                              checked=["schema", "history"])
    parity = [
        DriftFinding("PAR001", "production, staging", "parity", "changed", "binding AI", "on production, not on staging",
                     "changed out of band", "redeploy the odd one out"),
        DriftFinding("PAR002", "production, staging", "parity", "changed", "D1 database db-1", "declared by both",
                     "copied configuration", "give each its own"),
    ]
    return DriftReport([drifted, clean], parity)


def test_the_human_report_shows_every_line_a_reader_needs(monkeypatch):
    """Guards against the terminal report losing or garbling a summary, a finding, its likely
    cause or fix, the notice label, the MCP token line, the count across environments or the
    closing verdict."""
    import datetime

    from infra.rotation import window

    monkeypatch.setattr(window, "utc_now", lambda: datetime.datetime(2026, 11, 23, 13, 0, tzinfo=datetime.timezone.utc))
    assert render(_rich_report(), "human") == (
        "staging: 3 findings (schema: 2, bindings: 1); schema at 0004 of 0005, 12 objects compared; "
        "1 migration pending; checked schema, history, bindings\n"
        "  MCP token 552c5040, rotated 2026-11-20 09:00 UTC by ops@example.com (3 days 4 hours ago)\n"
        "  SCH002 extra column sessions.mood: mood TEXT in the database only\n"
        "      likely cause: changed out of band\n"
        "      fix: write it as a migration\n"
        "  BND001 missing binding MYCO_TEAM_DB: d1 declared\n"
        "      likely cause: changed out of band\n"
        "      fix: redeploy staging\n"
        "  SCH001 missing index idx_a: ON a(x) in the repository\n"
        "  PEN001 (notice) pending migration 0005_x.sql: not applied yet\n"
        "      fix: `invoke migrate --env staging` applies it\n"
        "production: clean; schema at 0005 of 0005, 13 objects compared; checked schema, history\n"
        "across environments: 2 findings\n"
        "  PAR001 changed binding AI: on production, not on staging\n"
        "      likely cause: changed out of band\n"
        "      fix: redeploy the odd one out\n"
        "  PAR002 changed D1 database db-1: declared by both\n"
        "      likely cause: copied configuration\n"
        "      fix: give each its own\n"
        "drift: 5 finding(s); see docs/drift.md for each code\n")


def test_a_clean_human_report_says_none_and_one_parity_finding_is_singular():
    """Guards against a clean report not saying so, and against a wrong plural."""
    assert render(DriftReport([EnvironmentReport("dev", checked=["schema"])]), "human") == "dev: clean; checked schema\ndrift: none\n"
    one = DriftFinding("PAR002", "production, staging", "parity", "changed", "KV namespace k", "declared by both", "", "")
    assert render(DriftReport([], [one]), "human").startswith("across environments: 1 finding\n")


def test_the_markdown_report_is_the_whole_pr_comment():
    """Guards against the PR comment losing its marker, headline, per-environment lines, table
    header, the MCP token (without an actor: no "by"), or the grouped fixes."""
    assert render(_rich_report(token_actor=None), "markdown") == (
        "<!-- hyphae-drift -->\n"
        "**hyphae drift**: 1 of 2 environments drifted, 2 findings across environments\n"
        "\n"
        "- ❌ `staging`: 3 findings (schema: 2, bindings: 1); schema at 0004 of 0005, 12 objects compared; "
        "1 migration pending; checked schema, history, bindings · MCP token 552c5040, rotated 2026-11-20 09:00 UTC\n"
        "- ✅ `production`: clean; schema at 0005 of 0005, 13 objects compared; checked schema, history\n"
        "- ❌ across environments: 2 findings\n"
        "\n"
        "| environment | code | change | object | what differs | likely cause |\n"
        "|---|---|---|---|---|---|\n"
        "| staging | SCH002 | extra | column sessions.mood | mood TEXT in the database only | changed out of band |\n"
        "| staging | BND001 | missing | binding MYCO_TEAM_DB | d1 declared | changed out of band |\n"
        "| staging | SCH001 | missing | index idx_a | ON a(x) in the repository |  |\n"
        "| staging | PEN001 | pending | migration 0005_x.sql | not applied yet |  |\n"
        "| production, staging | PAR001 | changed | binding AI | on production, not on staging | changed out of band |\n"
        "| production, staging | PAR002 | changed | D1 database db-1 | declared by both | copied configuration |\n"
        "\n"
        "<details><summary>How to fix each finding</summary>\n"
        "\n"
        "- `staging` **SCH002** column sessions.mood: write it as a migration\n"
        "- `staging` **BND001** binding MYCO_TEAM_DB: redeploy staging\n"
        "- `staging` **SCH001** index idx_a: \n"
        "- `staging` **PEN001** migration 0005_x.sql: `invoke migrate --env staging` applies it\n"
        "- `production, staging` **PAR001** binding AI: redeploy the odd one out\n"
        "- `production, staging` **PAR002** D1 database db-1: give each its own\n"
        "\n"
        "See docs/drift.md for what each code means.\n"
        "\n"
        "</details>\n")


def test_a_clean_markdown_report_has_no_table():
    """Guards against a clean PR comment carrying an empty table or a wrong headline."""
    assert render(DriftReport([EnvironmentReport("dev", checked=["schema"])]), "markdown") == (
        "<!-- hyphae-drift -->\n**hyphae drift**: no drift\n\n- ✅ `dev`: clean; checked schema\n")


def test_the_json_report_carries_every_field_and_the_token_without_its_value():
    """Guards against the JSON format dropping a field tools key on, or showing the token's record wrongly."""
    data = json.loads(render(_rich_report(), "json"))
    assert data["clean"] is False
    staging, production = data["environments"]
    assert {key: staging[key] for key in staging if key != "findings"} == {
        "environment": "staging", "clean": False, "applied_version": 4, "latest_version": 5, "objects_compared": 12,
        "checked": ["schema", "history", "bindings"],
        "mcp_token": {"fingerprint": "552c5040", "action": "rotated", "at": "2026-11-20T09:00:00Z", "actor": "ops@example.com"}}
    assert staging["findings"][3] == {
        "code": "PEN001", "environment": "staging", "area": "history", "change": "pending", "object": "migration 0005_x.sql",
        "detail": "not applied yet", "cause": "", "fix": "`invoke migrate --env staging` applies it", "severity": "notice"}
    assert production["clean"] is True and production["mcp_token"] is None and production["findings"] == []
    assert [finding["code"] for finding in data["parity"]] == ["PAR001", "PAR002"]


def test_a_table_of_exactly_the_limit_has_no_more_row():
    """Guards against a "0 more" row under a table that shows every finding."""
    text = render(report_with(*(finding(number) for number in range(MAX_TABLE_ROWS))), "markdown")
    assert " more | run `invoke drift --format json` for all" not in text
    assert len([line for line in text.splitlines() if line.startswith("| staging | SCH002")]) == MAX_TABLE_ROWS


def test_a_fix_line_lists_five_objects_and_counts_the_rest():
    """Guards against the fix line's cut-off at five objects moving (a "0 more", or a sixth object hidden)."""
    five = render(report_with(*(finding(number) for number in range(5))), "markdown")
    assert "- `staging` **SCH002** table t0, table t1, table t2, table t3, table t4: undo it\n" in five
    six = render(report_with(*(finding(number) for number in range(6))), "markdown")
    assert "- `staging` **SCH002** table t0, table t1, table t2, table t3, table t4 and 1 more: undo it\n" in six


def test_the_headline_counts_drifted_environments_and_leaves_out_parity_when_there_is_none():
    """Guards against the PR headline claiming findings across environments that do not exist."""
    text = render(report_with(finding(1)), "markdown")
    assert text.splitlines()[1] == "**hyphae drift**: 1 of 1 environment drifted"


def test_the_json_format_is_indented_for_review():
    """Guards against the JSON report collapsing to one line (CI artifacts and reviewers diff it)."""
    assert render(report_with(finding(1)), "json").startswith('{\n  "clean": false,\n  "environments": [\n    {\n')
