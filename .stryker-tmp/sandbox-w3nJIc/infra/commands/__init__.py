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
        real_stdout, sys.stdout = sys.stdout, _ReaderMayLeave(sys.stdout)
        try:
            return task_function(*args, **kwargs)
        except HyphaeError as error:
            sys.stdout.flush()
            raise Exit(f"hyphae: error: {error}", code=error.exit_code) from None
        except KeyboardInterrupt:
            raise Exit("hyphae: interrupted", code=130) from None
        finally:
            sys.stdout = real_stdout

    return wrapper


class _ReaderMayLeave:
    """stdout for a task whose reader may stop early (`invoke status | head -3`).

    A closed pipe must not abort the work half way (a migration printing its progress goes on and
    keeps its lock and ledger straight) nor print a traceback: the rest of the output goes to
    devnull, as Python's docs advise for SIGPIPE, and the exit code still tells the verdict.
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._quietly(lambda: self._stream.write(text)) or len(text)

    def flush(self) -> None:
        self._quietly(self._stream.flush)

    def _quietly(self, action):
        try:
            return action()
        except BrokenPipeError:
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())
            return None

    def __getattr__(self, name):
        return getattr(self._stream, name)


def choose(value: str, allowed: tuple[str, ...], flag: str) -> str:
    """Validate a flag's value against its choices, naming the flag and the closest choice."""
    import difflib

    from infra.errors import UsageError

    if value in allowed:
        return value
    close = difflib.get_close_matches(value, allowed, n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"{flag} {value!r} is not one of {', '.join(allowed)}{suggestion}")
