"""Rendering a DriftReport: `human` for a terminal, `json` for tools, `markdown` for one PR comment.

The markdown starts with a hidden marker (`MARKER`) so CI can find and update the same comment,
then one summary line per environment, one table of findings, and the fixes in a collapsed
`<details>`. It holds no timestamps or durations: the same drift renders the same text, so an
unchanged report does not churn the comment. Pure.
"""

from __future__ import annotations

import json

from infra.drift.findings import DRIFT, NOTICE, DriftFinding, DriftReport, EnvironmentReport

MARKER = "<!-- hyphae-drift -->"
FORMATS = ("human", "json", "markdown")
MAX_TABLE_ROWS = 100


def render(report: DriftReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    if output_format == "markdown":
        return render_markdown(report)
    return render_human(report)


def summary_line(report: EnvironmentReport) -> str:
    """`clean` or the count of findings per area, then what was compared and what is pending."""
    if any(finding.code == "NEW001" for finding in report.notices):
        pending = sum(1 for finding in report.notices if finding.code == "PEN001")
        return f"not created yet: {_count(pending, 'migration')} will be applied by its first deploy"
    if report.clean:
        status = "clean"
    else:
        areas: dict[str, int] = {}
        for finding in report.drift:
            areas[finding.area] = areas.get(finding.area, 0) + 1
        counts = ", ".join(f"{area}: {count}" for area, count in areas.items())
        status = f"{_count(len(report.drift), 'finding')} ({counts})"
    facts = []
    if report.applied_version is not None:
        facts.append(f"schema at {report.applied_version:04d} of {report.latest_version:04d}, "
                     f"{report.objects_compared} objects compared")
    pending = sum(1 for finding in report.notices if finding.code == "PEN001")
    if pending:
        facts.append(f"{_count(pending, 'migration')} pending")
    if report.checked:
        facts.append("checked " + ", ".join(report.checked))
    return "; ".join([status, *facts])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def render_human(report: DriftReport) -> str:
    lines = []
    for environment in report.environments:
        lines.append(f"{environment.environment}: {summary_line(environment)}")
        for finding in environment.findings:
            lines += _human_finding(finding)
    if report.parity:
        lines.append(f"across environments: {len(report.parity)} finding{'s' if len(report.parity) != 1 else ''}")
        for finding in report.parity:
            lines += _human_finding(finding)
    drift_count = sum(1 for finding in report.findings if finding.severity == DRIFT)
    lines.append("drift: none" if report.clean else f"drift: {drift_count} finding(s); see docs/drift.md for each code")
    return "\n".join(lines) + "\n"


def _human_finding(finding: DriftFinding) -> list[str]:
    label = f"{finding.code} (notice)" if finding.severity == NOTICE else finding.code
    lines = [f"  {label} {finding.change} {finding.object}: {finding.detail}"]
    if finding.cause:
        lines.append(f"      likely cause: {finding.cause}")
    if finding.fix:
        lines.append(f"      fix: {finding.fix}")
    return lines


def render_markdown(report: DriftReport) -> str:
    lines = [MARKER, f"**hyphae drift**: {_headline(report)}", ""]
    for environment in report.environments:
        icon = "✅" if environment.clean else "❌"
        lines.append(f"- {icon} `{environment.environment}`: {summary_line(environment)}")
    if report.parity:
        lines.append(f"- ❌ across environments: {_count(len(report.parity), 'finding')}")
    if report.findings:
        lines += ["", *findings_table(report.findings), "", *fix_lines(report.findings)]
    return "\n".join(lines) + "\n"


def _headline(report: DriftReport) -> str:
    if report.clean:
        return "no drift"
    drifted = sum(1 for environment in report.environments if not environment.clean)
    headline = f"{drifted} of {_count(len(report.environments), 'environment')} drifted"
    return headline + (f", {_count(len(report.parity), 'finding')} across environments" if report.parity else "")


def findings_table(findings: list[DriftFinding], limit: int = MAX_TABLE_ROWS) -> list[str]:
    """The findings as a markdown table, at most `limit` rows and a last row counting the rest."""
    # GitHub caps a comment at 65,536 characters: a long table is cut, the JSON format has it all.
    rows = ["| environment | code | change | object | what differs | likely cause |", "|---|---|---|---|---|---|"]
    for finding in findings[:limit]:
        cells = [finding.environment, finding.code, finding.change, finding.object, finding.detail, finding.cause]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    if len(findings) > limit:
        rows.append(f"| | | | {len(findings) - limit} more | run `invoke drift --format json` for all | |")
    return rows


def fix_lines(findings: list[DriftFinding]) -> list[str]:
    """One line per distinct (environment, code, fix), with the objects it applies to."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for finding in findings:
        grouped.setdefault((finding.environment, finding.code, finding.fix), []).append(finding.object)
    lines = ["<details><summary>How to fix each finding</summary>", ""]
    for (environment, code, fix), objects in grouped.items():
        shown = ", ".join(objects[:5]) + (f" and {len(objects) - 5} more" if len(objects) > 5 else "")
        lines.append(f"- `{environment}` **{code}** {_cell(shown)}: {_cell(fix)}")
    return lines + ["", "See docs/drift.md for what each code means.", "", "</details>"]


def _cell(text: str) -> str:
    """Table-safe: a `|` would end the cell, a newline the row."""
    return (text or "").replace("|", "\\|").replace("\n", " ")
