"""The review of the main scenario, compared with golden files reviewed by eye once.

A pull request that adds a table (session_labels), rebuilds one (spores: its DROP allowed with
SAFE001), drops a column (sessions.mood: SAFE001, an error) and renames one (machines.name:
SAFE002), against a local database holding rows, with a saved dev preview and a built artifact.
After an intended change to the review's text, rewrite the goldens with
`HYPHAE_UPDATE_GOLDENS=1 ./run test -a tests/review/test_golden.py`, and read the diff.
"""

from __future__ import annotations

import os

from infra.review.human import render_human
from infra.review.markdown import MARKER, render_markdown
from tests.review.scenario import GOLDEN, mermaid_blocks, parse_mermaid


def assert_matches_golden(text: str, name: str) -> None:
    path = GOLDEN / name
    if os.environ.get("HYPHAE_UPDATE_GOLDENS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; write it with HYPHAE_UPDATE_GOLDENS=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"the review differs from {path} (see the docstring to update it)"


def test_the_comment_matches_its_golden_file(scenario_review):
    assert_matches_golden(render_markdown(scenario_review), "scenario.md")


def test_the_terminal_review_matches_its_golden_file(scenario_review):
    assert_matches_golden(render_human(scenario_review), "scenario.txt")


def test_a_short_comment_is_its_full_text(scenario_review):
    assert render_markdown(scenario_review) == render_markdown(scenario_review, full=True)


def test_the_comment_starts_with_its_marker_and_has_every_section_in_order(scenario_review):
    text = render_markdown(scenario_review)
    assert text.startswith(MARKER + "\n")
    positions = [text.index(f"<summary><b>{title}</b>") for title in ("What changes", "Risks", "Plan per environment")]
    assert positions == sorted(positions)
    assert text.count("<details") == text.count("</details>")


def test_both_diagrams_parse_with_mermaids_own_parser(scenario_review):
    blocks = mermaid_blocks(render_markdown(scenario_review))
    assert len(blocks) == 2
    assert parse_mermaid(blocks) == [{"ok": True, "type": "er", "error": None}] * 2
