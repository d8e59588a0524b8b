"""The code stays free of unused names, undefined names and unsorted imports (ruff, pinned in pyproject)."""

import shutil
import subprocess
import sys
from pathlib import Path

from infra.paths import REPO_ROOT


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a dev dependency: ./run installs it"
    result = subprocess.run([ruff, "check", "--no-cache", "infra", "tests", "tasks.py", "__main__.py"],
                            cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
