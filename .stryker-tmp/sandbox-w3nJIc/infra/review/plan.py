"""The plan per environment: what is applied, what this pull request would apply, the order of the
deploy, and the drift found before the change.

It is drift's check (`infra.drift.check`) run on the pull request's migrations folder: the ledger
gives the pending migrations (PEN001 notices), and the schema, history and bindings findings are
the drift already there, made before this change. Read-only. An environment that cannot be read
(no credentials, an unreachable API) is recorded with its error, and the others still reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from infra.drift.findings import DriftFinding, EnvironmentReport
from infra.errors import HyphaeError

# The deploy of one environment, in the order `.github/workflows/deploy-environment.yml` runs it
# (a test keeps the two in step): the task, and what it does.
DEPLOY_STEPS = (
    ("fetch-artifact", "fetch the build's artifact, refused unless its sha256 is the build job's digest"),
    ("verify", "verify the artifact: every file's sha256 and a clean CI build"),
    ("migrate", "apply the pending migrations, each in one D1 batch, after a restore point"),
    ("up", "`pulumi up`: the data resources (D1, KV, Vectorize) and the Worker with this artifact "
           "(a new environment: its data resources first, migrated, then its Worker)"),
    ("smoke", "health and protocol window, auth, connect and a push round trip against the deployed Worker"),
)


@dataclass
class EnvironmentPlan:
    environment: str
    report: EnvironmentReport | None = None  # None when it could not be read
    error: str | None = None

    @property
    def pending(self) -> list[str]:
        notices = self.report.notices if self.report else []
        return [finding.object.removeprefix("migration ") for finding in notices if finding.code == "PEN001"]

    @property
    def drift(self) -> list[DriftFinding]:
        return self.report.drift if self.report else []


@dataclass
class EnvironmentPlans:
    environments: list[EnvironmentPlan] = field(default_factory=list)
    parity: list[DriftFinding] = field(default_factory=list)  # drift across environments

    @property
    def drift(self) -> list[DriftFinding]:
        return [finding for plan in self.environments for finding in plan.drift] + self.parity

    @property
    def unreadable(self) -> list[EnvironmentPlan]:
        return [plan for plan in self.environments if plan.error is not None]


def read_environment_plans(names: list[str], directory: Path) -> EnvironmentPlans:
    """Drift and pending migrations of each environment in `names` (read-only).

    One check of all of them (so parity across environments is checked too); when that cannot run,
    each environment alone, so one unreadable environment does not hide the others.
    """
    from infra.drift.check import check_drift

    try:
        report = check_drift(names, directory)
        return EnvironmentPlans([EnvironmentPlan(each.environment, each) for each in report.environments],
                                report.parity)
    except HyphaeError:
        pass
    plans = EnvironmentPlans()
    for name in dict.fromkeys(names):
        try:
            plans.environments.append(EnvironmentPlan(name, check_drift([name], directory).environments[0]))
        except HyphaeError as error:
            plans.environments.append(EnvironmentPlan(name, error=str(error)))
    return plans
