"""Helpers for lint tests: write small migration folders and lint them for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.history.files import read_migrations
from infra.history.sumfile import chain_digests, render_sum
from infra.lint import lint_migrations
from infra.lint.rules import OPT_IN_CODES


def write_history(folder: Path, *bodies: str) -> list[Path]:
    """Write 0001_step_1.sql, 0002_step_2.sql, ... holding `bodies`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, body in enumerate(bodies, start=1):
        path = folder / f"{number:04d}_step_{number}.sql"
        path.write_text(body)
        paths.append(path)
    return paths


@pytest.fixture
def lint_history(tmp_path: Path):
    """lint_history(*bodies) -> LintReport of a fresh folder with those migrations, every opt-in
    rule enabled (IDEM001); pass enable=() for the default set."""

    def run(*bodies: str, use_cache: bool = False, enable=OPT_IN_CODES):
        folder = tmp_path / f"history_{len(list(tmp_path.glob('history_*')))}"
        write_history(folder, *bodies)
        return lint_migrations(folder, use_cache=use_cache, enable=enable)

    return run


def sum_without_baseline(folder: Path) -> None:
    """A hyphae.sum written before baselines existed: numbering rules apply to every file."""
    (folder / "hyphae.sum").write_text(render_sum(chain_digests(read_migrations(folder))))


def codes_at(report, file_suffix: str) -> list[tuple[str, int]]:
    return [(finding.code, finding.line) for finding in report.findings if finding.file.endswith(file_suffix)]
