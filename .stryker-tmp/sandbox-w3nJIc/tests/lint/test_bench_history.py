"""The lint benchmark's generated history is a real, clean history (so its timings measure a
linter that replays everything, not one that stops at the first error), and `invoke bench`
selects benchmarks by name."""

from __future__ import annotations

import pytest

from infra.bench import BenchResult, Measurement, Target, render_table
from infra.bench.lint import generate_history
from infra.commands.bench import BENCHMARKS, selected_benchmarks
from infra.errors import UsageError
from infra.lint import lint_migrations


def test_generated_history_has_18_statements_per_migration_and_lints_clean(tmp_path):
    statements = generate_history(tmp_path, migrations=40)
    report = lint_migrations(tmp_path, use_cache=False)
    assert statements == 40 + 39 * 18 == report.statements_checked
    assert report.findings == []


def test_only_filter_selects_known_benchmarks_and_refuses_unknown_ones():
    assert selected_benchmarks("") == list(BENCHMARKS)
    assert selected_benchmarks(" lint ") == ["lint"]
    with pytest.raises(UsageError, match="--only 'lnt'.*did you mean 'lint'"):
        selected_benchmarks("lnt")


def test_table_shows_rows_and_whether_targets_were_met():
    text = render_table(BenchResult("demo", [Measurement("bare", 1.0, "floor")], [Target("fast", False, "2.0x")], ["n"]))
    assert "bare" in text and "1.000" in text and "[NOT MET] fast (2.0x)" in text and "note: n" in text
