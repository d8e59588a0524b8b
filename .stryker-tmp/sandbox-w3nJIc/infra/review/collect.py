"""Gathering one review: the schema changes, the risks, the plan per environment and the footer.

Every part is read-only: git for the base, in-memory replays, the linter (which may write its
replay cache), drift's reads of each environment, row counts, a saved preview file, the built
artifact's manifest. Raises UsageError (exit 2) when the review cannot be made at all (no git
base); an environment or a saved preview that cannot be read is recorded in the review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from infra.errors import UsageError
from infra.review.base import read_history_change
from infra.review.changes import SchemaChanges, plan_schema_changes
from infra.review.plan import EnvironmentPlans, read_environment_plans
from infra.review.preview import PreviewSummary, read_preview
from infra.review.provenance import Provenance, read_provenance
from infra.review.risks import Risk, RowCounts, plan_risks, read_row_counts, tables_at_risk


@dataclass
class Review:
    changes: SchemaChanges
    risks: list[Risk]
    row_counts: list[RowCounts]
    plans: EnvironmentPlans
    previews: list[PreviewSummary] = field(default_factory=list)
    preview_errors: list[str] = field(default_factory=list)  # saved previews that could not be read
    provenance: Provenance | None = None
    lint_notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewRequest:
    directory: Path
    environments: list[str]
    base_ref: str | None = None
    preview_files: tuple[Path, ...] = ()
    artifact_dir: Path = Path("dist")


def read_review(request: ReviewRequest) -> Review:
    from infra.lint import lint_migrations

    previews, preview_errors = [], []
    for path in request.preview_files:
        try:
            previews.append(read_preview(path))
        except UsageError as error:  # in CI: the preview step failed; the review says so and goes on
            preview_errors.append(str(error))
    history = read_history_change(request.directory, request.base_ref)
    changes = plan_schema_changes(history)
    lint = lint_migrations(request.directory)
    risks = plan_risks(lint, history.new_files, changes.before)
    tables = tables_at_risk(risks)
    row_counts = [read_row_counts(name, tables) for name in request.environments] if tables else []
    return Review(
        changes=changes,
        risks=risks,
        row_counts=row_counts,
        plans=read_environment_plans(request.environments, request.directory),
        previews=previews,
        preview_errors=preview_errors,
        provenance=read_provenance(request.directory, request.artifact_dir),
        lint_notes=list(lint.notes),
    )
