"""Running the Pulumi program under Pulumi's own mocks, recording every registration.

`run_program_under_mocks(stack)` sets fresh mocks (project `hyphae`, the given stack, not a
preview: in a preview unknown outputs would silently skip assertions), runs the same
`run_program` that the entry (`__main__.py` at the repository root) runs, and returns what the engine would have seen:
each resource's type, name, parent, `protect`, `import` id, inputs (secrets still wrapped as
secrets) and the id the mock gave it, plus the resolved stack outputs and which are secret.

The mocks play the providers' part only: ids derived from names, the API key's generated value.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

SECRET_SIGNATURE = rpc._special_sig_key  # noqa: SLF001 (the wire format's secret marker)

D1_TYPE = "cloudflare:index/d1Database:D1Database"
KV_TYPE = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
SCRIPT_TYPE = "cloudflare:index/workersScript:WorkersScript"
SUBDOMAIN_TYPE = "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain"
CRON_TYPE = "cloudflare:index/workersCronTrigger:WorkersCronTrigger"
VECTORIZE_TYPE = "pulumi-python:dynamic/hyphae:VectorizeIndex"
PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"
COMPONENT_TYPE = "hyphae:index:Environment"


@dataclass
class Registration:
    type: str
    name: str
    parent: str
    protect: bool
    import_id: str
    inputs: dict
    id: str
    urn: str
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    state: dict = field(default_factory=dict)  # the outputs the (mock) provider returned


@dataclass
class ProgramRun:
    registrations: list[Registration]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    generated_api_key: str | None = None  # the first key generated (the current one)
    generated_keys: dict[str, str] = field(default_factory=dict)  # RandomPassword name -> its value

    def of_type(self, type_: str) -> Registration:
        (found,) = [registration for registration in self.registrations if registration.type == type_]
        return found

    def all_of_type(self, type_: str) -> list[Registration]:
        return [registration for registration in self.registrations if registration.type == type_]


class HyphaeMocks(pulumi.runtime.Mocks):
    """Ids as the providers would return them; the API key's value generated here."""

    def __init__(self) -> None:
        self.generated_api_key: str | None = None
        self.generated_keys: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        if args.resource_id:  # an import: the provider reads the existing resource by its id
            return args.resource_id.split("/", 1)[-1], inputs
        if args.typ == D1_TYPE:
            database_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"d1/{inputs['name']}"))
            return database_id, dict(inputs, uuid=database_id)
        if args.typ == KV_TYPE:
            return hashlib.md5(f"kv/{inputs['title']}".encode()).hexdigest(), inputs
        if args.typ == VECTORIZE_TYPE:
            return inputs["index_name"], inputs  # Vectorize identifies an index by its name
        if args.typ == PASSWORD_TYPE:
            self.generated_keys[args.name] = secrets.token_urlsafe(36)
            self.generated_api_key = self.generated_api_key or self.generated_keys[args.name]
            return f"{args.name}-id", dict(inputs, result=self.generated_keys[args.name])
        if args.typ == SCRIPT_TYPE:
            return inputs["scriptName"], inputs
        return f"{args.name}-id", inputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, None


class RecordingMonitor(MockMonitor):
    """Pulumi's MockMonitor, also keeping the options the engine acts on (protect, import)."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(Registration(
                type=request.type, name=request.name, parent=request.parent, protect=bool(request.protect),
                import_id=request.importId, inputs=rpc.deserialize_properties(request.object),
                id=response.id, urn=response.urn,
                property_dependencies={key: list(value.urns) for key, value in request.propertyDependencies.items()},
                state=dict(self.resources[response.urn].state),
            ))
        return response


def run_under_mocks(stack: str, build: Callable[[], dict[str, Any]]) -> ProgramRun:
    """Run `build` (returns the stack outputs) under fresh mocks for `stack`, on a fresh event loop."""
    # A loop reused from before a fork (mutmut forks a child per mutant) waits forever on its
    # default executor's threads, which the child does not have.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = HyphaeMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="hyphae", stack=stack, preview=False, monitor=monitor)
    run = ProgramRun(monitor.registrations)

    async def resolve(outputs: dict[str, Any]) -> None:
        for name, value in outputs.items():
            output = pulumi.Output.from_input(value)
            run.outputs[name] = await output.future()
            if await output.is_secret():
                run.secret_outputs.add(name)

    @pulumi.runtime.test
    def program():
        return asyncio.ensure_future(resolve(build()))

    try:
        program()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    run.generated_api_key = mocks.generated_api_key
    run.generated_keys = mocks.generated_keys
    return run


def run_program_under_mocks(stack: str, artifact: Path, monkeypatch) -> ProgramRun:
    """The real program (`infra.stack.program.run_program`) for `stack` with `artifact` as dist/."""
    from infra.stack.program import run_program

    monkeypatch.setenv("HYPHAE_ARTIFACT_DIR", str(artifact))
    return run_under_mocks(stack, lambda: run_program()[1])


def is_secret_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIGNATURE) == rpc._special_secret_sig  # noqa: SLF001


def unwrap_secrets(value: Any) -> Any:
    """The values as a policy sees them: the engine hands policies secrets in the clear."""
    if is_secret_value(value):
        return unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def write_stand_in_pulumi(bin_dir: Path, body: str) -> None:
    """An executable `pulumi` in `bin_dir`: a Python script with `body` (there is no Pulumi CLI here)."""
    import stat
    import sys

    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def write_artifact(directory: Path, schema_version: int, main_module: str = "worker.js",
                   builder: dict | None = None) -> Path:
    """A small artifact as `invoke build` lays it out (the artifact package's own manifest writer)."""
    from infra.artifact.manifest import MANIFEST_NAME, plan_manifest, render_manifest

    directory.mkdir(parents=True, exist_ok=True)
    (directory / main_module).write_text("export default { fetch() { return new Response('ok'); } };\n")
    manifest = plan_manifest(
        directory, main_module=main_module, schema_version=schema_version,
        git={"commit": "0" * 40, "dirty": False}, toolchain={}, builder=builder or {"kind": "ci", "run_id": "1"},
    )
    (directory / MANIFEST_NAME).write_text(render_manifest(manifest))
    return directory
