"""The review for a terminal: the same sections as the comment, as plain text, without the
diagrams (the markdown format draws them). Pure."""

from __future__ import annotations

from infra.review.collect import Review
from infra.review.plan import DEPLOY_STEPS
from infra.review.risks import D1_QUERY_SECONDS, LARGE_TABLE_ROWS
from infra.review.summary import changes_line, has_large_table, migrations_line, plan_line, risks_line, row_count_text


def render_human(review: Review) -> str:
    lines = [*_header(review), *_changes(review), *_risks(review), *_plan(review), *_footer(review)]
    return "\n".join(lines) + "\n"


def _header(review: Review) -> list[str]:
    history = review.changes.history
    lines = [f"review against {history.base.ref} ({history.base.commit[:12]}): {migrations_line(review)}"]
    for label, names in (("new", history.added), ("edited (applied environments refuse this: HIS002)", history.edited),
                         ("deleted (HIS003)", history.deleted)):
        lines += [f"  {label}: {name}" for name in names]
    return lines


def _changes(review: Review) -> list[str]:
    changes = review.changes.changes
    lines = [f"what changes: {changes_line(changes)}"]
    width = max((len(change.change) for change in changes), default=0)
    for change in changes:
        origin = f"  [{', '.join(change.migrations)}]" if change.migrations else ""
        lines.append(f"  {change.change:<{width}}  {change.kind} {change.name}: {change.detail}{origin}")
    if changes:
        lines.append("  (`--format markdown` draws the changed tables before and after as ER diagrams)")
    return lines


def _risks(review: Review) -> list[str]:
    lines = [f"risks: {risks_line(review.risks)}"]
    for risk in sorted(review.risks, key=lambda risk: ({"error": 0, "warning": 1}.get(risk.status, 2),
                                                      risk.finding.file, risk.finding.line)):
        finding = risk.finding
        lines.append(f"  {risk.status:<7}  {finding.code}  {finding.file}:{finding.line}  {finding.message}")
        if finding.allowed_reason is not None:
            lines.append(f"      reason: {finding.allowed_reason}")
        elif finding.hint:
            lines.append(f"      hint: {finding.hint}")
        lines += [f"      rows now: {row_count_text(table, review.row_counts)}" for table in risk.tables]
    lines += [f"  rows not read in {counts.environment}: {counts.error}" for counts in review.row_counts
              if counts.error is not None]
    if has_large_table(review):
        lines.append(f"  ⚠ {LARGE_TABLE_ROWS:,} rows or more: each migration is one D1 batch, stopped at "
                     f"{D1_QUERY_SECONDS} s; try the statement on a copy first, or move the rows in slices")
    lines += [f"  note: {note}" for note in review.lint_notes]
    return lines


def _plan(review: Review) -> list[str]:
    lines = ["plan: deploy order per environment: " + " -> ".join(task for task, _ in DEPLOY_STEPS)]
    for plan in review.plans.environments:
        lines.append(f"  {plan.environment}: {plan_line(plan)}")
        if plan.pending and plan.report and plan.report.applied_version:
            lines.append(f"      pending, in order: {', '.join(plan.pending)}")
        for finding in plan.drift:
            lines.append(f"      {finding.code} {finding.change} {finding.object}: {finding.detail}")
    for finding in review.plans.parity:
        lines.append(f"  across environments: {finding.code} {finding.object}: {finding.detail}")
    lines += [f"  preview not read: {error}" for error in review.preview_errors]
    for preview in review.previews:
        lines.append(f"  {preview.stack} pulumi preview ({preview.path.name}): {preview.headline()}")
        lines += [f"      replace {step.describe()}" for step in preview.replaced]
        lines += [f"      delete {step.describe()}" for step in preview.deleted]
        lines += [f"      error: {error}" for error in preview.errors]
    return lines


def _footer(review: Review) -> list[str]:
    provenance = review.provenance
    if provenance is None:
        return []
    commit = provenance.short_commit + (" (with uncommitted changes)" if provenance.uncommitted else "")
    artifact = (f"sha256 {provenance.artifact_sha256[:12]}, {provenance.artifact_note}"
                if provenance.artifact_sha256 else provenance.artifact_note)
    lines = [f"commit {commit}; artifact {artifact}"]
    if provenance.run_url:
        lines.append(f"run {provenance.run_url}")
    return lines
