"""Discovering migration files, their order, and naming the next one (infra/history/files.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from infra.errors import UsageError
from infra.history.files import (
    check_new_migration,
    create_migration,
    is_prisma_layout,
    latest_version,
    leading_number,
    read_migrations,
)


def _write(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"-- {name}\n")
    return folder


def test_files_without_a_leading_number_sort_after_the_numbered_ones(tmp_path):
    """Guards against a name without a number breaking the order (wrangler runs such files last)."""
    folder = _write(tmp_path / "m", "init.sql", "0002_b.sql", "10_c.sql", "0001_a.sql")
    assert [migration.name for migration in read_migrations(folder)] == ["0001_a.sql", "0002_b.sql", "10_c.sql", "init.sql"]
    assert leading_number("init.sql") is None and leading_number("0010-x.sql") == 10


def test_a_migration_that_is_not_utf8_is_refused_with_its_path_and_byte(tmp_path):
    """Guards against an unreadable migration failing without naming the file and the byte."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_a.sql").write_bytes(b"-- caf\xe9\n")
    with pytest.raises(UsageError) as raised:
        read_migrations(folder)
    assert str(raised.value) == f"{folder / '0001_a.sql'}: not UTF-8 text (invalid continuation byte at byte 6)"


def test_a_utf8_migration_reads_alike_under_a_non_utf8_locale(tmp_path, ascii_locale):
    """Guards against reading migrations in the machine's locale encoding: its text, and so the
    sha256 the ledger compares, would differ from one machine to the next."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_a.sql").write_bytes("-- café\nSELECT 1;\n".encode())
    (migration,) = read_migrations(folder)
    assert migration.text == "-- café\nSELECT 1;\n"
    assert migration.sha256 == hashlib.sha256("-- café\nSELECT 1;\n".encode()).hexdigest()


def test_the_first_new_migration_of_an_empty_folder_is_0001_with_a_title_comment(tmp_path):
    """Guards against the numbering of an empty history starting anywhere but 0001, and against
    the new file's title comment changing."""
    folder = tmp_path / "m"
    folder.mkdir()
    assert latest_version([]) == 0
    path = create_migration(folder, "add_team_roles")
    assert path == folder / "0001_add_team_roles.sql"
    assert path.read_text() == "-- 0001 add team roles\n"


def test_a_bad_slug_is_refused_with_the_rule(tmp_path):
    """Guards against the slug error losing the rule the user must follow."""
    with pytest.raises(UsageError) as raised:
        check_new_migration(tmp_path, "Bad Slug")
    assert str(raised.value) == "migration slug 'Bad Slug' must be lower-case letters, digits and single underscores"


def test_new_refuses_a_prisma_folder_and_says_what_to_use(tmp_path):
    """Guards against `invoke new` writing a NNNN_slug.sql file into prisma's layout, which
    wrangler would not apply, or refusing without saying why."""
    folder = _write(tmp_path / "m", "20240101000000_init/migration.sql")
    assert is_prisma_layout(folder)
    with pytest.raises(UsageError) as raised:
        check_new_migration(folder, "add_b")
    assert str(raised.value) == (
        f"{folder} holds prisma's layout (<timestamp>_name/migration.sql), which wrangler does not apply; "
        "`invoke new` writes NNNN_slug.sql files: use a wrangler migrations folder")


@pytest.mark.parametrize("names", [(), ("0001_a.sql",), ("0001_a.sql", "old/migration.sql")])
def test_a_wrangler_folder_is_not_prisma_layout_even_with_a_migration_sql_below_it(tmp_path, names):
    """Guards against an empty folder, or a wrangler folder holding a stray `*/migration.sql`,
    being taken for prisma's layout (`invoke new` would refuse it)."""
    folder = _write(tmp_path / "m", *names)
    assert not is_prisma_layout(folder)
    check_new_migration(folder, "add_b")
