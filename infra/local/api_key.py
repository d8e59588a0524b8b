"""The local team API key: one per state folder, generated once, readable only by its owner; and
its rotation, the local counterpart of a remote environment's `hyphae:credentials`.

In `$HYPHAE_STATE_DIR/secrets/` (folder 0700, files 0600):
- `team-api-key`: the current key (the one teammates of a local Worker use);
- `team-api-key.previous`: the previous key, while a rotation's overlap window is open;
- `team-key.json`: its generation, when it was rotated and when the previous key stops (no key in it).
A state folder without `team-key.json` holds generation 1, rotated before hyphae recorded it.
The keys reach workerd as secret bindings through the environment, never argv. Never printed.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import stat
from pathlib import Path

from infra.environments import (
    BINDING_API_KEY,
    BINDING_API_KEY_PREVIOUS,
    VAR_PREVIOUS_KEY_EXPIRES,
    VAR_TEAM_KEY_GENERATION,
)
from infra.errors import ConfigError
from infra.paths import state_dir
from infra.rotation.window import TeamKeyState, format_instant, plan_finish, plan_rotation

KEY_FILE = Path("secrets") / "team-api-key"
PREVIOUS_KEY_FILE = Path("secrets") / "team-api-key.previous"
RECORD_FILE = Path("secrets") / "team-key.json"


def api_key_path(state: Path | None = None) -> Path:
    return (state or state_dir()) / KEY_FILE


def previous_key_path(state: Path | None = None) -> Path:
    return (state or state_dir()) / PREVIOUS_KEY_FILE


def record_path(state: Path | None = None) -> Path:
    return (state or state_dir()) / RECORD_FILE


def read_or_create_local_api_key(state: Path | None = None) -> str:
    """The local key, generated on first use. Raises ConfigError if the file is readable by others."""
    key = _read_private(api_key_path(state))
    if key:
        return key
    key = new_key()
    _write_private(api_key_path(state), key + "\n")
    return key


def new_key() -> str:
    return secrets.token_urlsafe(32)


def read_local_key_state(state: Path | None = None) -> TeamKeyState:
    """The generation record (generation 1, no dates, without one). Read-only; ConfigError if damaged."""
    path = record_path(state)
    text = _read_private(path)
    if not text:
        return TeamKeyState(1)
    try:
        record = json.loads(text)
        return TeamKeyState(int(record["generation"]), _instant(record.get("rotated_at")),
                            _instant(record.get("previous_expires_at")))
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(str(path), "(file)", f"not a team key record ({error}); delete it and the key files to "
                          "start again at generation 1") from None


def local_team_key_bindings(now: datetime.datetime, state: Path | None = None) -> dict[str, str]:
    """The Worker's team key bindings from the state folder: the current key and its generation,
    plus the previous key and its expiry while the window is open at `now`. Creates the key on
    first use."""
    record = read_local_key_state(state)
    bindings = {BINDING_API_KEY: read_or_create_local_api_key(state), VAR_TEAM_KEY_GENERATION: str(record.generation)}
    previous = _read_private(previous_key_path(state))
    if previous and record.previous_open(now):
        bindings[BINDING_API_KEY_PREVIOUS] = previous
        bindings[VAR_PREVIOUS_KEY_EXPIRES] = format_instant(record.previous_expires)
    return bindings


def rotate_local_team_key(overlap_days: int, now: datetime.datetime, *, compromised: bool,
                          state: Path | None = None) -> TeamKeyState:
    """A new local key: the current one becomes the previous key for `overlap_days` (none with
    `compromised`). Writes the key files and the record; raises RotationRefused (nothing written)
    while the previous key's window is still open, unless `compromised`."""
    current = read_or_create_local_api_key(state)
    rotated = plan_rotation(read_local_key_state(state), overlap_days, now, compromised=compromised,
                            where=f"local key in {record_path(state).parent}")
    if rotated.previous_expires is not None:
        _write_private(previous_key_path(state), current + "\n")
    else:
        previous_key_path(state).unlink(missing_ok=True)
    _write_private(api_key_path(state), new_key() + "\n")
    _write_record(rotated, state)
    return rotated


def finish_local_window(now: datetime.datetime, state: Path | None = None) -> TeamKeyState:
    """Retire the previous local key now. Raises RotationRefused when there is none."""
    finished = plan_finish(read_local_key_state(state), now, where=f"local key in {record_path(state).parent}")
    previous_key_path(state).unlink(missing_ok=True)
    _write_record(finished, state)
    return finished


def retire_expired_local_key(now: datetime.datetime, state: Path | None = None) -> bool:
    """The local `up` after the window: the previous key file is deleted once it has expired.
    Returns whether one was retired."""
    record = read_local_key_state(state)
    if record.previous_expires is None or record.previous_open(now):
        return False
    finish_local_window(now, state)
    return True


def deploy_local_team_keys(now: datetime.datetime, state: Path | None = None) -> dict[str, str]:
    """What a local Worker starts with, as `pulumi up` decides for a remote one: a previous key
    whose window has ended is retired (its file deleted), then the bindings of what remains."""
    retire_expired_local_key(now, state)
    return local_team_key_bindings(now, state)


def _write_record(record: TeamKeyState, state: Path | None) -> None:
    body = {"generation": record.generation,
            "rotated_at": format_instant(record.rotated_at) if record.rotated_at else None,
            "previous_expires_at": format_instant(record.previous_expires) if record.previous_expires else None}
    _write_private(record_path(state), json.dumps(body, indent=2) + "\n")


def _instant(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)


def _read_private(path: Path) -> str:
    """The file's text, stripped ('' when absent). Raises ConfigError when others may read it."""
    if not path.exists():
        return ""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(str(path), "mode", f"is {mode:o}, readable by others; run `chmod 600 {path}`")
    return path.read_text().strip()


def _write_private(path: Path, text: str) -> None:
    """Write `text` through a 0600 temporary file renamed into place (a crash leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)
