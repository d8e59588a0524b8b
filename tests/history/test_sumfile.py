from pathlib import Path

import pytest

from infra.history.files import create_migration, read_migrations
from infra.history.sumfile import (
    SUM_FILE_NAME,
    chain_digests,
    first_stale_line,
    read_baseline,
    read_sum,
    record_baseline,
    render_sum,
    write_sum,
)
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


def test_a_sum_with_a_line_for_a_removed_last_file_is_stale_at_that_file(tmp_path):
    """Guards against the stale line of a history whose last file was removed naming the wrong file."""
    files = make_history(tmp_path, "CREATE TABLE a(x);", "CREATE TABLE b(x);")
    write_sum(tmp_path, files)
    (tmp_path / "0002_step_2.sql").unlink()
    assert first_stale_line(read_sum(tmp_path), read_migrations(tmp_path)) == (2, "0002_step_2.sql")


def test_a_sum_line_that_is_not_utf8_reads_as_stale(tmp_path):
    """Guards against a damaged hyphae.sum (a byte that is not UTF-8) failing every lint instead
    of showing as stale at that line."""
    files = make_history(tmp_path, "CREATE TABLE a(x);")
    write_sum(tmp_path, files)
    damaged = (tmp_path / SUM_FILE_NAME).read_bytes().replace(b"sha256:", b"sha256:\xff", 1)
    (tmp_path / SUM_FILE_NAME).write_bytes(damaged.replace(b"baseline: ", b"baseline: \xfe"))
    assert first_stale_line(read_sum(tmp_path), files) == (1, "0001_step_1.sql")
    assert read_baseline(tmp_path) == "\ufffd0001_step_1.sql"


def test_a_file_name_holding_the_separator_reads_back_whole(tmp_path):
    """Guards against reading a sum line at the first ` sha256:`: a file named with it would be
    stale forever, even right after `invoke lint --write-sum`."""
    (tmp_path / "0001_a sha256:b.sql").write_text("SELECT 1;")
    files = read_migrations(tmp_path)
    write_sum(tmp_path, files)
    assert read_sum(tmp_path) == chain_digests(files)
    assert first_stale_line(read_sum(tmp_path), files) is None


def test_an_empty_folder_gets_a_sum_without_baseline(tmp_path):
    """Guards against the first sum of an empty history failing (there is no last file to mark)."""
    write_sum(tmp_path, [])
    assert read_sum(tmp_path) == [] and read_baseline(tmp_path) is None


def test_the_sum_of_non_ascii_names_round_trips_under_a_non_utf8_locale(tmp_path, ascii_locale):
    """Guards against writing or reading hyphae.sum in the machine's locale encoding: a name that
    is not ASCII (kept as wrangler applied it) would fail or read back as another name."""
    files = make_history(tmp_path, "SELECT 1;")
    (tmp_path / "0002_café.sql").write_text("SELECT 2;", encoding="utf-8")
    files = read_migrations(tmp_path)
    write_sum(tmp_path, files)
    assert read_baseline(tmp_path) == "0002_café.sql"
    assert read_sum(tmp_path) == chain_digests(files)
    (tmp_path / "0003_señal.sql").write_text("SELECT 3;", encoding="utf-8")
    record_baseline(tmp_path, "0003_señal.sql")
    assert read_baseline(tmp_path) == "0003_señal.sql"
    assert read_sum(tmp_path) == chain_digests(files)


def test_record_baseline_creates_the_sum_from_the_files_when_there_is_none(tmp_path):
    """Guards against `migrate --adopt` on a history without hyphae.sum writing no sum, an empty
    one, or one without the adopted baseline."""
    files = make_history(tmp_path, "SELECT 1;", "SELECT 2;", "SELECT 3;")
    path = record_baseline(tmp_path, "0002_step_2.sql")
    assert path == tmp_path / SUM_FILE_NAME
    assert path.read_text(encoding="utf-8") == render_sum(chain_digests(files), "0002_step_2.sql")


def test_record_baseline_moves_the_baseline_but_keeps_the_recorded_lines(tmp_path):
    """Guards against adopting rewriting the sum from the files on disk: a file added or edited
    since the sum was written would no longer show as HIS005."""
    files = make_history(tmp_path, "SELECT 1;", "SELECT 2;")
    recorded = chain_digests(files)
    (tmp_path / SUM_FILE_NAME).write_text(render_sum(recorded), encoding="utf-8")  # an older sum: no baseline
    (tmp_path / "0003_step_3.sql").write_text("SELECT 3;")
    record_baseline(tmp_path, "0002_step_2.sql")
    assert read_baseline(tmp_path) == "0002_step_2.sql"
    assert read_sum(tmp_path) == recorded
    assert first_stale_line(read_sum(tmp_path), read_migrations(tmp_path)) == (3, "0003_step_3.sql")


@pytest.mark.parametrize("adopted", ["0001_step_1.sql", "0002_step_2.sql"])
def test_record_baseline_leaves_a_sum_whose_baseline_is_at_or_after_the_adopted_file(tmp_path, adopted):
    """Guards against adopting moving the baseline back, or rewriting a sum that needs no change
    (a hand-written note in it would be lost)."""
    files = make_history(tmp_path, "SELECT 1;", "SELECT 2;")
    text = render_sum(chain_digests(files), "0002_step_2.sql") + "# reviewed by the platform team\n"
    (tmp_path / SUM_FILE_NAME).write_text(text, encoding="utf-8")
    assert record_baseline(tmp_path, adopted) == tmp_path / SUM_FILE_NAME
    assert (tmp_path / SUM_FILE_NAME).read_text(encoding="utf-8") == text
