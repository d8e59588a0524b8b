"""The local team API key: one per state folder, owner-only, stable."""

from __future__ import annotations

import os
import stat

import pytest

from infra.errors import ConfigError
from infra.local.api_key import api_key_path, read_or_create_local_api_key


def test_the_key_is_generated_once_with_owner_only_permissions():
    key = read_or_create_local_api_key()
    assert len(key) >= 40
    assert read_or_create_local_api_key() == key
    assert stat.S_IMODE(api_key_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(api_key_path().parent.stat().st_mode) == 0o700


def test_each_state_folder_gets_its_own_key(tmp_path):
    assert read_or_create_local_api_key(tmp_path / "a") != read_or_create_local_api_key(tmp_path / "b")


def test_a_key_file_readable_by_others_is_refused_and_left_as_it_was():
    key = read_or_create_local_api_key()
    os.chmod(api_key_path(), 0o644)
    with pytest.raises(ConfigError, match=r"team-api-key: mode: is 644, readable by others; run `chmod 600"):
        read_or_create_local_api_key()
    assert api_key_path().read_text().strip() == key
