"""The invoke tasks: one module per area, each task a thin skin over one package function.

`tasks.py` at the repository root only imports the tasks from here. Nothing in this package may
import Pulumi at module level: commands that don't deploy must stay fast (a test checks it).
"""

from __future__ import annotations

import functools
import sys

from invoke import Exit

from infra.errors import HyphaeError


def reports_errors(task_function):
    """Turn the package's root error into a one-line message and its exit code; no traceback."""

    @functools.wraps(task_function)
    def wrapper(*args, **kwargs):
        try:
            return task_function(*args, **kwargs)
        except HyphaeError as error:
            sys.stdout.flush()
            raise Exit(f"hyphae: error: {error}", code=error.exit_code) from None
        except KeyboardInterrupt:
            raise Exit("hyphae: interrupted", code=130) from None

    return wrapper


def choose(value: str, allowed: tuple[str, ...], flag: str) -> str:
    """Validate a flag's value against its choices, naming the flag and the closest choice."""
    import difflib

    from infra.errors import UsageError

    if value in allowed:
        return value
    close = difflib.get_close_matches(value, allowed, n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"{flag} {value!r} is not one of {', '.join(allowed)}{suggestion}")
