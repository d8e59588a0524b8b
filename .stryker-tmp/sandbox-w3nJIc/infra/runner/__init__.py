"""Plan, then apply: which migrations are pending (plan.py), how they travel (batches.py), and the
run that applies them under the lock with a restore point (apply.py). `run_migrate` is the entry.
"""

from __future__ import annotations


def run_migrate(*args, **kwargs):
    """See infra.runner.apply.run_migrate."""
    from infra.runner.apply import run_migrate as run

    return run(*args, **kwargs)
