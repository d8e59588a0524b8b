"""hyphae's one command surface. Every task lives in infra/commands/ and is imported here.

`invoke --list` shows them; `invoke TASK --help` explains each. Keep this file to imports: the
tasks are thin skins over the `infra` package, and nothing here may import Pulumi.
"""

from infra.commands.backup import backup, destroy  # noqa: F401
from infra.commands.bench import bench  # noqa: F401
from infra.commands.build import build, fetch_artifact, render, verify  # noqa: F401
from infra.commands.credentials import credentials, rotate  # noqa: F401
from infra.commands.deploy import outputs, preview, refresh, up  # noqa: F401
from infra.commands.drift import drift  # noqa: F401
from infra.commands.lint import lint, new  # noqa: F401
from infra.commands.local import local, smoke  # noqa: F401
from infra.commands.migrate import migrate, restore, status  # noqa: F401
from infra.commands.mutate import mutate  # noqa: F401
from infra.commands.review import review  # noqa: F401
from infra.commands.testing import test  # noqa: F401
