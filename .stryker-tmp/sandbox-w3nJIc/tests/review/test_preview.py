"""A saved `pulumi preview --json` (Pulumi's PreviewDigest) as counts and named replaces and deletes."""

from __future__ import annotations

import json

import pytest

from infra.errors import UsageError
from infra.review.preview import ResourceStep, read_preview, summarize_preview
from tests.review.scenario import FIXTURES

VECTORS = "urn:pulumi:dev::hyphae::hyphae:index:Environment$pulumi-python:dynamic/hyphae:VectorizeIndex::dev-vectors"


def test_the_dev_preview_is_counted_and_its_replace_and_delete_named():
    preview = read_preview(FIXTURES / "preview-dev.json")
    assert preview.stack == "dev"
    assert preview.headline() == "0 to create, 1 to update, 1 to replace, 1 to delete, 6 unchanged"
    assert preview.replaced == [ResourceStep("dev-vectors", "pulumi-python:dynamic/hyphae:VectorizeIndex",
                                             ("dimensions",))]
    assert preview.deleted == [ResourceStep("dev-cache-kv", "cloudflare:index/workersKvNamespace:WorkersKvNamespace")]
    assert preview.errors == []


def test_without_a_change_summary_the_steps_are_counted_and_a_replacement_counts_once():
    digest = {"steps": [{"op": "create-replacement", "urn": VECTORS}, {"op": "replace", "urn": VECTORS},
                        {"op": "delete-replaced", "urn": VECTORS},
                        {"op": "create", "urn": "urn:pulumi:dev::hyphae::random:index/randomPassword:RandomPassword::k"},
                        {"op": "same", "urn": "urn:pulumi:dev::hyphae::pulumi:pulumi:Stack::hyphae-dev"}]}
    preview = summarize_preview(digest, FIXTURES / "x.json")
    assert preview.counts == {"create": 1, "replace": 1, "same": 1}
    assert [step.name for step in preview.replaced] == ["dev-vectors"]


def test_error_diagnostics_are_kept(tmp_path):
    path = tmp_path / "preview.json"
    path.write_text(json.dumps({"diagnostics": [{"message": "error: provider refused\n", "severity": "error"},
                                                {"message": "a warning", "severity": "warning"}]}))
    assert read_preview(path).errors == ["error: provider refused"]


def test_a_missing_file_names_it_and_how_to_make_it(tmp_path):
    with pytest.raises(UsageError, match=r"--preview .*missing.json: no such file \(save it with `invoke preview --env "
                                         r"dev --json"):
        read_preview(tmp_path / "missing.json")


@pytest.mark.parametrize("text, problem", [("Previewing update (dev):", "not JSON"),
                                           ('["a list"]', "not a `pulumi preview --json` document"),
                                           ('{"steps": "none"}', "not a `pulumi preview --json` document")])
def test_a_file_that_is_no_preview_is_refused_by_name(tmp_path, text, problem):
    path = tmp_path / "preview.txt"
    path.write_text(text)
    with pytest.raises(UsageError, match=rf"^--preview {path}: {problem}"):
        read_preview(path)
