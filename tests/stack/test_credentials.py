"""Team key generations in the Pulumi program (under Pulumi's mocks), the credential policies, and
the MCP token left to the Worker.

The stack file's `hyphae:credentials` drives which RandomPassword resources exist, their keepers,
and whether the Worker is bound to a previous key with its expiry (docs/credentials.md).
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest
import yaml

from infra.environments import (
    BINDING_API_KEY,
    BINDING_API_KEY_PREVIOUS,
    REMOTE_ENVIRONMENTS,
    VAR_PREVIOUS_KEY_EXPIRES,
    VAR_TEAM_KEY_GENERATION,
    load_environment,
    schema_version,
)
from infra.errors import ConfigError
from infra.paths import REPO_ROOT
from infra.stack.policy import rules

from .harness import PASSWORD_TYPE, SCRIPT_TYPE, is_secret_value, run_under_mocks, unwrap_secrets, write_artifact
from .test_policy import resource_args, violations_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def instant(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    return write_artifact(tmp_path / "dist", schema_version())


def stack_root(tmp_path: Path, stack: str, credentials: dict | None) -> Path:
    """A copy of the repository's declarations with `hyphae:credentials` of `stack` replaced."""
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "hyphae.defaults.yaml", root)
    data = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    if credentials is None:
        data["config"].pop("hyphae:credentials", None)
    else:
        data["config"]["hyphae:credentials"] = credentials
    (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data))
    return root


def rotated(generation: int, *, days_ago: float, overlap: int = 7, window: bool = True) -> dict:
    """The settings `invoke rotate` writes, `days_ago` days after that rotation."""
    at = NOW - datetime.timedelta(days=days_ago)
    settings = {"teamKeyGeneration": generation, "overlapDays": overlap, "teamKeyRotatedAt": instant(at), "maxAgeDays": 90}
    if window:
        settings["previousKeyExpires"] = instant(at + datetime.timedelta(days=overlap))
    return settings


def program_for(tmp_path, artifact, stack: str, credentials: dict | None):
    from infra.stack.program import build_environment, stack_outputs

    env = load_environment(stack, stack_root(tmp_path, stack, credentials))
    return run_under_mocks(stack, lambda: stack_outputs(build_environment(env, artifact)))


def bindings_of(run) -> dict[str, dict]:
    bindings = run.of_type(SCRIPT_TYPE).inputs["bindings"]
    assert is_secret_value(bindings), "bindings holding team keys must be a secret as a whole"
    return {binding["name"]: binding for binding in bindings["value"]}


def keys_of(run) -> dict[str, dict | None]:
    """RandomPassword name -> its keepers."""
    return {registration.name: registration.inputs.get("keepers") for registration in run.all_of_type(PASSWORD_TYPE)}


def test_generation_1_is_the_key_made_before_generations_existed_without_keepers(tmp_path, artifact):
    run = program_for(tmp_path, artifact, "staging", None)

    assert keys_of(run) == {"staging-api-key": None}, "keepers on the existing key would replace it at the first deploy"
    bindings = bindings_of(run)
    assert bindings[VAR_TEAM_KEY_GENERATION] == {"type": "plain_text", "name": VAR_TEAM_KEY_GENERATION, "text": "1"}
    assert BINDING_API_KEY_PREVIOUS not in bindings and VAR_PREVIOUS_KEY_EXPIRES not in bindings
    assert run.outputs["teamKeyGeneration"] == 1


def test_the_generation_drives_the_keepers_of_its_slot_and_the_previous_slot_is_kept(tmp_path, artifact):
    second = program_for(tmp_path, artifact, "staging", rotated(2, days_ago=1))
    assert keys_of(second) == {"staging-api-key-even": {"teamKeyGeneration": "2"}, "staging-api-key": None}, \
        "generation 2 is new (even slot); generation 1 stays exactly as it was (odd slot, no keepers)"

    third = program_for(tmp_path, artifact, "staging", rotated(3, days_ago=1))
    assert keys_of(third) == {"staging-api-key": {"teamKeyGeneration": "3"}, "staging-api-key-even": {"teamKeyGeneration": "2"}}, \
        "generation 3 changes the odd slot's keepers (pulumi-random replaces it: a new key); generation 2's are unchanged"
    fourth = program_for(tmp_path, artifact, "staging", rotated(4, days_ago=1))
    assert keys_of(fourth)["staging-api-key-even"] == {"teamKeyGeneration": "4"}
    assert bindings_of(fourth)[VAR_TEAM_KEY_GENERATION]["text"] == "4"
    assert fourth.outputs["teamKeyGeneration"] == 4


