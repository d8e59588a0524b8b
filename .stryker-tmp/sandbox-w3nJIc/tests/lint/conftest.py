"""Helpers for lint tests: write small migration folders and lint them for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.lint import lint_migrations


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
    """lint_history(*bodies) -> LintReport of a fresh folder with those migrations."""

    def run(*bodies: str, use_cache: bool = False):
        folder = tmp_path / f"history_{len(list(tmp_path.glob('history_*')))}"
        write_history(folder, *bodies)
        return lint_migrations(folder, use_cache=use_cache)

    return run


def codes_at(report, file_suffix: str) -> list[tuple[str, int]]:
    return [(finding.code, finding.line) for finding in report.findings if finding.file.endswith(file_suffix)]
