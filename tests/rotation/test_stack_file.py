"""`hyphae:credentials` written into a stack file: only those lines change, or nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from infra.errors import ConfigError
from infra.paths import REPO_ROOT
from infra.rotation.stack_file import plan_credentials_text, write_credentials

ROTATION = {"teamKeyGeneration": 2, "teamKeyRotatedAt": "2026-11-22T10:00:00Z", "previousKeyExpires": "2026-11-29T10:00:00Z"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("hyphae.defaults.yaml", "Pulumi.dev.yaml", "Pulumi.production.yaml"):
        shutil.copy(REPO_ROOT / name, root)
    return root


def test_a_missing_block_is_added_at_the_end_of_config_and_nothing_else_moves(root):
    path = root / "Pulumi.dev.yaml"
    before = path.read_text()
    after = write_credentials(path, "dev", ROTATION, root)

    assert after.startswith(before), "every existing line, comments included, stays where it was"
    assert after[len(before):] == ('  hyphae:credentials:\n    teamKeyGeneration: 2\n    teamKeyRotatedAt: "2026-11-22T10:00:00Z"\n'
                                   '    previousKeyExpires: "2026-11-29T10:00:00Z"\n')
    assert path.read_text() == after


def test_an_existing_block_is_edited_in_place_keeping_its_comments_and_other_keys(root):
    path = root / "Pulumi.production.yaml"
    before = path.read_text()
    assert "maxAgeDays: 90            # `invoke credentials` fails" in before
    after = write_credentials(path, "production", ROTATION, root)
    assert "maxAgeDays: 90            # `invoke credentials` fails" in after, "the comment is kept"
    assert after.splitlines()[: len(before.splitlines())] == before.splitlines()
    config = yaml.safe_load(after)["config"]["hyphae:credentials"]
    assert config == {"maxAgeDays": 90, **ROTATION}

    finished = write_credentials(path, "production", {"previousKeyExpires": None}, root)
    assert "previousKeyExpires" not in finished
    assert yaml.safe_load(finished)["config"]["hyphae:credentials"]["teamKeyGeneration"] == 2
    again = write_credentials(path, "production", {"teamKeyGeneration": 3, "teamKeyRotatedAt": "2026-12-01T00:00:00Z"}, root)
    assert again.count("teamKeyGeneration") == 1 and "teamKeyGeneration: 3" in again


def test_an_edit_that_would_not_validate_writes_nothing(root):
    path = root / "Pulumi.dev.yaml"
    before = path.read_text()
    with pytest.raises(ConfigError, match=r"^Pulumi.dev.yaml: hyphae:credentials: previousKeyExpires must fall within"):
        write_credentials(path, "dev", {**ROTATION, "previousKeyExpires": "2027-01-01T00:00:00Z"}, root)
    assert path.read_text() == before


def test_a_flow_style_block_is_refused_with_what_to_do(root):
    text = "config:\n  hyphae:credentials: {maxAgeDays: 90}\n"
    with pytest.raises(ConfigError, match=r"^Pulumi.x.yaml: hyphae:credentials: write it as a block mapping"):
        plan_credentials_text(text, ROTATION, "Pulumi.x.yaml")


def test_removing_the_last_key_removes_the_block():
    text = "config:\n  hyphae:protect: false\n  hyphae:credentials:\n    previousKeyExpires: \"x\"  # soon\n  hyphae:d1:\n    name: a\n"
    assert plan_credentials_text(text, {"previousKeyExpires": None}, "s") == "config:\n  hyphae:protect: false\n  hyphae:d1:\n    name: a\n"
