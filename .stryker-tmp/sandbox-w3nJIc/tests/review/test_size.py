"""A 500-table change still fits in one comment: GitHub refuses a body over 65,536 characters."""

from __future__ import annotations

from pathlib import Path

from infra.review.collect import ReviewRequest, read_review
from infra.review.markdown import COMMENT_BUDGET, COMMENT_LIMIT, render_markdown
from tests.review.scenario import make_pull_request, mermaid_blocks, parse_mermaid

TABLES = 500


def wide_history() -> tuple[dict[str, str], dict[str, str]]:
    """A base of 500 chained tables; a pull request that adds 500 tables, each referencing one of
    them, and rewrites every row of each base table (a SAFE003 per table). ALTER TABLE would do
    too, but SQLite re-reads the whole schema on each one, which makes 500 of them slow to replay."""
    base = ["CREATE TABLE IF NOT EXISTS table_000 (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);"]
    base += [f"CREATE TABLE IF NOT EXISTS table_{n:03d} (id INTEGER PRIMARY KEY, "
             f"parent_id INTEGER REFERENCES table_{n - 1:03d} (id), name TEXT NOT NULL, note TEXT);"
             for n in range(1, TABLES)]
    change = []
    for n in range(TABLES):
        change += [f"CREATE TABLE IF NOT EXISTS label_{n:03d} (id INTEGER PRIMARY KEY, "
                   f"table_id INTEGER NOT NULL REFERENCES table_{n:03d} (id), label TEXT NOT NULL, "
                   f"created_at INTEGER NOT NULL DEFAULT 0);",
                   f"UPDATE table_{n:03d} SET note = trim(note);"]
    return {"0001_base.sql": "\n".join(base) + "\n"}, {"0002_labels.sql": "\n".join(change) + "\n"}


def test_a_500_table_change_fits_in_one_comment_and_the_full_text_keeps_everything(tmp_path, monkeypatch):
    # One test, not three: the review of 500 tables is the slow part, and pytest-xdist would make
    # it once per worker that runs a test of this module.
    root = tmp_path / "repo"
    make_pull_request(root, *wide_history())
    for name, value in {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "myco/team-sync",
                        "GITHUB_RUN_ID": "77"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    monkeypatch.chdir(root)
    review = read_review(ReviewRequest(Path("migrations"), ["local"], None, (), root / "dist"))
    assert len(review.changes.changes) == TABLES
    assert len(review.risks) == TABLES  # a SAFE003 per table rewritten

    comment = render_markdown(review)
    assert len(comment.encode("utf-8")) <= COMMENT_BUDGET < COMMENT_LIMIT
    assert "the full review is in [this run's summary](https://github.com/myco/team-sync/actions/runs/77)" in comment
    assert comment.count("<details") == comment.count("</details>") == 3
    assert f"{TABLES - 15:,} more changes" in comment and f"{TABLES - 15:,} more findings" in comment
    # no local database here (as in CI): no list of every migration, and no "pending" in the headline
    assert "| `local` | schema 0000 of 0002 | all 2 migrations (nothing applied yet) | ✅ none |" in comment
    assert "pending" not in comment.splitlines()[1]

    full = render_markdown(review, full=True)
    assert len(full) > COMMENT_LIMIT
    for n in (0, 250, 499):
        assert f"| added | table `label_{n:03d}` |" in full and f"UPDATE table_{n:03d} without WHERE" in full
    assert full.count("| ❌ error | SAFE003 |") == TABLES

    assert "**Before**: no changed table exists before the change." in comment  # every changed table is new
    blocks = mermaid_blocks(comment)
    assert len(blocks) == 1 and "more table(s) left out" in blocks[0]
    assert parse_mermaid(blocks) == [{"ok": True, "type": "er", "error": None}]
