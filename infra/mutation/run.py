"""One `invoke mutate` run: each module in turn with its tool, then the scores and the report files."""

from __future__ import annotations

import shutil
from pathlib import Path

from infra.errors import MutantsSurvived, UsageError
from infra.mutation.equivalents import read_equivalents
from infra.mutation.modules import GOAL, MODULES
from infra.mutation.report import render_json, render_text
from infra.mutation.score import ModuleScore, score_module
from infra.paths import state_dir


def run_mutation(names: list[str], *, jobs: int, fresh: bool, report_dir: Path | None) -> list[ModuleScore]:
    """Run the named modules one at a time, print and write the report; raises MutantsSurvived when
    a module misses the goal or the equivalents file no longer matches the code."""
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: must be 1 or more")
    equivalents = read_equivalents()  # a malformed file fails before hours of work, not after
    scores = []
    for name in names:
        module = MODULES[name]
        print(f"mutate {name}: {module.tool} over {module.source}, tests {' '.join(module.tests)}", flush=True)
        mutants = _run_tool(module, jobs=jobs, fresh=fresh, equivalents=equivalents)
        scores.append(score_module(name, module.tool, mutants, equivalents))
    text = render_text(scores)
    print()
    print(text, end="")
    folder = report_dir or state_dir() / "mutate" / "report"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.txt").write_text(text, encoding="utf-8")
    (folder / "report.json").write_text(render_json(scores), encoding="utf-8")
    for name in names:  # Stryker's own report, every mutant drawn on its source
        html = state_dir() / "mutate" / name / "mutation.html"
        if MODULES[name].tool == "stryker" and html.exists():
            shutil.copy(html, folder / f"{name}-mutation.html")
    print(f"report: {folder / 'report.txt'}, {folder / 'report.json'}")
    missed = [score.module for score in scores if not score.goal_met]
    if missed:
        raise MutantsSurvived(f"{', '.join(missed)}: below the goal of {GOAL:.0%} killed, or the run or "
                              "tests/mutation/equivalents.yaml is out of date (see above)")
    return scores


def _run_tool(module, *, jobs: int, fresh: bool, equivalents):
    def log(line: str) -> None:
        print(line, flush=True)

    if module.tool == "mutmut":
        from infra.mutation.mutmut_run import run_mutmut

        return run_mutmut(module, jobs=jobs, fresh=fresh, log=log, equivalents=equivalents)
    from infra.mutation.stryker_run import run_stryker

    return run_stryker(module, jobs=jobs, fresh=fresh, log=log)
