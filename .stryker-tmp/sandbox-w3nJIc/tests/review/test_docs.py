"""The review's docs: every mermaid diagram in them parses, and the README's sample is the golden's."""

from __future__ import annotations

from infra.paths import REPO_ROOT
from tests.review.scenario import GOLDEN, mermaid_blocks, parse_mermaid

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def test_every_mermaid_diagram_in_the_docs_parses():
    blocks = [(path.name, block) for path in DOCUMENTS for block in mermaid_blocks(path.read_text())]
    assert blocks, "the README shows a sample review with its diagram"
    verdicts = parse_mermaid([block for _, block in blocks])
    assert [(name, verdict["error"]) for (name, _), verdict in zip(blocks, verdicts) if not verdict["ok"]] == []


def test_the_readmes_sample_rows_are_the_golden_comments():
    readme, golden = (REPO_ROOT / "README.md").read_text(), (GOLDEN / "scenario.md").read_text()
    sample = readme[readme.index("### Review a pull request's migrations"):readme.index("### Build and verify")]
    rows = [line for line in sample.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| |")]
    assert rows and [row for row in rows if row not in golden] == []
