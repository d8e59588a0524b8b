"""The Pulumi program's entry: the selected stack's environment, built by the `infra` package.

Pulumi.yaml names no `main`, so the engine runs this file from the repository root, and starts
every plugin there too. That matters for the Vectorize dynamic provider: its shim resolves the
`virtualenv: .venv` option against the folder it is started in, so with the program in a
subfolder it would look for `<subfolder>/.venv` and fail (pulumi/pulumi#7061; see
docs/environments.md and tests/stack/test_plugin_launch.py). A HyphaeError becomes Pulumi's
RunError: its one-line message, no traceback.
"""

import pulumi

from infra.errors import HyphaeError
from infra.stack.program import run_program

try:
    run_program()
except HyphaeError as error:
    raise pulumi.RunError(f"hyphae: {error}") from None
