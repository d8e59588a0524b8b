"""`invoke review` as a person or CI runs it: exit codes, one-line errors, the full text, no Pulumi."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.paths import REPO_ROOT
from infra.review.markdown import MARKER
from tests.review.scenario import FIXTURES

INVOKE = str(REPO_ROOT / ".venv" / "bin" / "invoke")


def invoke_review(cwd: Path, *flags: str, **variables: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "HYPHAE_NO_PULUMI_CLI": "1", **variables}
    return subprocess.run([INVOKE, "--search-root", str(REPO_ROOT), "review", "--path", "migrations", *flags],
                          cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


def test_markdown_goes_to_stdout_and_the_full_text_to_a_file(pull_request, github_actions, tmp_path):
    full = tmp_path / "review-full.md"
    result = invoke_review(pull_request, "--format", "markdown", "--preview", str(FIXTURES / "preview-dev.json"),
                           "--artifact", "dist", "--full-output", str(full))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(MARKER + "\n### ❌ hyphae review: 3 new migrations")
    assert full.read_text() == result.stdout  # short enough: nothing was summarized
    assert result.stderr == ""


def test_the_terminal_review_is_the_default(pull_request, outside_actions):
    result = invoke_review(pull_request)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("review against main (")
    assert "  error    SAFE001  migrations/0004_trim_sessions.sql:3  DROP COLUMN mood on sessions" in result.stdout


def test_an_environment_that_cannot_be_read_is_in_the_review_and_exits_2(pull_request, outside_actions):
    variables = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDFLARE_")}
    result = subprocess.run([INVOKE, "--search-root", str(REPO_ROOT), "review", "--path", "migrations",
                             "--env", "local", "--env", "staging"],
                            cwd=pull_request, capture_output=True, text=True, timeout=300,
                            env={**variables, "HYPHAE_NO_PULUMI_CLI": "1",
                                 "HYPHAE_STAGING_DATABASE_ID": "00000000-0000-0000-0000-000000000000"})
    assert result.returncode == 2
    assert "  staging: not read: CLOUDFLARE_API_TOKEN is not set" in result.stdout
    assert "  local: clean; schema at 0001 of 0004" in result.stdout
    assert result.stderr.strip() == ("hyphae: error: review printed, but staging could not be read "
                                     "(see the review)")


def test_a_bad_base_is_one_line_and_exit_2(pull_request):
    result = invoke_review(pull_request, "--base", "origin/mian")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("hyphae: error: --base origin/mian: no such commit in this clone")
    assert "Traceback" not in result.stderr


def test_a_format_typo_is_named_with_the_closest_choice(pull_request):
    result = invoke_review(pull_request, "--format", "markdwn")
    assert result.returncode == 2
    assert result.stderr.strip() == ("hyphae: error: --format 'markdwn' is not one of human, markdown; "
                                     "did you mean 'markdown'?")


def test_a_preview_that_was_not_saved_is_in_the_review_and_exits_2(pull_request, outside_actions):
    """In CI the preview step may fail and write nothing: the comment must still be made, and say so."""
    result = invoke_review(pull_request, "--format", "markdown", "--preview", "nowhere.json")
    assert result.returncode == 2
    assert "⚠️ Not read: --preview nowhere.json: no such file (save it with `invoke preview --env dev --json " \
           "nowhere.json`)" in result.stdout
    assert "<summary><b>Plan per environment</b>: no drift; 1 preview not read</summary>" in result.stdout
    assert result.stderr.strip() == ("hyphae: error: review printed, but --preview nowhere.json could not be read "
                                     "(see the review)")


def test_the_review_does_not_import_pulumi(pull_request):
    code = ("import sys; from pathlib import Path; from infra.review.collect import ReviewRequest, read_review; "
            "read_review(ReviewRequest(Path('migrations'), ['local'])); import tasks; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_cloudflare')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=pull_request, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert result.stdout.strip() == "[]", result.stderr
