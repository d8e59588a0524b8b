"""The environment model: one declaration per environment, read without the Pulumi engine.

Remote environments (dev, staging, production) are declared in `Pulumi.<env>.yaml` under the
`hyphae:` config namespace; the local embedded default is declared in `hyphae.local.yaml` with
the same keys. Settings every environment shares (Vectorize shape, embedding model, compatibility date,
protocol versions) are declared once in `hyphae.defaults.yaml` and deep-merged under each environment. The Pulumi
program, the local wrangler config renderer and the tasks all read this one model.

Read-only. A wrong or missing setting raises ConfigError naming the file and the key.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infra.errors import ConfigError, UsageError
from infra.paths import REPO_ROOT

REMOTE_ENVIRONMENTS = ("dev", "staging", "production")
ENVIRONMENTS = ("local",) + REMOTE_ENVIRONMENTS
CONFIG_NAMESPACE = "hyphae"
DEFAULTS_FILE = "hyphae.defaults.yaml"

# Binding names the Worker reads; declared once here and rendered everywhere else.
BINDING_D1 = "MYCO_TEAM_DB"
BINDING_VECTORIZE = "MYCO_TEAM_VECTORS"
BINDING_KV = "MYCO_SECRETS"
BINDING_API_KEY = "MYCO_TEAM_API_KEY"
BINDING_AI = "AI"
VAR_PROTOCOL_VERSION = "SYNC_PROTOCOL_VERSION"
VAR_MIN_COMPAT_VERSION = "MIN_COMPAT_CLIENT_VERSION"
VAR_SCHEMA_VERSION = "MYCO_SCHEMA_VERSION"
VAR_EMBEDDING_MODEL = "EMBEDDING_MODEL"

# Workers AI embedding models hyphae knows, with the dimensions of the vectors they return: the
# Vectorize index must have the same (a vector of another length is refused by the index).
EMBEDDING_MODELS = {"@cf/baai/bge-m3": 1024, "@cf/baai/bge-base-en-v1.5": 768,
                    "@cf/baai/bge-small-en-v1.5": 384, "@cf/baai/bge-large-en-v1.5": 1024}

_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class D1Settings(_Strict):
    name: str = Field(pattern=_NAME)
    location_hint: Literal["wnam", "enam", "weur", "eeur", "apac", "oc"] | None = Field(None, alias="locationHint")
    database_id: str | None = Field(None, alias="databaseId", pattern=r"^[0-9a-f-]{36}$|^[a-z0-9-]+$")


class MetadataIndex(_Strict):
    property_name: str = Field(alias="propertyName", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    index_type: Literal["string", "number", "boolean"] = Field(alias="indexType")


class VectorizeSettings(_Strict):
    name: str = Field(pattern=_NAME)
    dimensions: int = Field(ge=1, le=1536)
    metric: Literal["cosine", "euclidean", "dot-product"]
    metadata_indexes: tuple[MetadataIndex, ...] = Field((), alias="metadataIndexes")
    allow_replace: bool = Field(False, alias="allowReplace")


class KvSettings(_Strict):
    title: str = Field(min_length=1, max_length=512)
    namespace_id: str | None = Field(None, alias="namespaceId", pattern=r"^[0-9a-f]{32}$")


class WorkerSettings(_Strict):
    name: str = Field(pattern=_NAME)
    compatibility_date: str = Field(alias="compatibilityDate", pattern=r"^\d{4}-\d{2}-\d{2}$")
    compatibility_flags: tuple[str, ...] = Field((), alias="compatibilityFlags")
    # The client protocol the Worker speaks and the oldest it still accepts (reference §2): the
    # Worker advertises both on /health and /connect and refuses clients outside the window.
    sync_protocol_version: int = Field(alias="syncProtocolVersion", ge=1)
    min_compat_client_version: int = Field(alias="minCompatClientVersion", ge=1)
    workers_dev: bool = Field(True, alias="workersDev")
    # A script made earlier with wrangler: the next `pulumi up` imports it instead of creating it.
    adopt_existing: bool = Field(False, alias="adoptExisting")

    @model_validator(mode="after")
    def _window(self) -> "WorkerSettings":
        if self.min_compat_client_version > self.sync_protocol_version:
            raise ValueError(f"minCompatClientVersion {self.min_compat_client_version} is above "
                             f"syncProtocolVersion {self.sync_protocol_version}: no client could sync")
        return self


class EmbeddingSettings(_Strict):
    """Server-side embeddings: the Workers AI model, and when the Worker drains its backlog."""

    model: str
    # A cron expression (five fields, UTC): the Worker's scheduled handler retries failed embeddings.
    backlog_cron: str = Field(alias="backlogCron", pattern=r"^\S+( \S+){4}$")

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value not in EMBEDDING_MODELS:
            close = difflib.get_close_matches(value, EMBEDDING_MODELS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(EMBEDDING_MODELS)})"
            raise ValueError(f"unknown embedding model {value!r}{hint}")
        return value


class Environment(_Strict):
    """Everything hyphae knows about one environment, from its one declaration."""

    name: str
    source: str  # the file it was declared in, for error messages
    account_id: str | None = Field(None, alias="accountId", pattern=r"^[0-9a-f]{32}$")
    # The account's workers.dev subdomain (`<this>.workers.dev`); not a secret, shown in the dashboard.
    workers_dev_subdomain: str | None = Field(None, alias="workersDevSubdomain", pattern=_NAME)
    protect: bool = False
    d1: D1Settings
    vectorize: VectorizeSettings
    kv: KvSettings
    worker: WorkerSettings
    embeddings: EmbeddingSettings

    @field_validator("name")
    @classmethod
    def _known_name(cls, value: str) -> str:
        if value not in ENVIRONMENTS:
            raise ValueError(f"unknown environment {value!r}")
        return value

    @model_validator(mode="after")
    def _model_fits_index(self) -> "Environment":
        dimensions = EMBEDDING_MODELS[self.embeddings.model]
        if dimensions != self.vectorize.dimensions:
            raise ValueError(f"embeddings.model {self.embeddings.model} returns {dimensions} dimensions "
                             f"but vectorize.dimensions is {self.vectorize.dimensions}")
        return self

    @property
    def is_local(self) -> bool:
        return self.name == "local"

    @property
    def workers_dev_url(self) -> str | None:
        """The Worker's workers.dev address, when it is served there and the subdomain is declared."""
        if not (self.worker.workers_dev and self.workers_dev_subdomain):
            return None
        return f"https://{self.worker.name}.{self.workers_dev_subdomain}.workers.dev"

    @property
    def local_database_id(self) -> str:
        """The id the local runtime keys the D1 file by (the database name: no cloud id locally)."""
        return self.d1.database_id or self.d1.name


