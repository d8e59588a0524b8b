"""The local D1 enforces D1's 100-bound-parameter limit, so the Worker's batching is really tested.

tests/worker/test_sync.py writes 2,500 parameters' worth of records through the Worker; that
proves the statements are cut to fit only if the runtime refuses a 101st parameter, as D1 does.
A toolchain upgrade that lifts the limit locally fails here instead of silently weakening it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra.paths import REPO_ROOT

pytestmark = pytest.mark.workerd

PROBE = Path(__file__).with_name("d1_limit_probe.mjs")


def test_local_d1_accepts_100_bound_parameters_and_refuses_101():
    result = subprocess.run(["node", str(PROBE), "100", "101"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["100"] == "ok"
    assert "too many SQL variables" in answers["101"]
