"""The Vectorize dynamic provider starts the way the real Pulumi engine starts it.

A mock-engine test never launches a plugin, so it cannot see how the engine does. The engine
starts the Python dynamic-provider plugin (`pulumi-resource-pulumi-python`, a shell shim shipped
with the CLI: pulumi/pulumi sdk/python/dist/pulumi-resource-pulumi-python) with:
- its working directory set to the folder Pulumi.yaml's `main` names, the project folder when
  there is none (pulumi/pulumi pkg/engine/project.go getPwdMain; plugin.go sets `cmd.Dir`);
- the runtime option `virtualenv` passed on unchanged as PULUMI_RUNTIME_VIRTUALENV.
The shim strips a trailing slash, makes a relative value absolute against ITS OWN working
directory ($PWD), and runs `<virtualenv>/bin/python -u -m pulumi.dynamic` if that file exists;
otherwise it prints that the virtualenv "doesn't exist" and exits 1 (pulumi/pulumi#7061).

Here the same steps run without the CLI, and the provider must come up and serve the gRPC calls
the engine makes for `VectorizeIndex`: Check, then Create against the loopback Cloudflare API.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from pathlib import Path

import grpc
import yaml
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from infra.environments import load_environment
from infra.paths import REPO_ROOT
from infra.stack.vectorize import PROVIDER_KEY, VectorizeIndexProvider, index_properties

URN = "urn:pulumi:dev::hyphae::hyphae:index:Environment$pulumi-python:dynamic/hyphae:VectorizeIndex::dev-vectors"


def read_project() -> dict:
    return yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))


def plugin_working_directory(project: dict) -> Path:
    """Where the engine starts plugins: the `main` folder, or the project folder without one."""
    return (REPO_ROOT / project.get("main", ".")).resolve()


def virtualenv_as_the_shim_resolves_it(value: str, working_directory: Path) -> Path:
    """The shim's resolution: trailing slash removed, relative to its own working directory."""
    value = value.rstrip("/")
    return Path(value) if value.startswith("/") else working_directory / value


def start_provider_as_the_engine_does(project: dict) -> tuple[subprocess.Popen, int]:
    """Start `python -m pulumi.dynamic` as the engine and the shim would; its port, once it serves."""
    working_directory = plugin_working_directory(project)
    value = project["runtime"]["options"]["virtualenv"]
    virtualenv = virtualenv_as_the_shim_resolves_it(value, working_directory)
    python = virtualenv / "bin" / "python"
    assert python.is_file(), (
        f"the engine starts the dynamic provider in {working_directory}, where the shim resolves "
        f"virtualenv {value!r} to {virtualenv}, which doesn't exist: every preview/up/refresh touching "
        "VectorizeIndex would stop (pulumi/pulumi#7061)")
    variables = dict(os.environ, PULUMI_RUNTIME_VIRTUALENV=value, PATH=f"{virtualenv / 'bin'}:{os.environ['PATH']}")
    variables.pop("PYTHONPATH", None)  # the engine sets none: the provider finds `infra` on its own
    process = subprocess.Popen([str(python), "-u", "-m", "pulumi.dynamic"], cwd=working_directory, env=variables,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_line = process.stdout.readline().strip()  # the plugin protocol: the port, on one line
    if not first_line.isdigit():
        process.kill()
        raise AssertionError(f"the dynamic provider did not start: {first_line!r} {process.stderr.read()[-2000:]}")
    return process, int(first_line)


def serialize(properties: dict):
    # A private loop, as the provider itself does: asyncio.run would unset the thread's loop,
    # which Pulumi's mocks in later tests of this worker rely on.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(properties, {}))
    finally:
        loop.close()


@contextlib.contextmanager
def provider_started_as_the_engine_does():
    process, port = start_provider_as_the_engine_does(read_project())
    try:
        yield port
    finally:
        process.kill()
        process.wait(timeout=30)


def test_the_dynamic_provider_starts_where_the_engine_starts_it_and_serves(cloudflare_env):
    news = dict(index_properties(load_environment("dev")), **{PROVIDER_KEY: serialize_provider(VectorizeIndexProvider())})
    with provider_started_as_the_engine_does() as port, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        checked = stub.Check(provider_pb2.CheckRequest(urn=URN, olds=serialize({}), news=serialize(news)), timeout=60)
        assert list(checked.failures) == []
        created = stub.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs), timeout=60)

    assert created.id == "myco-team-dev-vectors"
    index = cloudflare_env.vectorize.indexes["myco-team-dev-vectors"]
    assert (index.dimensions, index.metric) == (1024, "cosine")


def test_the_program_entry_is_where_the_engine_runs_the_program():
    project = read_project()
    assert (plugin_working_directory(project) / "__main__.py").is_file()


def test_the_policy_pack_resolves_its_own_virtualenv_to_the_repositorys():
    # Policy packs resolve `virtualenv` against their own folder (PulumiPolicy.yaml's).
    pack = REPO_ROOT / "infra" / "stack" / "policy"
    settings = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    virtualenv = virtualenv_as_the_shim_resolves_it(settings["runtime"]["options"]["virtualenv"], pack)
    assert virtualenv.resolve() == (REPO_ROOT / ".venv").resolve()
    assert (virtualenv / "bin" / "python").is_file()
