"""What the linter reports: a `Finding` per problem, with the position CI needs to annotate it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

ERROR = "error"
WARNING = "warning"
REPORT_KEYS = ("code", "severity", "file", "line", "column", "message", "hint")


@dataclass(frozen=True)
class Finding:
    code: str  # stable rule code, e.g. "SAFE001"; see docs/rules.md
    severity: str  # ERROR or WARNING
    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    allowed_reason: str | None = None  # set when a `-- hyphae: allow CODE reason` comment allows it

    @property
    def blocks(self) -> bool:
        """True when this finding stops a run: an error that no directive allowed."""
        return self.severity == ERROR and self.allowed_reason is None

    def to_report_json(self) -> dict:
        """The shape every report prints (lint, migrate, status): the same seven keys for every finding;
        an allowed one has severity "allowed" and its reason as the hint, as `human` shows it."""
        data = {key: getattr(self, key) for key in REPORT_KEYS}
        if self.allowed_reason is not None:
            data |= {"severity": "allowed", "hint": f"allowed: {self.allowed_reason}"}
        return data

    def to_json(self) -> dict:
        """Every field, for the lint cache to rebuild the finding from."""
        data = asdict(self)
        if data["allowed_reason"] is None:
            del data["allowed_reason"]
        return data


@dataclass
class LintReport:
    """All findings of one lint run, plus notes (e.g. "no hyphae.sum; create it with ...")."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    statements_checked: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.blocks]

    @property
    def warnings(self) -> list[Finding]:
        """Warnings no directive allowed (an allowed one counts as allowed, not twice)."""
        return [finding for finding in self.findings if finding.severity == WARNING and finding.allowed_reason is None]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        return {
            "files": self.files_checked,
            "statements": self.statements_checked,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "allowed": sum(1 for finding in self.findings if finding.allowed_reason is not None),
        }
