"""The client's schema as a contract: `contract/myco-client.yaml`, read and checked. Read-only.

The file lists the tables the real Myco client syncs and every field it sends per table (see its
header). Three things are derived from it: the Worker's per-record validation (`worker_contract`,
bundled by `invoke build`), the expand-only lint rules (infra/lint/rules/contract.py) and drift's
contract check (infra/drift/contract.py). A malformed file raises ConfigError naming the key.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from infra.errors import ConfigError
from infra.paths import REPO_ROOT

CONTRACT_PATH = REPO_ROOT / "contract" / "myco-client.yaml"
FIELD_TYPES = ("text", "integer", "real")
PROJECT_ID_PATTERN = r"^proj_[0-9a-f]{32}$"


class ContractTable(BaseModel):
    """One synced table: who it belongs to, its identity, and the fields the client sends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: Literal["project", "machine"]
    key: tuple[str, ...] = Field(min_length=1)
    since: int = Field(ge=1)
    content_hash: bool = False
    embed: str | None = None
    dropped: tuple[str, ...] = ()
    fields: dict[str, Literal["text", "integer", "real"]] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "ContractTable":
        for name in (*self.key, *([self.embed] if self.embed else [])):
            if name not in self.fields:
                raise ValueError(f"{name!r} is used as key or embed but is not one of the fields")
        if "machine_id" not in self.fields:
            raise ValueError("every synced table has a machine_id field")
        if self.scope == "project" and "project_id" not in self.fields:
            raise ValueError("a project-scoped table needs a project_id field")
        if overlap := set(self.dropped) & set(self.fields):
            raise ValueError(f"{sorted(overlap)} are listed as both fields and dropped")
        return self


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: int = Field(ge=1)
    tables: dict[str, ContractTable] = Field(min_length=1)

    @model_validator(mode="after")
    def _tables_within_protocol(self) -> "Contract":
        for name, table in self.tables.items():
            if table.since > self.protocol:
                raise ValueError(f"table {name} is from protocol {table.since}, after the contract's {self.protocol}")
        return self

    def fields_of(self, table: str) -> dict[str, str]:
        return dict(self.tables[table].fields)


def read_contract(path: Path = CONTRACT_PATH) -> Contract:
    """The contract in `path`. Raises ConfigError (file and key) when it is missing or malformed."""
    return _read_contract(Path(path).resolve())


@lru_cache(maxsize=8)
def _read_contract(path: Path) -> Contract:
    shown = _shown(path)
    if not path.is_file():
        raise ConfigError(shown, "(file)", "missing; it lists the fields the Myco client sends (see docs/worker.md)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(shown, f"line {mark.line + 1}" if mark else "(file)", f"not valid YAML: {getattr(error, 'problem', error)}") from None
    try:
        return Contract.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(file)"
        raise ConfigError(shown, key, first["msg"].removeprefix("Value error, ")) from None


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def worker_contract(contract: Contract) -> dict:
    """The contract as the Worker reads it (bundled as `src/contract.json` by `invoke build`)."""
    return {
        "protocol": contract.protocol,
        "project_id_pattern": PROJECT_ID_PATTERN,
        "tables": {
            name: {
                "scope": table.scope,
                "key": list(table.key),
                "since": table.since,
                "content_hash": table.content_hash,
                "embed": table.embed,
                "dropped": list(table.dropped),
                "fields": dict(table.fields),
            }
            for name, table in contract.tables.items()
        },
    }
