"""A tiny benchmark framework: each benchmark module has `run() -> BenchResult`; `invoke bench`
prints one table per benchmark with every peer measured in the same run, then its targets and
whether they were met. Benchmarks are evidence, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Measurement:
    """One row of a table: what was run, how long it took, and what it did."""

    name: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class Target:
    description: str
    met: bool
    observed: str = ""


@dataclass
class BenchResult:
    title: str
    rows: list[Measurement] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def timed(function: Callable[[], T]) -> tuple[float, T]:
    """(wall-clock seconds, result) of one call."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def best_of(runs: int, function: Callable[[], T]) -> tuple[float, T]:
    """The fastest of `runs` calls, and its result: on a shared machine the minimum is the
    measurement least disturbed by other work."""
    return min((timed(function) for _ in range(runs)), key=lambda pair: pair[0])


def render_table(result: BenchResult) -> str:
    """The result as a plain-text table (monospace-aligned), then targets and notes."""
    name_width = max([len("measurement")] + [len(row.name) for row in result.rows])
    lines = [result.title, "=" * len(result.title),
             f"{'measurement':<{name_width}}  {'seconds':>9}  detail",
             f"{'-' * name_width}  {'-' * 9}  {'-' * 6}"]
    lines += [f"{row.name:<{name_width}}  {row.seconds:>9.3f}  {row.detail}" for row in result.rows]
    if result.targets:
        lines.append("")
        lines += [f"[{'met' if target.met else 'NOT MET'}] {target.description}"
                  + (f" ({target.observed})" if target.observed else "") for target in result.targets]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


@contextlib.contextmanager
def scratch_variables(**variables: str):
    """Set environment variables for the benchmark and put the previous values back after."""
    previous = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
