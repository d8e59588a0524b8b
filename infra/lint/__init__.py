"""The migration linter: split (splitter.py), read with sqlglot (rules/), replay in a scratch
SQLite engine with D1's rules (engine.py), report (findings.py, report.py)."""
