"""Which migrations are the pull request's: the folder against the merge base, on a laptop and in Actions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra.errors import UsageError
from infra.review.base import read_history_change
from tests.review.scenario import commit_pull_request, fixture_files, git, make_pull_request, start_repository

BASE = fixture_files("base")
PULL_REQUEST = fixture_files("pull_request")


def test_the_new_migrations_are_the_files_added_since_the_merge_base_with_main(tmp_path):
    directory = make_pull_request(tmp_path / "repo", BASE, PULL_REQUEST)
    change = read_history_change(directory)
    assert change.base.ref == "main"
    assert change.base.commit == git(tmp_path / "repo", "merge-base", "HEAD", "main")
    assert [file.name for file in change.base.files] == ["0001_initial.sql"]
    assert change.added == sorted(PULL_REQUEST)
    assert change.edited == [] and change.deleted == []
    assert [file.name for file in change.new_files] == sorted(PULL_REQUEST)


def test_commits_on_main_after_the_branch_point_are_not_the_pull_requests(tmp_path):
    root = tmp_path / "repo"
    directory = make_pull_request(root, BASE, PULL_REQUEST)
    git(root, "checkout", "-q", "main")
    (directory / "0002_on_main.sql").write_text("CREATE TABLE IF NOT EXISTS on_main (id INTEGER);\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main moved on")
    git(root, "checkout", "-q", "pull-request")
    change = read_history_change(directory)
    assert "0002_on_main.sql" not in [file.name for file in change.base.files]
    assert change.added == sorted(PULL_REQUEST)


def test_uncommitted_work_on_a_laptop_is_reviewed_too(tmp_path):
    directory = start_repository(tmp_path / "repo", BASE)
    (directory / "0002_wip.sql").write_text("CREATE TABLE IF NOT EXISTS wip (id INTEGER);\n")
    assert read_history_change(directory).added == ["0002_wip.sql"]


def test_an_edited_and_a_deleted_migration_are_told_apart_from_new_ones(tmp_path):
    root = tmp_path / "repo"
    directory = start_repository(root, BASE | {"0002_extra.sql": "CREATE TABLE IF NOT EXISTS extra (id INTEGER);\n"})
    git(root, "checkout", "-q", "-b", "pull-request")
    (directory / "0001_initial.sql").write_text(BASE["0001_initial.sql"] + "\nCREATE TABLE IF NOT EXISTS t (x);\n")
    (directory / "0002_extra.sql").unlink()
    change = read_history_change(directory)
    assert (change.added, change.edited, change.deleted) == ([], ["0001_initial.sql"], ["0002_extra.sql"])


def test_an_explicit_base_and_github_base_ref_are_used(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    directory = make_pull_request(root, BASE, PULL_REQUEST)
    git(root, "branch", "release", "main")
    assert read_history_change(directory, "release").base.ref == "release"
    git(root, "update-ref", "refs/remotes/origin/release", "main")
    monkeypatch.setenv("GITHUB_BASE_REF", "release")  # what GitHub Actions sets for a pull request to `release`
    assert read_history_change(directory).base.ref == "origin/release"


def test_a_folder_the_base_did_not_have_has_an_empty_history_before(tmp_path):
    root = tmp_path / "repo"
    start_repository(root, BASE)
    git(root, "checkout", "-q", "-b", "pull-request")
    other = root / "db" / "migrations"
    other.mkdir(parents=True)
    (other / "0001_first.sql").write_text("CREATE TABLE IF NOT EXISTS first (id INTEGER);\n")
    change = read_history_change(other)
    assert change.base.files == [] and change.added == ["0001_first.sql"]


def test_an_unknown_base_is_a_usage_error_naming_it(tmp_path):
    directory = make_pull_request(tmp_path / "repo", BASE, PULL_REQUEST)
    with pytest.raises(UsageError, match=r"^--base origin/mian: no such commit in this clone; fetch it"):
        read_history_change(directory, "origin/mian")


def test_a_folder_outside_git_is_a_usage_error(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    with pytest.raises(UsageError, match=r"is not inside a git repository"):
        read_history_change(folder)


def test_no_base_branch_at_all_says_to_pass_one(tmp_path):
    root = tmp_path / "repo"
    directory = start_repository(root, BASE)
    git(root, "branch", "-m", "main", "trunk")
    with pytest.raises(UsageError, match=r"^no base branch to compare with \(tried origin/main, main\); pass --base REF"):
        read_history_change(directory)


def test_a_shallow_clone_without_the_merge_base_says_how_to_fetch_it(tmp_path):
    origin = tmp_path / "origin"
    start_repository(origin, BASE)
    commit_pull_request(origin, PULL_REQUEST)
    git(origin, "checkout", "-q", "main")
    (origin / "migrations" / "0002_main_only.sql").write_text("CREATE TABLE IF NOT EXISTS m (id INTEGER);\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "main moved on")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{origin}", str(clone)],
                   check=True, capture_output=True)
    git(clone, "checkout", "-q", "pull-request")
    with pytest.raises(UsageError, match=r"have no merge base in this clone \(a shallow clone\?\); fetch the history "
                                         r"\(actions/checkout with fetch-depth: 0"):
        read_history_change(Path(clone / "migrations"))