def test_during_the_window_the_worker_is_bound_to_both_keys_and_the_expiry(tmp_path, artifact):
    settings = rotated(3, days_ago=2)
    run = program_for(tmp_path, artifact, "production", settings)
    bindings = bindings_of(run)

    current, previous = run.generated_keys["production-api-key"], run.generated_keys["production-api-key-even"]
    assert bindings[BINDING_API_KEY] == {"type": "secret_text", "name": BINDING_API_KEY, "text": current}
    assert bindings[BINDING_API_KEY_PREVIOUS] == {"type": "secret_text", "name": BINDING_API_KEY_PREVIOUS, "text": previous}
    assert bindings[VAR_PREVIOUS_KEY_EXPIRES] == {"type": "plain_text", "name": VAR_PREVIOUS_KEY_EXPIRES,
                                                  "text": settings["previousKeyExpires"]}
    assert current != previous


@pytest.mark.parametrize("settings, why", [
    (rotated(3, days_ago=8), "the window ended a day ago: the next up removes the previous key"),
    (rotated(3, days_ago=0, window=False), "a compromised key's rotation keeps no previous key"),
    ({**rotated(3, days_ago=1), "previousKeyExpires": None}, "`invoke rotate --finish` ended the window early"),
])
def test_outside_the_window_the_previous_key_is_neither_bound_nor_kept(tmp_path, artifact, settings, why):
    run = program_for(tmp_path, artifact, "staging", {key: value for key, value in settings.items() if value is not None})

    assert keys_of(run) == {"staging-api-key": {"teamKeyGeneration": "3"}}, why
    bindings = bindings_of(run)
    assert BINDING_API_KEY_PREVIOUS not in bindings and VAR_PREVIOUS_KEY_EXPIRES not in bindings, why
    assert bindings[VAR_TEAM_KEY_GENERATION]["text"] == "3"


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_every_credential_output_is_secret_and_no_key_is_plain_anywhere(stack, tmp_path, artifact):
    run = program_for(tmp_path, artifact, stack, rotated(2, days_ago=1))
    keys = set(run.generated_keys.values())
    assert len(keys) == 2

    assert run.secret_outputs == {"apiKey"} and run.outputs["apiKey"] == run.generated_keys[f"{stack}-api-key-even"]
    assert not keys & {str(value) for name, value in run.outputs.items() if name != "apiKey"}, "the previous key is no stack output"
    for registration in run.registrations:
        if registration.type == PASSWORD_TYPE:
            continue  # the generator; the engine stores its result encrypted (additional_secret_outputs)
        plain = json.dumps({name: value for name, value in registration.inputs.items() if not is_secret_value(value)})
        assert not any(key in plain for key in keys), f"{registration.name} carries a team key outside a secret"


def test_a_window_longer_than_overlap_days_or_without_a_rotation_date_is_refused(tmp_path):
    too_long = {**rotated(2, days_ago=0), "previousKeyExpires": instant(NOW + datetime.timedelta(days=30))}
    with pytest.raises(ConfigError, match=r"^Pulumi.staging.yaml: hyphae:credentials: previousKeyExpires must fall within overlapDays \(7\)"):
        load_environment("staging", stack_root(tmp_path, "staging", too_long))
    undated = {"teamKeyGeneration": 2, "previousKeyExpires": instant(NOW)}
    with pytest.raises(ConfigError, match="previousKeyExpires needs teamKeyRotatedAt"):
        load_environment("staging", stack_root(tmp_path, "staging", undated))
    naive = {"teamKeyGeneration": 2, "teamKeyRotatedAt": "2026-11-22T10:00:00"}
    with pytest.raises(ConfigError, match=r"hyphae:credentials.teamKeyRotatedAt: .*needs a UTC offset"):
        load_environment("staging", stack_root(tmp_path, "staging", naive))


