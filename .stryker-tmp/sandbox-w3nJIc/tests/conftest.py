"""Shared fixtures. Tests run against real components: SQLite, workerd, the loopback API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.paths import REPO_ROOT


@pytest.fixture(autouse=True)
def isolated_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HYPHAE_STATE_DIR (and backups folder) so no test touches the developer's
    .hyphae/ or backups/."""
    state = tmp_path / "state"
    monkeypatch.setenv("HYPHAE_STATE_DIR", str(state))
    monkeypatch.setenv("HYPHAE_BACKUP_DIR", str(tmp_path / "backups"))
    return state


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


def node_toolchain_available() -> bool:
    return (REPO_ROOT / "node_modules" / "miniflare").is_dir() and os.path.exists("/usr/bin/env")


# The loopback Cloudflare API (tests/loopback/): `loopback_api` and `cloudflare_env` for every test.
from loopback import cloudflare_env, loopback_api  # noqa: E402,F401
