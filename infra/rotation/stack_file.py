"""Writing `hyphae:credentials` into a stack file, leaving every other line as it was.

`invoke rotate` edits a reviewed file, so its diff must show the rotation and nothing else: no
reordered keys, no lost comments (a YAML round trip would lose both). The block's lines are
rewritten in place (a key's trailing comment kept), absent keys appended, and a missing block is
added at the end of `config:`. The result is parsed again and must declare exactly the asked-for
settings and an environment that validates, else nothing is written (ConfigError).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import yaml

from infra.environments import CONFIG_NAMESPACE, DEFAULTS_FILE, load_environment
from infra.errors import ConfigError

BLOCK_KEY = f"{CONFIG_NAMESPACE}:credentials"
BLOCK_LINE = re.compile(rf"^(?P<indent>[ ]+){re.escape(BLOCK_KEY)}:(?P<rest>[^#]*)(?P<comment>#.*)?$")
CHILD_LINE = re.compile(r"""^(?P<indent>[ ]+)(?P<key>[A-Za-z]+):[ ]*(?P<value>"[^"]*"|'[^']*'|[^#\s]*)(?P<comment>[ ]+#.*)?$""")
# The order `invoke rotate` writes new keys in.
KEY_ORDER = ("teamKeyGeneration", "teamKeyRotatedAt", "previousKeyExpires", "overlapDays", "maxAgeDays")


def render_value(value: int | str) -> str:
    return str(value) if isinstance(value, int) else f'"{value}"'


def plan_credentials_text(text: str, changes: dict[str, int | str | None], source: str) -> str:
    """`text` with each key of `changes` set (None: removed) in `hyphae:credentials`. Pure."""
    lines = text.splitlines(keepends=True)
    start = next((index for index, line in enumerate(lines) if BLOCK_LINE.match(line.rstrip("\n"))), None)
    if start is None:
        return _insert_block(lines, changes, source)
    header = BLOCK_LINE.match(lines[start].rstrip("\n"))
    if header["rest"].strip():
        raise ConfigError(source, BLOCK_KEY, "write it as a block mapping (one key per line) so `invoke rotate` can edit it")
    indent = len(header["indent"])
    end = start + 1
    while end < len(lines) and lines[end].strip() and _indent(lines[end]) > indent:
        end += 1
    children, child_indent, pending = [], " " * (indent + 2), dict(changes)
    for line in lines[start + 1:end]:
        child = CHILD_LINE.match(line.rstrip("\n"))
        if child is None:
            raise ConfigError(source, BLOCK_KEY, f"cannot edit the line {line.strip()!r}; keep one `key: value` per line")
        child_indent = child["indent"]
        if child["key"] not in pending:
            children.append(line if line.endswith("\n") else line + "\n")
            continue
        value = pending.pop(child["key"])
        if value is not None:
            children.append(f"{child_indent}{child['key']}: {render_value(value)}{child['comment'] or ''}\n")
    children += [f"{child_indent}{key}: {render_value(value)}\n" for key, value in _ordered(pending) if value is not None]
    block = [lines[start] if lines[start].endswith("\n") else lines[start] + "\n", *children] if children else []
    return "".join(lines[:start] + block + lines[end:])


def write_credentials(path: Path, env_name: str, changes: dict[str, int | str | None], root: Path) -> str:
    """Apply `changes` to the stack file `path` of `env_name` (atomically, mode kept) once the new
    text is checked. Returns the new text; raises ConfigError and writes nothing when it fails."""
    old_text = path.read_text(encoding="utf-8")
    new_text = plan_credentials_text(old_text, changes, path.name)
    _check(old_text, new_text, changes, path.name)
    _check_environment(env_name, path, new_text, root)
    temporary = path.with_name(f".{path.name}.rotate")
    temporary.write_text(new_text, encoding="utf-8")
    os.chmod(temporary, path.stat().st_mode & 0o777)
    os.replace(temporary, path)
    return new_text


def _insert_block(lines: list[str], changes: dict, source: str) -> str:
    """The block appended at the end of the `config:` mapping."""
    config = next((index for index, line in enumerate(lines) if re.match(r"^config:\s*(#.*)?$", line)), None)
    if config is None:
        raise ConfigError(source, "config", "no `config:` mapping to add hyphae:credentials to")
    end = config + 1
    last = config
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > 0):
        if lines[end].strip():
            last = end
        end += 1
    first = next((line for line in lines[config + 1:last + 1] if line.strip() and not line.strip().startswith("#")), None)
    indent = _indent(first) if first else 2
    block = [f"{' ' * indent}{BLOCK_KEY}:\n"] + [f"{' ' * (indent + 2)}{key}: {render_value(value)}\n"
                                                for key, value in _ordered(changes) if value is not None]
    if len(block) == 1:
        return "".join(lines)
    head = lines[: last + 1]
    if head and not head[-1].endswith("\n"):
        head[-1] += "\n"
    return "".join(head + block + lines[last + 1:])


def _ordered(changes: dict) -> list[tuple[str, object]]:
    return sorted(changes.items(), key=lambda item: KEY_ORDER.index(item[0]) if item[0] in KEY_ORDER else len(KEY_ORDER))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _check(old_text: str, new_text: str, changes: dict, source: str) -> None:
    """The new text declares exactly the old settings with `changes` applied, nothing else moved."""
    old_config, new_config = (yaml.safe_load(text).get("config") or {} for text in (old_text, new_text))
    wanted = {key: value for key, value in {**(old_config.get(BLOCK_KEY) or {}), **changes}.items() if value is not None}
    got = {key: value for key, value in (new_config.get(BLOCK_KEY) or {}).items()}
    got = {key: value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else value for key, value in got.items()}
    others_kept = {key: value for key, value in old_config.items() if key != BLOCK_KEY} == \
                  {key: value for key, value in new_config.items() if key != BLOCK_KEY}
    if got != wanted or not others_kept:
        raise ConfigError(source, BLOCK_KEY, "could not be edited safely (the file's layout is unusual); set "
                          f"{', '.join(f'{key}: {value}' for key, value in changes.items())} by hand")


def _check_environment(env_name: str, path: Path, new_text: str, root: Path) -> None:
    """The environment, read from the new text beside the same defaults, must validate."""
    with tempfile.TemporaryDirectory(prefix="hyphae-rotate-") as scratch:
        scratch_root = Path(scratch)
        shutil.copy(root / DEFAULTS_FILE, scratch_root / DEFAULTS_FILE)
        (scratch_root / path.name).write_text(new_text, encoding="utf-8")
        load_environment(env_name, scratch_root)
