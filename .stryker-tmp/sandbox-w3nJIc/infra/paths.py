"""Where things live: the repository, the migrations folder and the git-ignored state folder.

`HYPHAE_STATE_DIR` moves the state folder (local databases, restore points, caches) so the same
commands run against any folder, as monorepos and tests need.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIGRATIONS_DIR = REPO_ROOT / "migrations"
STATE_DIR_VARIABLE = "HYPHAE_STATE_DIR"


def state_dir() -> Path:
    """The state folder: `$HYPHAE_STATE_DIR`, else `.hyphae/` in the repository (git-ignored)."""
    configured = os.environ.get(STATE_DIR_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / ".hyphae"


def wrangler_persist_dir(state: Path | None = None) -> Path:
    """The folder wrangler/miniflare persist local D1 and KV into (`--persist-to`)."""
    return (state or state_dir()) / "wrangler"


def miniflare_object_id(unique_key: str, name: str) -> str:
    """miniflare's deterministic Durable Object id for `name` (durableObjectNamespaceIdFromName).

    An internal detail of the pinned miniflare: tests/test_paths.py starts the real runtime and
    fails if the file it writes is not the one this predicts.
    """
    key = hashlib.sha256(unique_key.encode()).digest()
    name_mac = hmac.new(key, name.encode(), hashlib.sha256).digest()[:16]
    check_mac = hmac.new(key, name_mac, hashlib.sha256).digest()[:16]
    return (name_mac + check_mac).hex()


def local_d1_file(database_id: str, state: Path | None = None) -> Path:
    """The SQLite file the locally running Worker (workerd) uses for the D1 database `database_id`."""
    object_id = miniflare_object_id("miniflare-D1DatabaseObject", database_id)
    return wrangler_persist_dir(state) / "v3" / "d1" / "miniflare-D1DatabaseObject" / f"{object_id}.sqlite"


BACKUP_DIR_VARIABLE = "HYPHAE_BACKUP_DIR"


def backups_dir() -> Path:
    """Where `invoke backup` writes: `$HYPHAE_BACKUP_DIR`, else `backups/` in the repository (git-ignored)."""
    configured = os.environ.get(BACKUP_DIR_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / "backups"
