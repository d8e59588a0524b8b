"""`invoke lint` and `invoke new`: the migration linter and the next migration file.

Thin skins over `infra.lint.lint_migrations` and `infra.history`. Exit codes: 0 no error, 1 an
error found, 2 a usage error (a path that does not exist, an unknown format or environment).
"""

from __future__ import annotations

from pathlib import Path

from invoke import Exit, task

from infra.commands import choose, reports_errors
from infra.paths import DEFAULT_MIGRATIONS_DIR


@task(help={
    "path": "migrations folder (default: migrations/)",
    "format": "output: human (default), json or github (workflow annotations)",
    "env": "also compare with this environment's ledger (HIS002-HIS004)",
    "write-sum": "rewrite hyphae.sum from the files first (after an intended history change)",
})
@reports_errors
def lint(c, path=None, format="human", env=None, write_sum=False):
    """Lint the migrations: sqlglot reads each statement, a scratch SQLite with D1's rules replays them."""
    from infra.lint import lint_migrations
    from infra.lint.report import FORMATS, render

    output_format = choose(format, FORMATS, "--format")
    directory = _existing_folder(path)
    if write_sum:
        _rewrite_sum(directory)
    extra = _ledger_findings(env, directory) if env else []
    report = lint_migrations(directory, extra_findings=extra)
    print(render(report, output_format))
    if not report.ok:
        raise Exit(code=1)


@task(help={"slug": "lower-case words joined by underscores, e.g. add_team_roles",
            "path": "migrations folder (default: migrations/)"})
@reports_errors
def new(c, slug, path=None):
    """Create the next-numbered migration file NNNN_SLUG.sql and update hyphae.sum."""
    from infra.history.files import create_migration

    directory = _existing_folder(path)
    _refuse_stale_sum(directory)
    created = create_migration(directory, slug)
    _rewrite_sum(directory)
    print(f"created {created} (hyphae.sum updated)")


def _existing_folder(path: str | None) -> Path:
    from infra.errors import UsageError

    directory = Path(path) if path else DEFAULT_MIGRATIONS_DIR
    if not directory.is_dir():
        raise UsageError(f"--path {directory}: no such migrations folder")
    return directory


def _refuse_stale_sum(directory: Path) -> None:
    """Rewriting a stale sum would bless an unreviewed history change (HIS005): refuse instead."""
    from infra.errors import LintFailed
    from infra.history.files import read_migrations
    from infra.history.sumfile import SUM_FILE_NAME, first_stale_line, read_sum

    recorded = read_sum(directory)
    stale = recorded is not None and first_stale_line(recorded, read_migrations(directory))
    if stale:
        number, name = stale
        raise LintFailed(f"{directory / SUM_FILE_NAME} is stale from entry {number} ({name}); review that history "
                         "change, run `invoke lint --write-sum`, then `invoke new` again (nothing was written)")


def _rewrite_sum(directory: Path) -> None:
    from infra.history.files import read_migrations
    from infra.history.sumfile import write_sum

    write_sum(directory, read_migrations(directory))


def _ledger_findings(env_name: str, directory: Path) -> list:
    """HIS002-HIS004 for `env_name`, from the ledger helper (imported lazily: it reads a database)."""
    from infra.errors import UsageError

    try:
        from infra.ledger.verify import ledger_findings_for_environment
    except ImportError:
        raise UsageError(f"--env {env_name}: comparing with an environment's ledger needs infra/ledger/verify.py, "
                         "which this checkout does not have yet") from None
    return ledger_findings_for_environment(env_name, directory)
