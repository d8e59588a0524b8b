"""A saved `pulumi preview --json` read as a summary: counts per operation, and every replace and
delete by name. The review never runs Pulumi (commands that don't deploy must not import it):
the workflow saves the preview's JSON to a file (`invoke preview --env dev --json FILE`) and the
review reads that file.

The shape is Pulumi's `PreviewDigest` (pulumi/pulumi, sdk/go/common/display/json.go): `steps`, a
list of `{op, urn, oldState, newState, replaceReasons, ...}`, and `changeSummary`, a count per
operation. A replacement appears as up to three steps of one URN (`replace`,
`create-replacement`, `delete-replaced`); it is one replace here. Policy violations are not in
the JSON (Pulumi leaves them out); a mandatory one fails the preview step itself. Read-only.
Raises UsageError naming the file when it is missing or not a preview.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from infra.errors import UsageError

SHOWN_OPERATIONS = ("create", "update", "replace", "delete")
REPLACE_OPERATIONS = ("replace", "create-replacement", "delete-replaced")
# `discard`: a read resource dropped from state; `delete`: a resource the cloud loses.
DELETE_OPERATIONS = ("delete",)


@dataclass(frozen=True)
class ResourceStep:
    name: str  # the resource's name (the URN's last part): "dev-database"
    type: str  # its type token: "cloudflare:index/d1Database:D1Database"
    reasons: tuple[str, ...] = ()  # the properties that force a replacement

    def describe(self) -> str:
        because = f" (because of {', '.join(self.reasons)})" if self.reasons else ""
        return f"{self.name} ({self.type}){because}"


@dataclass
class PreviewSummary:
    stack: str  # the stack the URNs name: "dev"
    path: Path
    counts: dict[str, int] = field(default_factory=dict)  # create/update/replace/delete/same
    replaced: list[ResourceStep] = field(default_factory=list)
    deleted: list[ResourceStep] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the preview's error diagnostics

    def headline(self) -> str:
        counts = ", ".join(f"{self.counts.get(operation, 0)} to {operation}" for operation in SHOWN_OPERATIONS)
        return f"{counts}, {self.counts.get('same', 0)} unchanged"


def read_preview(path: Path) -> PreviewSummary:
    """The summary of the preview JSON at `path`."""
    path = Path(path)
    try:
        digest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--preview {path}: no such file (save it with `invoke preview --env dev --json {path}`)") \
            from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"--preview {path}: not JSON ({error}); expected the output of `pulumi preview --json`") \
            from None
    if not isinstance(digest, dict) or not isinstance(digest.get("steps", []), list):
        raise UsageError(f"--preview {path}: not a `pulumi preview --json` document (no steps list)")
    return summarize_preview(digest, path)


def summarize_preview(digest: dict, path: Path) -> PreviewSummary:
    steps = [step for step in digest.get("steps") or [] if isinstance(step, dict) and step.get("urn")]
    summary = PreviewSummary(stack=_stack_of(steps), path=path)
    replaced: dict[str, ResourceStep] = {}
    for step in steps:
        operation, urn = str(step.get("op", "")), str(step["urn"])
        if operation in REPLACE_OPERATIONS:
            reasons = tuple(str(reason) for reason in step.get("replaceReasons") or ())
            known = replaced.get(urn)
            replaced[urn] = _step(urn, reasons or (known.reasons if known else ()))
        elif operation in DELETE_OPERATIONS:
            summary.deleted.append(_step(urn))
    summary.replaced = list(replaced.values())
    summary.counts = _counts(digest.get("changeSummary"), steps, len(replaced))
    summary.errors = [str(diagnostic.get("message", "")).strip() for diagnostic in digest.get("diagnostics") or []
                      if isinstance(diagnostic, dict) and diagnostic.get("severity") == "error"]
    return summary


def _counts(change_summary, steps: list[dict], replacements: int) -> dict[str, int]:
    """Pulumi's own changeSummary when present; otherwise counted from the steps."""
    if isinstance(change_summary, dict) and change_summary:
        return {str(operation): int(count) for operation, count in change_summary.items()}
    counts: dict[str, int] = {}
    for step in steps:
        operation = str(step.get("op", ""))
        if operation not in REPLACE_OPERATIONS:
            counts[operation] = counts.get(operation, 0) + 1
    if replacements:
        counts["replace"] = replacements
    return counts


def _step(urn: str, reasons: tuple[str, ...] = ()) -> ResourceStep:
    # urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>
    parts = urn.split("::")
    type_token = parts[-2].rsplit("$", 1)[-1] if len(parts) >= 3 else ""
    return ResourceStep(parts[-1], type_token, reasons)


def _stack_of(steps: list[dict]) -> str:
    for step in steps:
        urn = str(step["urn"])
        if urn.startswith("urn:pulumi:"):
            return urn[len("urn:pulumi:"):].split("::", 1)[0]
    return "unknown"
