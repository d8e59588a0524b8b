"""How `invoke mutate` drives the tools: mutmut's configuration per module, the changed lines it
reads back from either tool, and the report."""

from __future__ import annotations

import tomllib

import httpx
import pytest

from infra.mutation.modules import MODULES
from infra.mutation.mutmut_run import PYTEST_ARGS, _mutant, changed_lines, render_config
from infra.mutation.report import render_json, render_text
from infra.mutation.score import Mutant, score_module
from infra.mutation.stryker_run import changed_lines as stryker_changed_lines
from infra.mutation.stryker_run import plan_config, read_report

DIFF = """\
--- infra/artifact/verify.py
+++ infra/artifact/verify.py
@@ -1,4 +1,4 @@
 def _check_provenance(manifest, env_name):
-    if env_name == "local":
+    if env_name != "local":
         return
"""


def test_mutmut_mutates_only_the_module_and_runs_only_its_tests_without_workerd():
    config = tomllib.loads(render_config(MODULES["ledger"], ["migrations"]))
    mutmut = config["tool"]["mutmut"]
    assert mutmut["only_mutate"] == ["infra/ledger/*"] and mutmut["source_paths"] == ["infra"]
    assert mutmut["pytest_add_cli_args_test_selection"] == ["tests/ledger", "tests/runner"]
    assert "not workerd" in mutmut["pytest_add_cli_args"] and PYTEST_ARGS == mutmut["pytest_add_cli_args"]
    assert config["tool"]["pytest"]["ini_options"]["markers"], "pytest's own settings must survive"


def test_a_mutmut_diff_becomes_its_changed_lines_and_names_the_function_and_file():
    assert changed_lines(DIFF) == ['- if env_name == "local":', '+ if env_name != "local":']
    found = _mutant(MODULES["artifact"], "infra.artifact.verify.x__check_provenance__mutmut_2", "survived", ())
    assert (found.file, found.where) == ("infra/artifact/verify.py", "_check_provenance")
    method = _mutant(MODULES["ledger"], "infra.ledger.lock.xǁLeaseǁrenew__mutmut_1", "killed", ())
    assert (method.file, method.where) == ("infra/ledger/lock.py", "Lease.renew")


def test_a_stryker_mutant_becomes_its_changed_lines():
    lines = ["export function f(a) {", "  if (a > 1) return 2;", "}"]
    location = {"start": {"line": 2, "column": 7}, "end": {"line": 2, "column": 12}}
    assert stryker_changed_lines(lines, location, "a >= 1") == ["- if (a > 1) return 2;", "+ if (a >= 1) return 2;"]
    report = {"files": {"worker/src/x.js": {"source": "\n".join(lines), "mutants": [
        {"id": "7", "mutatorName": "EqualityOperator", "replacement": "a >= 1", "location": location, "status": "Survived"},
        {"id": "8", "mutatorName": "BlockStatement", "replacement": "{}", "location": location, "status": "CompileError"}]}}}
    found = read_report(MODULES["worker-auth"], report)
    assert [(m.name, m.where, m.status) for m in found] == [("worker/src/x.js#7", "EqualityOperator", "survived"),
                                                             ("worker/src/x.js#8", "BlockStatement", "invalid")]


def test_stryker_mutates_one_worker_file_and_runs_only_the_tests_that_exercise_it(tmp_path):
    config = plan_config(MODULES["worker-auth"], tmp_path, jobs=1)
    assert config["testRunner"] == "command" and config["mutate"] == ["worker/src/auth.js"]
    command = config["commandRunner"]["command"]
    assert "-m pytest -x" in command and command.endswith(" tests/worker/test_auth.py tests/worker/test_team_key_generations.py")
    assert "/.venv" in config["ignorePatterns"] and "/.hyphae" in config["ignorePatterns"]


def test_stryker_waits_three_clean_runs_before_calling_a_mutant_timed_out(tmp_path):
    """Guards against Stryker's default timeout (1.5 clean runs + 5 s): on a busy machine a slow
    surviving mutant times out and counts as killed, inflating the score."""
    config = plan_config(MODULES["worker-auth"], tmp_path, jobs=1)
    assert (config["timeoutFactor"], config["timeoutMS"]) == (3, 15000)


def test_every_worker_source_file_is_one_module_whose_tests_exist():
    from infra.paths import REPO_ROOT

    stryker = [module for module in MODULES.values() if module.tool == "stryker"]
    assert sorted(module.source for module in stryker) == sorted(
        path.relative_to(REPO_ROOT).as_posix() for path in (REPO_ROOT / "worker" / "src").glob("*.js"))
    for module in stryker:
        assert module.tests and all((REPO_ROOT / test).is_file() for test in module.tests), module.name


def test_the_report_shows_each_score_and_every_survivor_with_its_change():
    survivor = Mutant("artifact", "infra.artifact.verify.x__check_provenance__mutmut_2", "infra/artifact/verify.py",
                      "_check_provenance", "survived", ('- if env_name == "local":', '+ if env_name != "local":'))
    killed = [Mutant("artifact", f"k{i}", "infra/artifact/verify.py", "f", "killed", ()) for i in range(9)]
    score = score_module("artifact", "mutmut", [survivor, *killed], [])
    text = render_text([score])
    assert "artifact  mutmut  10       0           10       9       1         90.0%  met" in text
    assert '      + if env_name != "local":' in text and "_check_provenance  [survived]" in text
    assert '"score": 0.9' in render_json([score])


def test_the_readme_shows_a_score_for_every_module_next_to_the_test_command():
    import re

    from infra.paths import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("./run test "):readme.index("## Everyday flows")]
    listed = re.findall(r"^\| `([\w-]+)` \|", section, flags=re.MULTILINE)
    assert listed == list(MODULES)
    assert "./run mutate" in section and "docs/mutation.md" in section


# A Worker module that keeps Stryker's namespace from its first evaluation, as instrumented code does.
NAMESPACE_PROBE = """\
const ns = globalThis.__stryker__ || (globalThis.__stryker__ = {});
export default { async fetch() { return new Response(String(ns.activeMutant)); } };
"""


@pytest.mark.workerd
def test_the_active_mutant_reaches_the_worker_behind_the_counting_entry(tmp_path, monkeypatch):
    """Guards against every Worker mutant left inactive in the tests that run the Worker behind
    worker/dev/counting.mjs: the bundle is its import, evaluated before the entry's first statement."""
    from infra.artifact import build_artifact
    from infra.local.runtime import plan_counting_entry, start_local_worker

    artifact, probe = tmp_path / "dist", tmp_path / "probe.mjs"
    build_artifact(artifact)
    probe.write_text(NAMESPACE_PROBE)
    monkeypatch.setenv("__STRYKER_ACTIVE_MUTANT__", "42")
    worker = start_local_worker(artifact, "probe-key", state=tmp_path / "state",
                                extra_options=plan_counting_entry(artifact, tmp_path / "counting", probe))
    try:
        assert httpx.get(worker.url, timeout=30).text == "42"
    finally:
        worker.stop()
