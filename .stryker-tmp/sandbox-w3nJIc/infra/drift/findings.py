"""What drift reports: a `DriftFinding` per difference, grouped per environment.

Codes are stable (CI and docs/drift.md key on them):
- SCH001 missing, SCH002 extra, SCH003 changed: the live schema against the migrations' replay.
- HIS002, HIS003, HIS004: the ledger against the migration files (as `invoke migrate` checks).
- PEN001 migrations not yet applied (a notice: a pull request that adds a migration has one).
- NEW001 a remote environment not created yet (a notice: its first deploy creates and migrates it).
- BND001 declared binding missing, BND002 binding points at another resource, BND003 undeclared
  binding, BND004 the Worker is not deployed.
- CFG001 the committed local wrangler config differs from what hyphae renders.
- CON003 the live database cannot store a field the Myco client sends (contract/myco-client.yaml).
- PAR001 binding names differ between environments, PAR002 two environments share a resource.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

DRIFT = "drift"  # the environment differs from the repository: exit 1
NOTICE = "notice"  # worth showing, not drift (pending migrations)

MISSING, EXTRA, CHANGED, PENDING = "missing", "extra", "changed", "pending"

CAUSE_OUT_OF_BAND = "changed out of band"
CAUSE_MIGRATION_EDITED = "migration edited"
CAUSE_MIGRATION_PENDING = "migration pending"
CAUSE_MIGRATION_MISSING = "migration missing"


@dataclass(frozen=True)
class DriftFinding:
    code: str
    environment: str
    area: str  # schema, history, contract, bindings, config, parity
    change: str  # missing, extra, changed, pending
    object: str  # e.g. "column sessions.status", "binding MYCO_TEAM_DB", "migration 0006_x.sql"
    detail: str  # what differs, repository first: "default: repository 'active', live 'done'"
    cause: str = ""  # the likely cause, e.g. CAUSE_OUT_OF_BAND
    fix: str = ""
    severity: str = DRIFT

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class EnvironmentReport:
    """The findings of one environment, and what was checked (for the summary line)."""

    environment: str
    findings: list[DriftFinding] = field(default_factory=list)
    applied_version: int | None = None
    latest_version: int = 0
    objects_compared: int = 0
    checked: list[str] = field(default_factory=list)  # areas checked: schema, history, bindings, ...

    @property
    def drift(self) -> list[DriftFinding]:
        return [finding for finding in self.findings if finding.severity == DRIFT]

    @property
    def notices(self) -> list[DriftFinding]:
        return [finding for finding in self.findings if finding.severity == NOTICE]

    @property
    def clean(self) -> bool:
        return not self.drift


@dataclass
class DriftReport:
    environments: list[EnvironmentReport] = field(default_factory=list)
    parity: list[DriftFinding] = field(default_factory=list)  # findings across environments

    @property
    def findings(self) -> list[DriftFinding]:
        return [finding for report in self.environments for finding in report.findings] + self.parity

    @property
    def clean(self) -> bool:
        return all(finding.severity != DRIFT for finding in self.findings)

    def to_json(self) -> dict:
        return {
            "clean": self.clean,
            "environments": [
                {
                    "environment": report.environment,
                    "clean": report.clean,
                    "applied_version": report.applied_version,
                    "latest_version": report.latest_version,
                    "objects_compared": report.objects_compared,
                    "checked": report.checked,
                    "findings": [finding.to_json() for finding in report.findings],
                }
                for report in self.environments
            ],
            "parity": [finding.to_json() for finding in self.parity],
        }
