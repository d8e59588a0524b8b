"""Rendering a LintReport: `human` (grouped by file, with line and hint), `json` (one object for
tools) and `github` (workflow annotations that GitHub shows on the pull request's diff). Pure."""

from __future__ import annotations

import json
from itertools import groupby

from infra.lint.findings import ERROR, Finding, LintReport

FORMATS = ("human", "json", "github")


def render(report: LintReport, output_format: str) -> str:
    return {"human": render_human, "json": render_json, "github": render_github}[output_format](report)


def render_human(report: LintReport) -> str:
    lines = []
    for file, findings in groupby(report.findings, key=lambda finding: finding.file):
        lines.append(file)
        for finding in findings:
            lines.extend(_human_finding(finding))
        lines.append("")
    lines.extend(f"note: {note}" for note in report.notes)
    summary = report.summary()
    verdict = "ok" if report.ok else "failed"
    lines.append(f"lint {verdict}: {_count(summary['files'], 'file')}, {_count(summary['statements'], 'statement')}, "
                 f"{_count(summary['errors'], 'error')}, {_count(summary['warnings'], 'warning')}, "
                 f"{summary['allowed']} allowed")
    return "\n".join(lines)


def _human_finding(finding: Finding) -> list[str]:
    label = "allowed" if finding.allowed_reason is not None else finding.severity
    lines = [f"  {finding.line}:{finding.column}  {label:<7}  {finding.code}  {finding.message}"]
    if finding.allowed_reason is not None:
        lines.append(f"      reason: {finding.allowed_reason}")
    elif finding.hint:
        lines.append(f"      hint: {finding.hint}")
    return lines




def render_json(report: LintReport) -> str:
    """`{"findings": [{code, severity, file, line, column, message, hint}], "summary": {...}}`.

    Every finding has exactly those keys, so a tool can rely on them: an allowed finding has
    severity "allowed" and its reason as the hint (as `human` shows it); notes are in the summary.
    """
    payload = {"findings": [finding.to_report_json() for finding in report.findings],
               "summary": report.summary() | {"notes": report.notes}}
    return json.dumps(payload, indent=2)


def render_github(report: LintReport) -> str:
    """One `::error` / `::warning` / `::notice` line per finding (allowed ones as notices)."""
    lines = []
    for finding in report.findings:
        if finding.allowed_reason is not None:
            level, text = "notice", f"{finding.message} (allowed: {finding.allowed_reason})"
        else:
            level = "error" if finding.severity == ERROR else "warning"
            text = finding.message + (f". {finding.hint}" if finding.hint else "")
        lines.append(f"::{level} file={_property(finding.file)},line={finding.line},col={finding.column},"
                     f"title={_property(finding.code)}::{_data(text)}")
    lines.extend(f"::notice::{_data(note)}" for note in report.notes)
    summary = report.summary()
    lines.append(f"lint: {_count(summary['errors'], 'error')}, {_count(summary['warnings'], 'warning')}")
    return "\n".join(lines)


def _data(text: str) -> str:
    """Escape a message for a workflow command (GitHub's toolkit escapes %, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
