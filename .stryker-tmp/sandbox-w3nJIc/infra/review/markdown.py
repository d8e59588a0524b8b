"""The review as ONE pull-request comment: a headline, then collapsible sections (what changes,
with ER diagrams before and after; risks; the plan per environment) and a footer.

The first line is a hidden marker (`MARKER`) by which CI finds and updates the same comment. The
text holds no timestamps or durations, so an unchanged pull request renders the same comment.
GitHub refuses a comment over 65,536 characters: when the full text is over `COMMENT_BUDGET`
(counted in UTF-8 bytes, which is never less than GitHub's count), the largest sections are
replaced, one by one, by their brief form (counts, the first rows, smaller diagrams) with a
pointer to the full text, which CI writes to the run's summary (`--full-output`). Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.drift.findings import CHANGED
from infra.drift.report import findings_table, fix_lines
from infra.review.changes import ADDED, REBUILT, REMOVED, RENAMED, SchemaChanges
from infra.review.collect import Review
from infra.review.diagram import DiagramMarks, render_diagram
from infra.review.plan import DEPLOY_STEPS
from infra.review.risks import D1_QUERY_SECONDS, LARGE_TABLE_ROWS
from infra.review.summary import (
    changes_line,
    count,
    has_large_table,
    migrations_line,
    risks_line,
    row_count_text,
)

MARKER = "<!-- hyphae-review -->"
COMMENT_LIMIT = 65_536  # GitHub's limit for a comment body
COMMENT_BUDGET = 60_000  # what the review may use: room for the line CI adds when a step failed
BRIEF_ROWS = 15
BRIEF_CELL = 160
DIAGRAM_BUDGET = {"full": 20_000, "brief": 5_000}
ICONS = {REMOVED: "➖", RENAMED: "🔀", REBUILT: "♻️", CHANGED: "✏️", ADDED: "➕",
         "error": "❌", "warning": "⚠️", "allowed": "✅"}


@dataclass(frozen=True)
class Section:
    title: str
    full: tuple[str, ...]
    brief: tuple[str, ...]
    open: bool = False


def render_markdown(review: Review, *, full: bool = False) -> str:
    """The comment; with `full`, nothing is summarized (the text for the run's summary)."""
    sections = [_changes_section(review), _risks_section(review), _plan_section(review)]
    chosen = {section.title: section.full for section in sections}
    text = _compose(review, sections, chosen)
    for section in sorted(sections, key=lambda section: -_size("\n".join(section.full))):
        if full or _size(text) <= COMMENT_BUDGET:
            break
        chosen[section.title] = section.brief
        text = _compose(review, sections, chosen)
    if not full and _size(text) > COMMENT_BUDGET:  # briefs are bounded; this is the last resort
        chosen = {section.title: (f"Too long for a comment: {_pointer(review)}.",) for section in sections}
        text = _compose(review, sections, chosen)
    return text


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _compose(review: Review, sections: list[Section], chosen: dict[str, tuple[str, ...]]) -> str:
    lines = [MARKER, _headline(review), ""]
    for section in sections:
        lines += [f"<details{' open' if section.open else ''}>", f"<summary>{section.title}</summary>", "",
                  *chosen[section.title], "", "</details>", ""]
    lines += _footer(review)
    return "\n".join(lines) + "\n"


def _headline(review: Review) -> str:
    """One line a reviewer reads first: a verdict, then counts."""
    changes = review.changes.changes
    tables = len(review.changes.changed_tables)
    parts = [migrations_line(review),
             f"{count(len(changes), 'schema change')} in {count(tables, 'table')}" if changes else "no schema change",
             risks_line(review.risks)]
    parts += [f"`{plan.environment}` {len(plan.pending)} pending" for plan in review.plans.environments
              if plan.pending and plan.report and plan.report.applied_version]
    return f"### {_verdict(review)} hyphae review: " + " · ".join(parts)


def _verdict(review: Review) -> str:
    """❌ a lint error; ⚠️ something to read closely (a warning, a large table, drift, an unread
    environment, a replace or delete in a preview, an edited history); ✅ otherwise."""
    if any(risk.status == "error" for risk in review.risks):
        return ICONS["error"]
    history = review.changes.history
    attention = (any(risk.status == "warning" for risk in review.risks) or has_large_table(review)
                 or review.plans.drift or review.plans.unreadable or history.edited or history.deleted
                 or review.preview_errors
                 or any(preview.replaced or preview.deleted or preview.errors for preview in review.previews))
    return ICONS["warning"] if attention else "✅"


# -- what changes --------------------------------------------------------------------------------

def _changes_section(review: Review) -> Section:
    changes = review.changes
    title = f"<b>What changes</b>: {_escape(changes_line(changes.changes))}"
    intro = _migrations_intro(review)
    if not changes.changes:
        return Section(title, tuple(intro), tuple(intro), open=True)
    head = ["| | change | object | detail | migrations |", "|---|---|---|---|---|"]
    full = [*intro, "", *head, *(_change_row(change) for change in changes.changes), "",
            *_diagrams(changes, "full")]
    brief = [*intro, "", *head, *(_change_row(change, BRIEF_CELL) for change in changes.changes[:BRIEF_ROWS]),
             *_more(len(changes.changes), "more change", review), "", *_diagrams(changes, "brief")]
    return Section(title, tuple(full), tuple(brief), open=True)


def _change_row(change, clip: int | None = None) -> str:
    return (f"| {ICONS[change.change]} | {change.change} | {change.kind} `{_code(_clip(change.name, clip))}` | "
            f"{_cell(_clip(change.detail, clip))} | {_cell(_clip(', '.join(change.migrations), clip))} |")


def _more(total: int, noun: str, review: Review) -> list[str]:
    return ["", f"{count(total - BRIEF_ROWS, noun)}: {_pointer(review)}."] if total > BRIEF_ROWS else []


def _migrations_intro(review: Review) -> list[str]:
    history = review.changes.history
    base = history.base
    lines = [f"Compared with `{base.ref}` at `{base.commit[:12]}`: both histories replayed by the engine, "
             "their schemas compared structurally."]
    if history.added:
        lines.append(f"New migrations: {_names(history.added)}.")
    if history.edited:
        lines.append(f"⚠️ Edited migrations that exist on `{base.ref}`: {_names(history.edited)}. An environment "
                     "that applied them refuses the edit (HIS002): put the change in a new migration.")
    if history.deleted:
        lines.append(f"⚠️ Deleted migrations: {_names(history.deleted)}. An environment that applied them "
                     "refuses the history (HIS003).")
    return [" ".join(lines)]


def _names(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(f"`{name}`" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _diagrams(changes: SchemaChanges, size: str) -> list[str]:
    after_marks, before_marks = diagram_marks(changes)
    before_names = {new: old for old, new in changes.renamed_tables.items()}
    after = render_diagram(changes.after, changes.changed_tables, after_marks, DIAGRAM_BUDGET[size])
    before = render_diagram(changes.before, [before_names.get(name, name) for name in changes.changed_tables],
                            before_marks, DIAGRAM_BUDGET[size])
    lines = []
    for label, diagram, schema_side in (("After", after, "after"), ("Before", before, "before")):
        if diagram.tables_shown == 0:
            lines += [f"**{label}**: no changed table exists {schema_side} the change.", ""]
            continue
        note = f" ({diagram.tables_left_out} more tables left out)" if diagram.tables_left_out else ""
        lines += [f"**{label}**: the changed tables and their foreign-key neighbours{note}", "", "```mermaid",
                  diagram.text.rstrip("\n"), "```", ""]
    return lines


def diagram_marks(changes: SchemaChanges) -> tuple[DiagramMarks, DiagramMarks]:
    """The marks of the diagram after the change and of the one before it."""
    after, before = DiagramMarks(), DiagramMarks()
    renamed_from = {new: old for old, new in changes.renamed_tables.items()}
    for old, new in changes.renamed_tables.items():
        after.tables[new], before.tables[old] = f"renamed from {old}", f"renamed to {new}"
    for (table, old), new in changes.renamed_columns.items():
        after.columns[(table, new)] = f"renamed from {old}"
        before.columns[(renamed_from.get(table, table), old)] = f"renamed to {new}"
    for change in changes.changes:
        table_before = renamed_from.get(change.table, change.table)
        if change.kind == "table" and change.change in (ADDED, REBUILT):
            after.tables[change.table] = change.change
        if change.kind == "table" and change.change in (REMOVED, REBUILT):
            before.tables[table_before] = change.change
        if change.kind == "column" and change.change != RENAMED:
            column = change.name.partition(".")[2]
            if change.change != REMOVED:
                after.columns[(change.table, column)] = change.change if change.change == ADDED else \
                    f"changed: {_compact(change.detail)}"
            if change.change != ADDED:
                before.columns[(table_before, column)] = change.change
    for change in changes.changes:  # anything else on a table marks it changed, on both sides
        after.tables.setdefault(change.table, CHANGED)
        before.tables.setdefault(renamed_from.get(change.table, change.table), CHANGED)
    return after, before


def _compact(detail: str) -> str:
    """`type: before TEXT, after INTEGER; NOT NULL: before no, after yes` as `type TEXT → INTEGER;
    NOT NULL no → yes`: short enough for a diagram's column comment."""
    return re.sub(r"([^:;]+): before (.*?), after ([^;]*)", r"\1 \2 → \3", detail)


# -- risks ---------------------------------------------------------------------------------------

def _risks_section(review: Review) -> Section:
    title = f"<b>Risks</b>: {_escape(risks_line(review.risks))}"
    if not review.risks:
        notes = _lint_notes(review)
        return Section(title, tuple(notes), tuple(notes))
    ordered = sorted(review.risks, key=lambda risk: ({"error": 0, "warning": 1}.get(risk.status, 2),
                                                     risk.finding.file, risk.finding.line))
    head = ["| | code | where | finding | rows now |", "|---|---|---|---|---|"]
    notes = [*_row_count_notes(review), *_lint_notes(review)]
    full = [*head, *(_risk_row(risk, review) for risk in ordered), "", *notes]
    brief = [*head, *(_risk_row(risk, review, BRIEF_CELL) for risk in ordered[:BRIEF_ROWS]),
             *_more(len(ordered), "more finding", review), "", *notes]
    has_blocking = any(risk.status == "error" for risk in review.risks)
    return Section(title, tuple(full), tuple(brief), open=has_blocking or has_large_table(review))


def _risk_row(risk, review: Review, clip: int | None = None) -> str:
    finding = risk.finding
    where = f"`{_code(_short_path(finding.file))}:{finding.line}`"
    text = finding.message
    if finding.allowed_reason is not None:
        text += f" — allowed: {finding.allowed_reason}"
    elif finding.hint:
        text += f" — {finding.hint}"
    tables = risk.tables[:5] if clip else risk.tables
    rows = "<br>".join(_cell(_clip(row_count_text(table, review.row_counts), clip)) for table in tables)
    if len(tables) < len(risk.tables):
        rows += f"<br>and {len(risk.tables) - len(tables)} more tables"
    return (f"| {ICONS.get(risk.status, '')} {risk.status} | {finding.code} | {where} | {_cell(_clip(text, clip))} "
            f"| {rows} |")


def _row_count_notes(review: Review) -> list[str]:
    if not review.row_counts:
        return []
    read = [counts.environment for counts in review.row_counts if counts.error is None]
    notes = []
    if read:
        notes.append(f"Rows now: counted read-only in {', '.join(f'`{name}`' for name in read)}. Each migration "
                     f"runs as one D1 batch, and D1 stops a query or batch at {D1_QUERY_SECONDS} s: a statement "
                     f"that rewrites, copies or deletes ⚠ {LARGE_TABLE_ROWS:,} rows or more may not finish; "
                     "try it on a copy first, or move it in slices.")
    notes += [f"- `{counts.environment}`: rows not read: {_escape(counts.error or '')}"
              for counts in review.row_counts if counts.error is not None]
    return notes


def _lint_notes(review: Review) -> list[str]:
    return [f"- lint: {_escape(note)}" for note in review.lint_notes]


# -- plan per environment ------------------------------------------------------------------------

def _plan_section(review: Review) -> Section:
    plans = review.plans
    unread = len(plans.unreadable)
    drift = len(plans.drift)
    parts = [f"{count(drift, 'drift finding')}" if drift else "no drift"]
    if unread:
        parts.append(f"{count(unread, 'environment')} not read")
    parts += [f"`{preview.stack}` preview: {preview.headline()}" for preview in review.previews]
    if review.preview_errors:
        parts.append(f"{count(len(review.preview_errors), 'preview')} not read")
    title = f"<b>Plan per environment</b>: {_escape('; '.join(parts))}"
    order = "Deploy order, per environment (`deploy-environment.yml`): " + " → ".join(
        f"{number}. `{task}` ({description})" for number, (task, description) in enumerate(DEPLOY_STEPS, 1)) + "."
    full = [order, "", *_environment_table(review, None), "", *_previews(review, None), *_drift(review, None)]
    brief = [order, "", *_environment_table(review, 5), "", *_previews(review, 10), *_drift(review, 10)]
    return Section(title, tuple(full), tuple(brief), open=bool(drift or unread or review.preview_errors))


def _environment_table(review: Review, limit: int | None) -> list[str]:
    rows = ["| environment | now | pending, in the order they apply | drift before this change |",
            "|---|---|---|---|"]
    for plan in review.plans.environments:
        if plan.report is None:
            rows.append(f"| `{plan.environment}` | ⚠️ not read | | {_cell(plan.error or '')} |")
            continue
        pending = plan.pending
        shown = ", ".join(f"`{name}`" for name in pending[:limit] if name) if pending else "none"
        if limit is not None and len(pending) > limit:
            shown += f" and {len(pending) - limit} more"
        if pending and not plan.report.applied_version:  # no database yet (local in CI): the list says nothing
            shown = f"all {count(len(pending), 'migration')} (nothing applied yet)"
        drift = "✅ none" if plan.report.clean else f"❌ {count(len(plan.drift), 'finding')}"
        now = f"schema {plan.report.applied_version or 0:04d} of {plan.report.latest_version:04d}"
        rows.append(f"| `{plan.environment}` | {now} | {shown} | {drift} |")
    return rows


def _previews(review: Review, limit: int | None) -> list[str]:
    unread = [f"{ICONS['warning']} Not read: {_escape(error)}" for error in review.preview_errors]
    if not review.previews:
        if unread:
            return [*unread, ""]
        return ["No `pulumi preview` was given (CI saves dev's: `invoke preview --env dev --json FILE`, "
                "then `invoke review --preview FILE`).", ""]
    lines = [*unread, ""] if unread else []
    for preview in review.previews:
        lines.append(f"**`{preview.stack}` pulumi preview** ({_code(preview.path.name)}): {preview.headline()}.")
        for label, steps in (("replace", preview.replaced), ("delete", preview.deleted)):
            for step in steps[:limit]:
                lines.append(f"- {ICONS['warning']} {label}: {_escape(step.describe())}")
            if limit is not None and len(steps) > limit:
                lines.append(f"- and {len(steps) - limit} more to {label}: {_pointer(review)}")
        lines += [f"- {ICONS['error']} error: {_escape(error)}" for error in preview.errors[:limit]]
        lines.append("")
    return lines


def _drift(review: Review, limit: int | None) -> list[str]:
    findings = review.plans.drift
    if not findings:
        return []
    table = findings_table(findings, limit if limit is not None else len(findings))
    return ["**Drift found before this change** (see docs/drift.md):", "", *table, "", *fix_lines(findings)]


# -- footer --------------------------------------------------------------------------------------

def _footer(review: Review) -> list[str]:
    provenance = review.provenance
    if provenance is None:
        return []
    parts = [f"commit `{provenance.short_commit}`" + (" with uncommitted changes" if provenance.uncommitted else "")]
    if provenance.head_commit:
        parts.append(f"pull request head `{provenance.head_commit[:12]}`")
    if provenance.artifact_sha256:
        parts.append(f"artifact sha256 `{provenance.artifact_sha256[:12]}` ({_escape(provenance.artifact_note)})")
    else:
        parts.append(f"artifact: {_escape(provenance.artifact_note)}")
    if provenance.run_url:
        parts.append(f"[this run]({provenance.run_url}) (its summary has the full review)")
    parts.append("`invoke review --format markdown` renders this comment")
    return ["---", "<sub>" + " · ".join(parts) + "</sub>"]


def _pointer(review: Review) -> str:
    run_url = review.provenance.run_url if review.provenance else None
    if run_url:
        return f"the full review is in [this run's summary]({run_url})"
    return "`invoke review --format markdown --full-output FILE` writes the full review"


# -- markdown text -------------------------------------------------------------------------------

def _short_path(path: str) -> str:
    return path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1] if path.count("/") >= 1 else path


def _escape(text: str) -> str:
    """Plain text in markdown: no HTML tags (a `<details>` in a default value would open one)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    """Table-safe: a `|` would end the cell, a newline the row."""
    return _escape(" ".join((text or "").split())).replace("|", "\\|")


def _code(text: str) -> str:
    """Inside a code span within a table: only `|` and backticks need care."""
    return text.replace("`", "'").replace("|", "\\|")


def _clip(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"
