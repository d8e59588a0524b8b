"""The local team API key: one per state folder, generated once, readable only by its owner.

Stored at `$HYPHAE_STATE_DIR/secrets/team-api-key` (file mode 0600, folder 0700) and handed to
workerd as the secret binding MYCO_TEAM_API_KEY through the environment, never argv. Never printed.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from infra.errors import ConfigError
from infra.paths import state_dir

KEY_FILE = Path("secrets") / "team-api-key"


def api_key_path(state: Path | None = None) -> Path:
    return (state or state_dir()) / KEY_FILE


def read_or_create_local_api_key(state: Path | None = None) -> str:
    """The local key, generated on first use. Raises ConfigError if the file is readable by others."""
    path = api_key_path(state)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(str(path), "mode", f"is {mode:o}, readable by others; run `chmod 600 {path}`")
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    key = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key
