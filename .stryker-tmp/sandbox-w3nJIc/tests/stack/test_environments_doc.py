"""docs/environments.md keeps up with the model, the policy pack and the deploy tasks."""

from __future__ import annotations

from pydantic import BaseModel

from infra.environments import Environment
from infra.paths import REPO_ROOT
from infra.stack.policy.rules import POLICIES

DOC = (REPO_ROOT / "docs" / "environments.md").read_text(encoding="utf-8")


def _setting_names(model: type[BaseModel]) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        if name in ("name", "source"):
            continue  # given by the file name, not a setting
        names.add(field.alias or name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _setting_names(annotation)
    return names


def test_every_setting_of_the_model_is_documented():
    settings = _setting_names(Environment)
    assert {"accountId", "allowReplace", "databaseId", "adoptExisting"} <= settings
    assert sorted(name for name in settings if name not in DOC) == []


def test_every_policy_is_documented_by_name():
    assert [policy.name for policy in POLICIES if f"`{policy.name}`" not in DOC] == []


def test_the_deploy_tasks_and_adoption_steps_are_documented():
    for text in ("invoke preview --env", "invoke up --env", "pulumi stack init", "## Adopting resources made earlier with wrangler",
                 "## Adding an environment"):
        assert text in DOC, text
