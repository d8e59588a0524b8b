"""The pull request's review: one comment that says what its migrations change (replayed before
and after, drawn as mermaid ER diagrams), their risks with live row counts, the plan per
environment (pending migrations, deploy order, the saved dev preview, drift) and the commit and
artifact. Entry point: `infra.review.collect.read_review`, rendered by `markdown.py` or `human.py`.
See docs/review.md.
"""
