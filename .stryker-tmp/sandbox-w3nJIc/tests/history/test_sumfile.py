from pathlib import Path

from infra.history.files import create_migration, read_migrations
from infra.history.sumfile import chain_digests, first_stale_line, read_sum, write_sum
from infra.paths import DEFAULT_MIGRATIONS_DIR


def make_history(folder: Path, *bodies: str) -> list:
    for number, body in enumerate(bodies, start=1):
        (folder / f"{number:04d}_step_{number}.sql").write_text(body)
    return read_migrations(folder)


def test_committed_sum_matches_the_committed_history():
    files = read_migrations(DEFAULT_MIGRATIONS_DIR)
    assert first_stale_line(read_sum(DEFAULT_MIGRATIONS_DIR), files) is None


def test_editing_one_file_changes_its_line_and_every_later_line(tmp_path):
    files = make_history(tmp_path, "CREATE TABLE a(x);", "CREATE TABLE b(x);", "CREATE TABLE c(x);")
    before = chain_digests(files)
    (tmp_path / "0002_step_2.sql").write_text("CREATE TABLE b(y);")
    after = chain_digests(read_migrations(tmp_path))
    assert before[0] == after[0]
    assert before[1] != after[1] and before[2] != after[2]


def test_reordering_history_is_stale_at_the_first_moved_file(tmp_path):
    files = make_history(tmp_path, "CREATE TABLE a(x);", "CREATE TABLE b(x);")
    write_sum(tmp_path, files)
    (tmp_path / "0002_step_2.sql").rename(tmp_path / "0000_step_2.sql")
    assert first_stale_line(read_sum(tmp_path), read_migrations(tmp_path)) == (1, "0000_step_2.sql")


def test_new_migration_is_next_number(tmp_path):
    make_history(tmp_path, "CREATE TABLE a(x);")
    assert create_migration(tmp_path, "add_b").name == "0002_add_b.sql"


def test_missing_sum_file_reads_as_none(tmp_path):
    assert read_sum(tmp_path) is None
