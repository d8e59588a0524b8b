"""Drift: whether an environment still matches what the repository says.

schema.py reads a database's structure with one query into a normalized model (normalize.py is
the sqlglot lens); compare.py lists the differences against the migrations' replay and their
likely cause; bindings.py checks the deployed Worker's bindings, the local wrangler config and
parity across environments; check.py runs all of it for the environments asked for; report.py
renders human, JSON and pull-request markdown. findings.py defines the codes.
"""