def config_file(name: str, root: Path = REPO_ROOT) -> Path:
    return root / ("hyphae.local.yaml" if name == "local" else f"Pulumi.{name}.yaml")


def load_environment(name: str, root: Path = REPO_ROOT) -> Environment:
    """Read and validate one environment. Raises UsageError (unknown name) or ConfigError."""
    if name not in ENVIRONMENTS:
        close = difflib.get_close_matches(name, ENVIRONMENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"unknown environment {name!r} (known: {', '.join(ENVIRONMENTS)}){hint}")
    path = config_file(name, root)
    defaults, own = _project_defaults(root), _read_namespace(path)
    try:
        env = Environment.model_validate({"name": name, "source": path.name, **_deep_merge(defaults, own)})
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(settings)"
        blamed = DEFAULTS_FILE if _sets(defaults, first["loc"]) and not _sets(own, first["loc"]) else path.name
        raise ConfigError(blamed, f"{CONFIG_NAMESPACE}:{key}", first["msg"].removeprefix("Value error, ")) from None
    _require_contract_protocol(env, DEFAULTS_FILE if "syncProtocolVersion" not in (own.get("worker") or {}) else path.name)
    return env


def _require_contract_protocol(env: Environment, source: str) -> None:
    """The Worker may not advertise a protocol newer than the client contract it validates against:
    a client would send tables and fields the Worker has never heard of."""
    from infra.contract import read_contract

    contract = read_contract()
    if env.worker.sync_protocol_version > contract.protocol:
        raise ConfigError(source, f"{CONFIG_NAMESPACE}:worker.syncProtocolVersion",
                          f"{env.worker.sync_protocol_version} is newer than the protocol {contract.protocol} that "
                          "contract/myco-client.yaml describes; update the contract (and migrations) first")


def load_all(root: Path = REPO_ROOT) -> dict[str, Environment]:
    return {name: load_environment(name, root) for name in ENVIRONMENTS}


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(path.name, "(file)", "missing; every environment is declared in its own file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise ConfigError(path.name, where, f"not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ConfigError(path.name, "(file)", "must be a mapping with a `config:` key")
    return data


def _read_namespace(path: Path) -> dict:
    """The `hyphae:*` keys of a stack file's `config:` block, without the namespace prefix."""
    config = _read_yaml(path).get("config") or {}
    prefix = f"{CONFIG_NAMESPACE}:"
    settings = {}
    for key, value in config.items():
        if key.startswith(prefix):
            settings[key[len(prefix) :]] = value
    return settings


def _project_defaults(root: Path) -> dict:
    """The shared settings of `hyphae.defaults.yaml` (same `config:` layout as a stack file)."""
    return _read_namespace(root / DEFAULTS_FILE)


def _sets(settings: dict, location: tuple) -> bool:
    """Whether these settings give a value at `location` (or at a parent of it that is not a mapping)."""
    value = settings
    for part in location:
        if not isinstance(value, dict):
            return True  # a parent is set to a non-mapping: that value is the one at fault
        if part not in value:
            return False
        value = value[part]
    return True


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def schema_version(migrations_dir: Path | None = None) -> int:
    """The schema version a Worker is built for: the latest migration's number."""
    from infra.history.files import latest_version, read_migrations
    from infra.paths import DEFAULT_MIGRATIONS_DIR

    return latest_version(read_migrations(migrations_dir or DEFAULT_MIGRATIONS_DIR))

