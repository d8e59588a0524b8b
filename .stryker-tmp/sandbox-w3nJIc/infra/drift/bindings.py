"""Bindings drift: the deployed Worker, the local wrangler config, and parity across environments.

- The deployed Worker's bindings (the script's settings, read through infra/targets) against the
  bindings the environment declares: its resources from `infra.environments` and the ids Pulumi
  created, from `infra.outputs`. A binding that points at another environment's resource says so.
- The committed `worker/wrangler.local.jsonc` against a fresh render (`infra.render`).
- Parity: the same binding names in every remote environment, and no resource id declared by two
  environments (staging bound to production's D1 is the accident this catches).
Pure and read-only, apart from `read_declared_resources`, which reads stack outputs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from infra.bindings import (
    API_FIELD,
    API_KEY,
    DATABASE_ID,
    EMBEDDING_MODEL,
    INDEX_NAME,
    KV_NAMESPACE_ID,
    LEGACY_API_FIELDS,
    MIN_COMPAT_VERSION,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    api_bindings,
)
from infra.drift.findings import CAUSE_OUT_OF_BAND, CHANGED, EXTRA, MISSING, DriftFinding
from infra.environments import Environment

RESOURCE_LABELS = {"d1": "D1 database", "kv_namespace": "KV namespace", "vectorize": "Vectorize index"}


@dataclass(frozen=True)
class Binding:
    name: str
    type: str
    target: str | None  # the resource id / index name / plain-text value; None when not compared

    def describe(self) -> str:
        if self.target is None:
            return self.type
        return f"{self.type} {API_FIELD.get(self.type, 'value')}={self.target}"


def declared_bindings(env: Environment, outputs) -> dict[str, Binding]:
    """The bindings `env`'s Worker must have, from infra/bindings.py, its declaration and its outputs.

    A resource whose id is not known yet (no outputs) is compared by name and type only; the
    secret's value is never compared (the API never returns it).
    """
    values = {
        DATABASE_ID: outputs.database_id,
        INDEX_NAME: outputs.index_name or env.vectorize.name,
        KV_NAMESPACE_ID: outputs.kv_namespace_id,
        API_KEY: None,
        PROTOCOL_VERSION: str(env.worker.sync_protocol_version),
        MIN_COMPAT_VERSION: str(env.worker.min_compat_client_version),
        EMBEDDING_MODEL: env.embeddings.model,
        SCHEMA_VERSION: str(outputs.schema_version) if outputs.schema_version is not None else None,
    }
    bindings = {}
    for shape in api_bindings(values):
        target = shape.get(API_FIELD.get(shape["type"], ""))
        bindings[shape["name"]] = Binding(shape["name"], shape["type"], None if target is None else str(target))
    return bindings


def with_database_id(declared: dict[str, Binding], database_id: str | None) -> dict[str, Binding]:
    """`declared`, its D1 binding pointed at `database_id` when no output gave its id. Pure."""
    if not database_id:
        return declared
    return {name: Binding(name, binding.type, database_id) if binding.type == "d1" and binding.target is None else binding
            for name, binding in declared.items()}


def read_deployed_bindings(settings: dict) -> dict[str, Binding]:
    """The bindings of a script's settings (`GET .../workers/scripts/{name}/settings` result)."""
    bindings = {}
    for raw in settings.get("bindings") or []:
        kind = str(raw.get("type"))
        target = _target_of(raw, kind)
        if kind == "secret_text":
            target = None  # never carried, never shown
        bindings[str(raw["name"])] = Binding(str(raw["name"]), kind, None if target is None else str(target))
    return bindings


def _target_of(raw: dict, kind: str):
    """The binding's target: its API field, else a legacy one (a D1 binding's `id` in older answers)."""
    for field in (API_FIELD.get(kind), *LEGACY_API_FIELDS.get(kind, ())):
        if field and raw.get(field) not in (None, ""):
            return raw[field]
    return None


def resource_owners(declared: dict[str, dict[str, Binding]]) -> dict[tuple[str, str], str]:
    """(binding type, resource id) -> the environment that declares it."""
    owners = {}
    for env_name, bindings in declared.items():
        for binding in bindings.values():
            if binding.type in RESOURCE_LABELS and binding.target:
                owners.setdefault((binding.type, binding.target), env_name)
    return owners


