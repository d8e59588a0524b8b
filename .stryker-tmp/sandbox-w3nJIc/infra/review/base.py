"""The pull request's base: the migration history before the change, read from git.

A pull request's new migrations are the files of the migrations folder that differ from the merge
base of HEAD and the base branch (what GitHub's "Files changed" tab compares against). The base
is `--base REF` when given; otherwise, in GitHub Actions, `origin/$GITHUB_BASE_REF` (the pull
request's target branch); otherwise `origin/main`, then `main`. The files after the change are
the working tree's, so a laptop reviews uncommitted work too.

Read-only: `git merge-base`, `git ls-tree` and one `git cat-file --batch` for every file's text.
Raises UsageError (exit 2) for a folder outside git, an unknown ref, or a clone too shallow to
have the merge base.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.errors import UsageError
from infra.history.files import MigrationFile, read_migrations

DEFAULT_BASES = ("origin/main", "main")


@dataclass(frozen=True)
class BaseHistory:
    ref: str  # the ref compared with, as given or found: "origin/main"
    commit: str  # the merge base of HEAD and `ref`
    files: list[MigrationFile]  # the migrations folder at `commit`, sorted by name


@dataclass(frozen=True)
class HistoryChange:
    """The migration files of the pull request, against its base."""

    base: BaseHistory
    files: list[MigrationFile]  # the folder now (working tree), sorted by name
    added: list[str]  # file names new in the pull request
    edited: list[str]  # file names at the base whose text the pull request changes
    deleted: list[str]  # file names at the base that are gone

    @property
    def new_files(self) -> list[MigrationFile]:
        """The added and edited files, in history order: what the review is about."""
        touched = set(self.added) | set(self.edited)
        return [file for file in self.files if file.name in touched]


def read_history_change(directory: Path, base_ref: str | None = None) -> HistoryChange:
    """The migrations folder now against the same folder at the merge base (read-only)."""
    base = read_base_history(directory, base_ref)
    files = read_migrations(directory)
    before = {file.name: file.text for file in base.files}
    now = {file.name: file.text for file in files}
    return HistoryChange(
        base=base,
        files=files,
        added=[name for name in now if name not in before],
        edited=[name for name in now if name in before and before[name] != now[name]],
        deleted=[name for name in before if name not in now],
    )


def read_base_history(directory: Path, base_ref: str | None = None) -> BaseHistory:
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"--path {directory}: no such migrations folder")
    top = _git(directory, "rev-parse", "--show-toplevel", failure=f"{directory} is not inside a git repository, so "
               "the pull request's base cannot be read; run the review in a git checkout")
    top = Path(top.strip())
    ref = base_ref or _default_base(top)
    _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
         failure=f"--base {ref}: no such commit in this clone; fetch it (e.g. `git fetch origin main`) or pass "
                 "--base REF")
    commit = _git(top, "merge-base", "HEAD", ref,
                  failure=f"HEAD and {ref} have no merge base in this clone (a shallow clone?); fetch the history "
                          "(actions/checkout with fetch-depth: 0, or `git fetch --unshallow`) or pass --base REF").strip()
    folder = directory.resolve().relative_to(top.resolve()).as_posix()
    return BaseHistory(ref, commit, _read_folder_at(top, commit, folder, directory))


def _default_base(top: Path) -> str:
    target = os.environ.get("GITHUB_BASE_REF")  # set by GitHub Actions for pull_request events
    candidates = ((f"origin/{target}",) if target else ()) + DEFAULT_BASES
    for candidate in candidates:
        if _git_ok(top, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"):
            return candidate
    raise UsageError(f"no base branch to compare with (tried {', '.join(candidates)}); pass --base REF, e.g. "
                     "--base origin/main")


def _read_folder_at(top: Path, commit: str, folder: str, directory: Path) -> list[MigrationFile]:
    """The `*.sql` files directly in `folder` at `commit`; none when the folder did not exist then."""
    listing = _git(top, "ls-tree", "-z", "--name-only", commit, "--", f"{folder}/" if folder != "." else ".",
                   failure=f"git could not list {folder} at {commit[:12]}")
    names = sorted(Path(entry).name for entry in listing.split("\0")
                   if entry.endswith(".sql") and Path(entry).parent.as_posix() == folder)
    if not names:
        return []
    prefix = "" if folder == "." else f"{folder}/"
    texts = _read_blobs(top, [f"{commit}:{prefix}{name}" for name in names])
    return [MigrationFile(path=directory / name, text=text) for name, text in zip(names, texts)]


def _read_blobs(top: Path, objects: list[str]) -> list[str]:
    """Each object's text through one `git cat-file --batch` (one process for any history length)."""
    result = subprocess.run(["git", "-C", str(top), "cat-file", "--batch"], input="\n".join(objects).encode() + b"\n",
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise UsageError(f"git cat-file failed: {result.stderr.decode(errors='replace').strip()}")
    output, position, texts = result.stdout, 0, []
    for name in objects:
        header_end = output.index(b"\n", position)
        header = output[position:header_end].split()
        if len(header) != 3:
            raise UsageError(f"git could not read {name}: {output[position:header_end].decode(errors='replace')}")
        size = int(header[2])
        body = output[header_end + 1: header_end + 1 + size]
        position = header_end + 1 + size + 1  # the blob, then a newline
        try:
            texts.append(body.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise UsageError(f"{name}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return texts


def _git(cwd: Path, *args: str, failure: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)
    except OSError:
        raise UsageError("git is not installed; the review reads the pull request's base with git") from None
    if result.returncode != 0:
        raise UsageError(failure)
    return result.stdout


def _git_ok(cwd: Path, *args: str) -> bool:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False).returncode == 0
    except OSError:
        return False
