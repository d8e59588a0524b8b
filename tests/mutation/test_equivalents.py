"""The equivalents file: read strictly, and matched to mutants by their change, not their number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.errors import ConfigError
from infra.mutation.equivalents import EQUIVALENTS_FILE, read_equivalents
from infra.mutation.modules import MODULES
from infra.mutation.score import Mutant, score_module
from infra.paths import REPO_ROOT

ENTRY = """\
- module: artifact
  file: infra/artifact/build.py
  where: read_node_version
  change:
    - '- return None'
    - '+ return ""'
  reason: the caller prints the version, and both render as nothing
"""


def mutant(status: str, change=("- return None", '+ return ""'), name="infra.artifact.build.x_read_node_version__mutmut_1"):
    return Mutant("artifact", name, "infra/artifact/build.py", "read_node_version", status, change)


def test_the_committed_file_names_known_modules_files_and_one_line_reasons():
    for entry in read_equivalents(EQUIVALENTS_FILE):
        assert entry.module in MODULES, entry
        assert (REPO_ROOT / entry.file).is_file(), entry
        source = MODULES[entry.module].source  # a folder, or the one file a Worker module mutates
        assert entry.file == source or entry.file.startswith(source + "/"), entry
        assert entry.reason and len(entry.reason) < 200, entry


def test_an_equivalent_survivor_is_not_counted(tmp_path: Path):
    path = tmp_path / "equivalents.yaml"
    path.write_text(ENTRY)
    score = score_module("artifact", "mutmut", [mutant("survived"), mutant("killed", name="other", change=("- a", "+ b"))],
                         read_equivalents(path))
    assert (len(score.equivalent), len(score.counted), score.killed, score.score) == (1, 1, 1, 1.0)
    assert score.survivors == [] and score.goal_met


def test_a_survivor_not_listed_counts_against_the_score(tmp_path: Path):
    path = tmp_path / "equivalents.yaml"
    path.write_text(ENTRY)
    other = mutant("survived", change=("- return None", "+ return 1"), name="m2")
    score = score_module("artifact", "mutmut", [mutant("survived"), other, mutant("killed", name="m3", change=("- x", "+ y"))],
                         read_equivalents(path))
    assert score.survivors == [other] and score.score == 0.5 and not score.goal_met


def test_an_entry_whose_mutant_is_killed_or_gone_fails_the_module(tmp_path: Path):
    path = tmp_path / "equivalents.yaml"
    path.write_text(ENTRY)
    killed = score_module("artifact", "mutmut", [mutant("killed")], read_equivalents(path))
    assert [mutant.status for _, mutant in killed.contradicted] == ["killed"] and not killed.goal_met
    gone = score_module("artifact", "mutmut", [mutant("killed", change=("- a", "+ b"))], read_equivalents(path))
    assert [entry.where for entry in gone.stale] == ["read_node_version"] and not gone.goal_met


def test_entries_of_other_modules_are_left_alone(tmp_path: Path):
    path = tmp_path / "equivalents.yaml"
    path.write_text(ENTRY)
    score = score_module("drift", "mutmut", [], read_equivalents(path))
    assert score.stale == [] and score.score is None and not score.goal_met


def test_an_unchecked_mutant_leaves_the_module_incomplete():
    score = score_module("artifact", "mutmut", [mutant("killed", name=f"m{i}") for i in range(9)] + [mutant("not checked")], [])
    assert score.unchecked == 1 and not score.goal_met


@pytest.mark.parametrize("text, problem", [
    ("- module: artifact\n  file: f\n  where: w\n  change: ['- a']\n", "entry 1: missing reason"),
    (ENTRY + "  extra: 1\n", "entry 1: unknown key(s) extra"),
    (ENTRY.replace("'- return None'", "'return None'"), "change must list lines starting with '- ' or '+ '"),
    (ENTRY.replace("reason: the caller", "reason: |\n    two\n    lines"), "reason must be one line"),
    ("module: artifact\n", "must be a list of entries"),
    ("- [unclosed\n", "not valid YAML"),
])
def test_a_malformed_entry_is_refused_naming_it(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "equivalents.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(problem)):
        read_equivalents(path)
