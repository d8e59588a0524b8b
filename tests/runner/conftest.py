"""Fixtures for runner tests: a small migration history, the local database, a remote one on the loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from loopback import point_dev_at_new_database
from migration_history import HISTORY, write_history

from infra.environments import load_environment
from infra.paths import local_d1_file


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return write_history(tmp_path / "migrations", HISTORY)


@pytest.fixture
def local_database() -> Path:
    """Where `local` migrates to (inside this test's HYPHAE_STATE_DIR)."""
    return local_d1_file(load_environment("local").local_database_id)


@pytest.fixture
def remote_database(cloudflare_env, monkeypatch) -> Path:
    """Environment `dev` pointed at a fresh loopback D1 database; returns the database's file."""
    return point_dev_at_new_database(cloudflare_env, monkeypatch)


@pytest.fixture
def dev_not_created(cloudflare_env, monkeypatch):
    """`dev` with no database: no stack output names one and the account has none of its name."""
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    monkeypatch.delenv("HYPHAE_DEV_DATABASE_ID", raising=False)
    return cloudflare_env


@pytest.fixture(params=["local", "dev"])
def environment(request) -> tuple[str, Path]:
    """Each runner test twice: against `local` and against `dev` on the loopback API."""
    if request.param == "local":
        return "local", request.getfixturevalue("local_database")
    return "dev", request.getfixturevalue("remote_database")
