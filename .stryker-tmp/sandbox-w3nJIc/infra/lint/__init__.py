"""The migration linter: split (splitter.py), read with sqlglot (rules/), replay in a scratch
SQLite engine with D1's rules (engine.py), cache the replay (cache.py), report (findings.py,
report.py). Entry point: `lint_migrations(directory)`.
"""

from __future__ import annotations


def lint_migrations(directory, *, extra_findings=(), use_cache=True):
    """See infra.lint.linter.lint_migrations (imported lazily: sqlglot is not needed to read findings)."""
    from infra.lint.linter import lint_migrations as run_linter

    return run_linter(directory, extra_findings=extra_findings, use_cache=use_cache)
