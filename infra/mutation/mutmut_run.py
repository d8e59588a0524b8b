"""Running mutmut over one Python module in a working folder of its own, and reading its verdicts.

mutmut reads its settings from `pyproject.toml` in the folder it runs in and writes every mutant
under `mutants/` there. So each module gets `$HYPHAE_STATE_DIR/mutate/<module>/`: links to the
repository's files, a `pyproject.toml` that is the repository's plus a `[tool.mutmut]` table naming
the module and its tests, and mutmut's own cache, which makes a second run re-test only what
changed. The run is niced: it shares the machine with everything else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra.errors import UsageError
from infra.mutation.modules import MutationModule
from infra.mutation.score import Mutant
from infra.paths import REPO_ROOT, state_dir

# Not linked into the working folder: mutmut's own config is written there, and these are state.
NOT_LINKED = {"pyproject.toml", ".git", ".hyphae", ".venv", "node_modules", "mutants", "dist", "backups",
              ".pytest_cache", ".hypothesis", ".stryker-tmp", "reports"}
# Linked inside mutants/ (too large to copy; read, never written, by the tests).
LINKED_IN_MUTANTS = (".venv", "node_modules")
# Every test run: no cache writes into the shared tree, no workerd tests (see modules.py).
PYTEST_ARGS = ["-p", "no:cacheprovider", "-m", "not workerd"]
SURVIVING = ("survived", "no tests", "suspicious")


def work_dir(module: MutationModule) -> Path:
    return state_dir() / "mutate" / module.name


def prepare_work_dir(module: MutationModule, fresh: bool) -> Path:
    """Create (or refresh) the module's working folder; `fresh` drops mutmut's cache first."""
    folder = work_dir(module)
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    (folder / "mutants").mkdir(parents=True, exist_ok=True)
    linked = sorted(path.name for path in REPO_ROOT.iterdir() if path.name not in NOT_LINKED)
    for name in linked:
        _link(folder / name, REPO_ROOT / name)
    for name in LINKED_IN_MUTANTS:
        if (REPO_ROOT / name).exists():
            _link(folder / "mutants" / name, REPO_ROOT / name)
    also_copy = [name for name in linked if name not in ("infra", "tests")]
    (folder / "pyproject.toml").write_text(render_config(module, also_copy), encoding="utf-8")
    return folder


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.symlink_to(target)


def render_config(module: MutationModule, also_copy: list[str]) -> str:
    """The repository's pyproject.toml (pytest's settings) plus mutmut's table for `module`."""
    base = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    table = {
        "source_paths": ["infra"],
        "only_mutate": [f"{module.source}/*"],
        "pytest_add_cli_args_test_selection": list(module.tests),
        "pytest_add_cli_args": PYTEST_ARGS,
        "also_copy": also_copy,
        "use_git_change_detection": False,
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return base.rstrip("\n") + "\n\n# Written by `invoke mutate` (infra/mutation/mutmut_run.py).\n[tool.mutmut]\n" + "\n".join(lines) + "\n"


def run_mutmut(module: MutationModule, *, jobs: int, fresh: bool, log, equivalents=()) -> list[Mutant]:
    """Run mutmut over `module` and return every mutant with its verdict (earlier verdicts that may
    have changed are tested again first: `_to_retest`). Writes only the working folder."""
    folder = prepare_work_dir(module, fresh)
    mutmut = Path(sys.executable).parent / "mutmut"
    if not mutmut.exists():
        raise UsageError(f"{mutmut}: missing; run ./run (it installs the dev dependencies pinned in pyproject.toml)")
    # mutmut extends its map of which test runs which function only with tests it has not seen:
    # a function added or edited since would be tried against the new tests alone. So the map is
    # rebuilt on every run (one pass of the module's tests); the verdicts are kept.
    (folder / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    earlier = _to_retest(module, folder, equivalents)
    with open(folder / "mutmut.log", "a", encoding="utf-8") as output:
        if earlier:
            log(f"  re-testing {len(earlier)} earlier survivor(s)")
            _mutmut(folder, [str(mutmut), "run", f"--max-children={jobs}", *earlier], output)
        _mutmut(folder, [str(mutmut), "run", f"--max-children={jobs}"], output)
    verdicts = read_verdicts(folder)
    changes = read_changes(folder, list(verdicts))  # killed ones too: an equivalents entry may name one
    return [_mutant(module, name, status, changes.get(name, ())) for name, status in sorted(verdicts.items())]


def _to_retest(module: MutationModule, folder: Path, equivalents) -> list[str]:
    """Earlier survivors (tests may have been added since), except those listed as equivalent, and
    listed mutants an earlier run saw killed (the test that killed them may have changed). `--fresh`
    re-tests everything."""
    verdicts = read_verdicts(folder)
    candidates = [name for name, status in verdicts.items() if status in SURVIVING or status == "killed"]
    listed = {entry.key() for entry in equivalents if entry.module == module.name}
    changes = read_changes(folder, candidates) if listed else {}
    chosen = []
    for name in candidates:
        is_listed = _mutant(module, name, verdicts[name], changes.get(name, ())).key() in listed
        if (verdicts[name] in SURVIVING) != is_listed:
            chosen.append(name)
    return chosen


def _mutmut(folder: Path, command: list[str], output) -> None:
    output.write(f"\n$ {' '.join(command)}\n")
    output.flush()
    result = subprocess.run(["nice", "-n", "10", *command], cwd=folder, stdout=output, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise UsageError(f"mutmut failed in {folder} (exit {result.returncode}); see {folder / 'mutmut.log'}")


def read_verdicts(folder: Path) -> dict[str, str]:
    """{mutant name: status} from mutmut's `mutants/**/*.py.meta` files; empty before a first run."""
    from mutmut.stats import status_by_exit_code

    verdicts = {}
    for meta in sorted((folder / "mutants").rglob("*.py.meta")):
        exit_codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        verdicts.update({name: status_by_exit_code[code] for name, code in exit_codes.items()})
    return verdicts


def read_changes(folder: Path, names: list[str]) -> dict[str, tuple[str, ...]]:
    """The changed lines of each named mutant, read by mutmut itself in the working folder."""
    if not names:
        return {}
    command = [sys.executable, "-m", "infra.mutation.mutmut_diffs"]
    result = subprocess.run(command, cwd=folder, input="\n".join(names), capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(folder)})
    if result.returncode != 0:
        raise UsageError(f"could not read mutmut's diffs in {folder}: {result.stderr.strip().splitlines()[-1:]}")
    return {name: tuple(lines) for name, lines in json.loads(result.stdout).items()}


def changed_lines(diff: str) -> list[str]:
    """`- old` / `+ new` lines of a unified diff, indentation dropped (it never decides a match)."""
    return [f"{line[0]} {line[1:].strip()}" for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()]


def _mutant(module: MutationModule, name: str, status: str, change: tuple[str, ...]) -> Mutant:
    dotted, _, _ = name.rpartition("__mutmut_")
    path, _, function = dotted.rpartition(".")
    where = function[2:] if function.startswith("x_") else function.removeprefix("x").replace("ǁ", ".").strip(".")
    file = path.replace(".", "/")
    file = f"{file}/__init__.py" if (REPO_ROOT / file).is_dir() else f"{file}.py"
    return Mutant(module.name, name, file, where, status, change)
