"""Scoring a mutation run: each mutant's verdict, the equivalents set aside, the score per module.

A mutant is one small change to the code (a flipped comparison, a dropped call, another constant).
Killed means a test failed on it. A survivor that cannot change behaviour is listed in the
equivalents file with its reason and not counted; every other survivor is a bug the suite would
let through. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.mutation.equivalents import Equivalent
from infra.mutation.modules import GOAL

# Verdicts, in the words mutmut uses; Stryker's are translated to them (stryker_run.py).
KILLED = frozenset({"killed", "timeout", "caught by type check", "segfault"})  # a test run noticed
NOT_COUNTED = frozenset({"skipped", "invalid"})  # never ran: excluded, or not valid code at all


@dataclass(frozen=True)
class Mutant:
    module: str
    name: str  # the tool's id: mutmut's mutant name, or Stryker's `file#id`
    file: str  # relative to the repository
    where: str  # mutmut: the function; Stryker: the mutator
    status: str
    change: tuple[str, ...]  # "- old line", "+ new line"

    def key(self) -> tuple:
        return self.module, self.file, self.where, self.change


@dataclass
class ModuleScore:
    module: str
    tool: str
    mutants: list[Mutant]
    equivalent: list[Mutant] = field(default_factory=list)
    stale: list[Equivalent] = field(default_factory=list)  # entries matching no mutant of this run
    contradicted: list[tuple[Equivalent, Mutant]] = field(default_factory=list)  # "equivalent" yet killed

    @property
    def counted(self) -> list[Mutant]:
        skipped = {id(mutant) for mutant in self.equivalent}
        return [m for m in self.mutants if m.status not in NOT_COUNTED and id(m) not in skipped]

    @property
    def killed(self) -> int:
        return sum(mutant.status in KILLED for mutant in self.counted)

    @property
    def survivors(self) -> list[Mutant]:
        return [mutant for mutant in self.counted if mutant.status not in KILLED]

    @property
    def unchecked(self) -> int:
        return sum(mutant.status == "not checked" for mutant in self.counted)

    @property
    def score(self) -> float | None:
        return self.killed / len(self.counted) if self.counted else None

    @property
    def goal_met(self) -> bool:
        complete = not self.unchecked and not self.stale and not self.contradicted
        return complete and self.score is not None and self.score >= GOAL


def score_module(module: str, tool: str, mutants: list[Mutant], equivalents: list[Equivalent]) -> ModuleScore:
    """Set aside the mutants the equivalents file lists for `module`; report its stale entries."""
    result = ModuleScore(module, tool, mutants)
    by_key: dict[tuple, list[Mutant]] = {}
    for mutant in mutants:
        by_key.setdefault(mutant.key(), []).append(mutant)
    for entry in equivalents:
        if entry.module != module:
            continue
        matched = by_key.get(entry.key(), [])
        if not matched:
            result.stale.append(entry)
        for mutant in matched:
            if mutant.status in KILLED:
                result.contradicted.append((entry, mutant))
            else:
                result.equivalent.append(mutant)
    return result
