"""The committed list of equivalent mutants: changes that cannot alter behaviour, each with why.

tests/mutation/equivalents.yaml holds one entry per mutant:

    - module: artifact
      file: infra/artifact/build.py
      where: read_node_version          # mutmut: the function; Stryker: the mutator
      change:                           # the changed lines, as `invoke mutate` prints them
        - '- return subprocess.run(["node", "--version"], ...'
        - '+ return subprocess.run(["node", "XX--versionXX"], ...'
      reason: one line saying why no test can tell it from the original

An entry names the change itself rather than the tool's mutant number, which shifts whenever the
function is edited: an entry that matches no mutant any more is reported as stale, and one whose
mutant a test kills is reported as wrong, so the list cannot silently hide a real survivor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from infra.errors import ConfigError
from infra.paths import REPO_ROOT

EQUIVALENTS_FILE = REPO_ROOT / "tests" / "mutation" / "equivalents.yaml"
KEYS = ("module", "file", "where", "change", "reason")


@dataclass(frozen=True)
class Equivalent:
    module: str
    file: str
    where: str
    change: tuple[str, ...]
    reason: str

    def key(self) -> tuple:
        return self.module, self.file, self.where, self.change


def read_equivalents(path: Path = EQUIVALENTS_FILE) -> list[Equivalent]:
    """Every entry of the equivalents file; ConfigError naming the entry for a malformed one."""
    if not path.exists():
        return []
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as error:
        raise ConfigError(_shown(path), "(file)", f"not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(entries, list):
        raise ConfigError(_shown(path), "(file)", "must be a list of entries (module, file, where, change, reason)")
    return [_read_entry(_shown(path), index, entry) for index, entry in enumerate(entries, start=1)]


def _read_entry(source: str, index: int, entry: object) -> Equivalent:
    where = f"entry {index}"
    if not isinstance(entry, dict):
        raise ConfigError(source, where, "must be a mapping with module, file, where, change, reason")
    missing = [key for key in KEYS if not entry.get(key)]
    unknown = sorted(set(entry) - set(KEYS))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown key(s) {', '.join(unknown)}"
        raise ConfigError(source, where, f"{problem}; an entry has exactly {', '.join(KEYS)}")
    change = entry["change"]
    if not isinstance(change, list) or not all(isinstance(line, str) and line[:2] in ("- ", "+ ") for line in change):
        raise ConfigError(source, f"{where} ({entry['file']})", "change must list lines starting with '- ' or '+ '")
    reason = str(entry["reason"]).strip()
    if "\n" in reason:
        raise ConfigError(source, f"{where} ({entry['file']})", "reason must be one line")
    return Equivalent(str(entry["module"]), str(entry["file"]), str(entry["where"]), tuple(change), reason)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
