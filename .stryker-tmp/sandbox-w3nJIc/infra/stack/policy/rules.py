"""hyphae's policies: what every deploy of an environment must satisfy, checked by Pulumi itself.

Run with `pulumi preview --policy-pack infra/stack/policy` (`invoke preview`/`up` pass it). Each
rule is a plain function over pulumi-policy's arguments, so tests call it directly:
- protected-data-resources: in staging and production, D1, KV and Vectorize are `protect`ed;
- worker-content-from-artifact: the Worker's bytes come from a file with its sha256 (the
  provider refuses bytes whose hash differs), never inline content;
- compatibility-date-pinned: the Worker names a real calendar date as its compatibility date;
- secret-bindings-secret: a binding holding a key, token, password or secret is `secret_text`;
- bindings-in-same-environment: every D1, KV and Vectorize binding is wired to the output of a
  resource of the same environment component, not a typed-in id;
- adopted-database-without-location-hint: a D1 database adopted by id (`d1.databaseId` in the
  stack file) declares no primary location hint: the provider would replace it (a delete).
Property names are the providers' schema names (camelCase), as the policy engine sees them.
"""

from __future__ import annotations

import datetime
import re

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.environments import BINDING_API_KEY, ENVIRONMENTS, load_environment

D1_TYPE = "cloudflare:index/d1Database:D1Database"
KV_TYPE = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
SCRIPT_TYPE = "cloudflare:index/workersScript:WorkersScript"
VECTORIZE_TYPE = "pulumi-python:dynamic/hyphae:VectorizeIndex"
DATA_TYPES = (D1_TYPE, KV_TYPE, VECTORIZE_TYPE)
PROTECTED_STACKS = ("staging", "production")

# A binding's type -> the resource type it must point at, and (binding fields, resource output)
# that must be equal when the engine knows both (KV exposes no id output to policies). The first
# binding field is the one the program writes; later ones are read from older state (D1's `id`).
BINDING_TARGETS = {
    "d1": (D1_TYPE, (("databaseId", "id"), "uuid")),
    "kv_namespace": (KV_TYPE, None),
    "vectorize": (VECTORIZE_TYPE, (("indexName",), "index_name")),
}
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def stack_of(urn: str) -> str:
    """The stack name inside a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    return urn.split(":", 2)[2].split("::", 1)[0]


def validate_protected_data(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type not in DATA_TYPES or stack_of(args.urn) not in PROTECTED_STACKS:
        return
    if not args.opts.protect:
        report_violation(
            f"{args.name} ({args.resource_type.rsplit(':', 1)[-1]}) holds {stack_of(args.urn)} data and must be "
            "protected; set hyphae:protect: true in the stack file"
        )


def validate_worker_content(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != SCRIPT_TYPE:
        return
    props = args.props
    if props.get("content"):
        report_violation(f"{args.name}: inline `content` is not allowed; upload the built artifact with content_file")
    if not props.get("contentFile"):
        report_violation(f"{args.name}: no content_file; the Worker must come from the build artifact (invoke build)")
    if not SHA256.match(str(props.get("contentSha256") or "")):
        report_violation(f"{args.name}: content_sha256 must be the artifact manifest's sha256 (64 hex digits)")
    if not props.get("mainModule"):
        report_violation(f"{args.name}: main_module is required, else bindings fail (pulumi-cloudflare #1309)")


def validate_compatibility_date(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != SCRIPT_TYPE:
        return
    value = args.props.get("compatibilityDate")
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        report_violation(
            f"{args.name}: compatibility date {value!r} is not a pinned YYYY-MM-DD date; "
            "set hyphae:worker.compatibilityDate in hyphae.defaults.yaml"
        )


def validate_secret_bindings(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != SCRIPT_TYPE:
        return
    for binding in args.props.get("bindings") or []:
        name, kind = binding.get("name", ""), binding.get("type")
        if kind == "plain_text" and (name == BINDING_API_KEY or SECRET_NAME.search(name)):
            report_violation(f"{args.name}: binding {name} holds a secret but is plain_text; make it secret_text")


def validate_bindings_in_same_environment(args: StackValidationArgs, report_violation) -> None:
    for script in args.resources:
        if script.resource_type == SCRIPT_TYPE:
            for problem in _binding_problems(script):
                report_violation(problem, script.urn)


def _binding_problems(script):
    targets = script.property_dependencies.get("bindings", [])
    environment = script.parent.urn if script.parent is not None else None
    for binding in script.props.get("bindings") or []:
        if binding.get("type") not in BINDING_TARGETS:
            continue
        target_type, fields = BINDING_TARGETS[binding["type"]]
        candidates = [target for target in targets if target.resource_type == target_type
                      and (target.parent.urn if target.parent is not None else None) == environment]
        if fields:
            binding_fields, output = fields
            value = next((binding[field] for field in binding_fields if binding.get(field)), None)
            candidates = [target for target in candidates if target.props.get(output) == value]
        if not candidates:
            yield (f"{script.name}: binding {binding.get('name')} ({binding['type']}) is not wired to a "
                   f"{target_type.rsplit(':', 1)[-1]} of the same environment; bind that resource's output, "
                   "never a typed-in or other environment's id")


def validate_adopted_database(args: ResourceValidationArgs, report_violation) -> None:
    if args.resource_type != D1_TYPE or not args.props.get("primaryLocationHint"):
        return
    stack = stack_of(args.urn)
    if stack not in ENVIRONMENTS or load_environment(stack).d1.database_id is None:
        return
    report_violation(
        f"{args.name}: the D1 database is adopted (hyphae:d1.databaseId in Pulumi.{stack}.yaml) but declares "
        f"primary_location_hint {args.props['primaryLocationHint']!r}; the provider never reads it back and "
        "would replace (delete) the database: do not pass a location hint for an adopted database"
    )


POLICIES = [
    ResourceValidationPolicy(
        name="protected-data-resources",
        description="Staging and production D1, KV and Vectorize resources are protected from deletion.",
        validate=validate_protected_data,
    ),
    ResourceValidationPolicy(
        name="worker-content-from-artifact",
        description="The Worker's code is the build artifact's file, pinned by its sha256.",
        validate=validate_worker_content,
    ),
    ResourceValidationPolicy(
        name="compatibility-date-pinned",
        description="The Worker's compatibility date is a pinned calendar date.",
        validate=validate_compatibility_date,
    ),
    ResourceValidationPolicy(
        name="secret-bindings-secret",
        description="Bindings that hold keys, tokens or passwords are secret_text.",
        validate=validate_secret_bindings,
    ),
    ResourceValidationPolicy(
        name="adopted-database-without-location-hint",
        description="A D1 database adopted by id declares no location hint (it would be replaced).",
        validate=validate_adopted_database,
    ),
    StackValidationPolicy(
        name="bindings-in-same-environment",
        description="Every D1, KV and Vectorize binding points at a resource of the same environment.",
        validate=validate_bindings_in_same_environment,
    ),
]
ENFORCEMENT = EnforcementLevel.MANDATORY
