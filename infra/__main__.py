"""The Pulumi program's entry (Pulumi.yaml `main: infra/`): the selected stack's environment.

Pulumi runs this file with `infra/` as the working directory and first on sys.path. The package
is imported from the repository root instead, so `infra.errors` is never also importable as a
top-level `errors`. A HyphaeError becomes Pulumi's RunError: its one-line message, no traceback.
"""

import sys
from pathlib import Path

_INFRA = Path(__file__).resolve().parent
sys.path[:] = [str(_INFRA.parent)] + [entry for entry in sys.path if Path(entry or ".").resolve() != _INFRA]

import pulumi  # noqa: E402

from infra.errors import HyphaeError  # noqa: E402
from infra.stack.program import run_program  # noqa: E402

try:
    run_program()
except HyphaeError as error:
    raise pulumi.RunError(f"hyphae: {error}") from None