def binding_findings(environment: str, declared: dict[str, Binding], deployed: dict[str, Binding],
                     owners: dict[tuple[str, str], str]) -> list[DriftFinding]:
    """BND001-BND003 for one deployed Worker."""
    findings = []
    for name, want in declared.items():
        have = deployed.get(name)
        if have is None:
            findings.append(DriftFinding(
                "BND001", environment, "bindings", MISSING, f"binding {name}",
                f"{want.describe()} declared, not on the deployed Worker", CAUSE_OUT_OF_BAND,
                f"redeploy {environment} (`pulumi up --stack {environment}`)"))
        elif have.type != want.type or (want.target is not None and have.target != want.target):
            findings.append(_pointed_elsewhere(environment, want, have, owners))
    for name, have in deployed.items():
        if name not in declared:
            findings.append(DriftFinding(
                "BND003", environment, "bindings", EXTRA, f"binding {name}",
                f"{have.describe()} on the deployed Worker, declared nowhere", CAUSE_OUT_OF_BAND,
                "declare it in infra/environments.py and the stack, or redeploy to remove it"))
    return findings


def _pointed_elsewhere(environment: str, want: Binding, have: Binding, owners) -> DriftFinding:
    owner = owners.get((have.type, have.target or ""))
    cause = CAUSE_OUT_OF_BAND
    if owner and owner != environment:
        cause = f"bound to {owner}'s {RESOURCE_LABELS.get(have.type, have.type)}"
    return DriftFinding(
        "BND002", environment, "bindings", CHANGED, f"binding {want.name}",
        f"repository {want.describe()}, live {have.describe()}", cause,
        f"redeploy {environment} from the repository (`pulumi up --stack {environment}`)")


def worker_missing_finding(environment: str, script_name: str) -> DriftFinding:
    return DriftFinding("BND004", environment, "bindings", MISSING, f"worker {script_name}",
                        "declared, not deployed in the account", "not deployed yet, or deleted out of band",
                        f"deploy it (`pulumi up --stack {environment}`)")


def local_config_findings(committed_path: Path, fresh_text: str) -> list[DriftFinding]:
    """CFG001 when the committed local wrangler config is not exactly the fresh render."""
    fix = "regenerate it with `invoke render` and commit it; never edit it by hand"
    label = f"file {committed_path.name}"
    if not committed_path.exists():
        return [DriftFinding("CFG001", "local", "config", MISSING, label, "not committed", "", fix)]
    committed = committed_path.read_text(encoding="utf-8")
    if committed == fresh_text:
        return []
    detail = _config_difference(committed, fresh_text)
    return [DriftFinding("CFG001", "local", "config", CHANGED, label, detail, "edited by hand or not re-rendered", fix)]


def _config_difference(committed: str, fresh: str) -> str:
    try:
        have, want = _read_jsonc(committed), _read_jsonc(fresh)
    except json.JSONDecodeError as error:
        return f"not valid JSONC at line {error.lineno}"
    changes = [f"{key}: repository {json.dumps(want.get(key))}, committed {json.dumps(have.get(key))}"
               for key in sorted(want.keys() | have.keys()) if want.get(key) != have.get(key)]
    return "; ".join(changes) or "comments or layout differ from the render"


def _read_jsonc(text: str) -> dict:
    # The template's comments are whole `//` lines; strings never hold `//` at a line start.
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE))


def parity_findings(declared: dict[str, dict[str, Binding]],
                    deployed: dict[str, dict[str, Binding]]) -> list[DriftFinding]:
    """PAR001 (binding names differ between deployed Workers), PAR002 (a resource declared twice)."""
    findings = []
    if len(deployed) > 1:
        every_name = sorted(set().union(*(set(bindings) for bindings in deployed.values())))
        for name in every_name:
            without = sorted(env for env, bindings in deployed.items() if name not in bindings)
            if without:
                having = sorted(env for env in deployed if env not in without)
                findings.append(DriftFinding(
                    "PAR001", ", ".join(sorted(deployed)), "parity", CHANGED, f"binding {name}",
                    f"on {', '.join(having)}, not on {', '.join(without)}", CAUSE_OUT_OF_BAND,
                    "every environment's Worker has the same binding names; redeploy the odd one out"))
    seen: dict[tuple[str, str], str] = {}
    for env_name, bindings in sorted(declared.items()):
        for binding in bindings.values():
            if binding.type not in RESOURCE_LABELS or not binding.target:
                continue
            key = (binding.type, binding.target)
            if key in seen:
                label = RESOURCE_LABELS[binding.type]
                findings.append(DriftFinding(
                    "PAR002", f"{seen[key]}, {env_name}", "parity", CHANGED, f"{label} {binding.target}",
                    f"declared by both {seen[key]} and {env_name} ({binding.name})", "copied configuration",
                    f"give each environment its own {label}: fix the id in Pulumi.{env_name}.yaml or its outputs"))
            else:
                seen[key] = env_name
    return findings
