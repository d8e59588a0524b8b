"""The mutation report: one table of scores per module, then every surviving mutant with its change.

`render_text` is what `invoke mutate` prints and what the weekly workflow uploads (with
`render_json`, the same facts for a machine). Read-only.
"""

from __future__ import annotations

import json

from infra.mutation.modules import GOAL
from infra.mutation.score import ModuleScore

HEADER = ("module", "tool", "mutants", "equivalent", "counted", "killed", "survived", "score", f"goal {GOAL:.0%}")


def render_text(scores: list[ModuleScore]) -> str:
    rows = [HEADER] + [_row(score) for score in scores]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    for score in scores:
        lines += _details(score)
    return "\n".join(lines) + "\n"


def _row(score: ModuleScore) -> tuple[str, ...]:
    shown = f"{score.score:.1%}" if score.score is not None else "-"
    verdict = "met" if score.goal_met else ("incomplete" if score.unchecked else "missed")
    return (score.module, score.tool, str(len(score.mutants)), str(len(score.equivalent)), str(len(score.counted)),
            str(score.killed), str(len(score.survivors)), shown, verdict)


def _details(score: ModuleScore) -> list[str]:
    lines = []
    if score.survivors:
        lines += ["", f"{score.module}: {len(score.survivors)} surviving mutant(s)"]
        for mutant in score.survivors:
            lines.append(f"  {mutant.file}  {mutant.where}  [{mutant.status}]  {mutant.name}")
            lines += [f"      {line}" for line in mutant.change]
    for entry in score.stale:
        lines.append(f"{score.module}: equivalents entry matches no mutant any more ({entry.file} {entry.where}: "
                     f"{' / '.join(entry.change)}); update or remove it in tests/mutation/equivalents.yaml")
    for entry, mutant in score.contradicted:
        lines.append(f"{score.module}: listed as equivalent but a test kills it ({mutant.name}, {entry.file} "
                     f"{entry.where}); remove it from tests/mutation/equivalents.yaml")
    return lines


def render_json(scores: list[ModuleScore]) -> str:
    return json.dumps({
        "goal": GOAL,
        "modules": [{
            "module": score.module, "tool": score.tool, "mutants": len(score.mutants),
            "equivalent": len(score.equivalent), "counted": len(score.counted), "killed": score.killed,
            "score": score.score, "goal_met": score.goal_met, "not_checked": score.unchecked,
            "survivors": [{"name": m.name, "file": m.file, "where": m.where, "status": m.status, "change": list(m.change)}
                          for m in score.survivors],
            "stale_equivalents": [{"file": e.file, "where": e.where, "change": list(e.change)} for e in score.stale],
            "contradicted_equivalents": [mutant.name for _, mutant in score.contradicted],
        } for score in scores],
    }, indent=1) + "\n"
