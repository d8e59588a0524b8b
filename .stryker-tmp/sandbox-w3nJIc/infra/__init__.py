"""hyphae: the GitOps deployment and schema-migration pipeline for Myco's team-sync Worker.

The package is the pipeline; `tasks.py` (invoke), the Pulumi program and the CI workflows are
thin skins over it. See docs/architecture.md for the layout.
"""