def test_the_local_environment_keeps_its_generation_in_the_state_folder_not_in_its_file(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "hyphae.defaults.yaml", root)
    data = yaml.safe_load((REPO_ROOT / "hyphae.local.yaml").read_text())
    data["config"]["hyphae:credentials"] = {"teamKeyGeneration": 2}
    (root / "hyphae.local.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"^hyphae.local.yaml: hyphae:credentials.teamKeyGeneration: the local key's generation lives in the state folder"):
        load_environment("local", root)


# -- policies ------------------------------------------------------------------------------------

def test_production_without_a_maximum_credential_age_is_refused(tmp_path, artifact, monkeypatch):
    root = stack_root(tmp_path, "production", {"overlapDays": 7})
    monkeypatch.setattr(rules, "load_environment", lambda name: load_environment(name, root))
    run = program_for(tmp_path, artifact, "production", {"overlapDays": 7})
    script = run.of_type(SCRIPT_TYPE)

    (message,) = violations_of("credentials-max-age", resource_args(script))
    assert message == (f"{script.name}: production declares no maximum credential age; set hyphae:credentials.maxAgeDays in "
                       "Pulumi.production.yaml (e.g. 90) so `invoke credentials` fails on a team key or MCP token kept longer")
    monkeypatch.setattr(rules, "load_environment", load_environment)
    assert load_environment("production").credentials.max_age_days == 90
    assert violations_of("credentials-max-age", resource_args(script)) == [], "the committed production declares one"


def test_dev_may_go_without_a_maximum_credential_age(tmp_path, artifact, monkeypatch):
    root = stack_root(tmp_path, "dev", None)
    monkeypatch.setattr(rules, "load_environment", lambda name: load_environment(name, root))
    run = program_for(tmp_path, artifact, "dev", None)
    assert violations_of("credentials-max-age", resource_args(run.of_type(SCRIPT_TYPE))) == []


@pytest.mark.parametrize("expires", [None, "", "next tuesday", "2026-13-40T10:00:00Z"])
def test_a_previous_key_bound_without_a_real_expiry_is_refused(tmp_path, artifact, expires):
    run = program_for(tmp_path, artifact, "staging", rotated(2, days_ago=1))
    script = run.of_type(SCRIPT_TYPE)
    assert violations_of("previous-key-expires", resource_args(script)) == []

    props = unwrap_secrets(script.inputs)
    props["bindings"] = [binding for binding in props["bindings"] if binding["name"] != VAR_PREVIOUS_KEY_EXPIRES]
    if expires is not None:
        props["bindings"].append({"type": "plain_text", "name": VAR_PREVIOUS_KEY_EXPIRES, "text": expires})
    (message,) = violations_of("previous-key-expires", resource_args(script, props=props))
    assert f"binding {BINDING_API_KEY_PREVIOUS} needs {VAR_PREVIOUS_KEY_EXPIRES}, a plain-text UTC instant" in message


@pytest.mark.parametrize("kind, text", [("plain_text", "2026-11-20"), ("secret_text", "2026-11-20T09:00:00Z")])
def test_a_previous_key_expiry_must_be_a_plain_text_instant_with_a_time(tmp_path, artifact, kind, text):
    """Guards against accepting an expiry that is only a date (it parses, but names no instant) or
    one bound as a secret (the Worker reads it as a plain variable), and against the message
    losing the format or the command that writes it."""
    run = program_for(tmp_path, artifact, "staging", rotated(2, days_ago=1))
    script = run.of_type(SCRIPT_TYPE)
    props = unwrap_secrets(script.inputs)
    props["bindings"] = [binding for binding in props["bindings"] if binding["name"] != VAR_PREVIOUS_KEY_EXPIRES]
    props["bindings"].append({"type": kind, "name": VAR_PREVIOUS_KEY_EXPIRES, "text": text})
    assert violations_of("previous-key-expires", resource_args(script, props=props)) == [
        f"{script.name}: binding {BINDING_API_KEY_PREVIOUS} needs {VAR_PREVIOUS_KEY_EXPIRES}, a plain-text UTC instant "
        "(YYYY-MM-DDTHH:MM:SSZ) at which the previous team key stops; `invoke rotate` writes it"]


# -- the MCP token belongs to the Worker ---------------------------------------------------------

KV_VALUE_TYPES = ("cloudflare:index/workersKv:WorkersKv", "cloudflare:index/workersKvPair:WorkersKvPair")


@pytest.mark.parametrize("stack", REMOTE_ENVIRONMENTS)
def test_the_program_owns_no_kv_value_so_an_up_never_reverts_a_rotated_mcp_token(stack, tmp_path, artifact):
    """The MCP token is KV `mcp_access_token`, written only by the Worker (/connect, /mcp/rotate).
    A program that declared a KV value (or the token anywhere) would put it back on every `up`."""
    run = program_for(tmp_path, artifact, stack, rotated(2, days_ago=1))

    assert [registration.name for registration in run.registrations if registration.type in KV_VALUE_TYPES] == []
    assert all(registration.type.startswith(("cloudflare:", "random:", "hyphae:", "pulumi-python:"))
               for registration in run.registrations), "no other provider could write KV"
    everything = json.dumps([unwrap_secrets(registration.inputs) for registration in run.registrations])
    assert "mcp_access_token" not in everything and "mcp" not in json.dumps(run.outputs).lower()
