"""`invoke preview` / `invoke up` (infra/stack/cli.py): the checks before Pulumi runs, in order.

The Pulumi CLI is not installed on the test machines. Where a test needs one, a stand-in script
named `pulumi` records how it was called (arguments, folder, variables) and exits with a chosen
code: the test is about what hyphae hands the CLI, not about Pulumi.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.environments import schema_version
from infra.errors import ArtifactRejected, MissingCredentials, UsageError
from infra.paths import REPO_ROOT
from infra.stack.cli import DeployFailed, PulumiNotInstalled, apply_pulumi, plan_pulumi_command

from .harness import write_artifact, write_stand_in_pulumi

POLICY_PACK = str(REPO_ROOT / "infra" / "stack" / "policy")


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    return write_artifact(tmp_path / "dist", schema_version())


@pytest.fixture
def no_pulumi_on_path(tmp_path: Path, monkeypatch) -> Path:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def install_stand_in_pulumi(bin_dir: Path, record: Path, exit_code: int = 0) -> None:
    write_stand_in_pulumi(
        bin_dir,
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'cwd': os.getcwd(), 'artifact': os.environ.get('HYPHAE_ARTIFACT_DIR'),\n"
        f"           'token_in_argv': any('CLOUDFLARE' in a for a in sys.argv)}}, open({str(record)!r}, 'w'))\n"
        f"sys.exit({exit_code})\n",
    )


def test_the_command_previews_or_updates_the_environments_stack_with_the_policy_pack():
    common = ["--stack", "staging", "--non-interactive", "--policy-pack", POLICY_PACK]
    assert plan_pulumi_command("preview", "staging") == ["pulumi", "preview", *common, "--diff"]
    assert plan_pulumi_command("up", "staging") == ["pulumi", "up", *common, "--yes", "--diff"]


def test_without_the_pulumi_cli_the_error_says_how_to_install_it(artifact, no_pulumi_on_path):
    with pytest.raises(PulumiNotInstalled) as raised:
        apply_pulumi("up", "dev", artifact)

    message = str(raised.value)
    assert message.startswith("the Pulumi CLI is not installed; install it with `curl -fsSL https://get.pulumi.com | sh")
    assert "--version 3.272.0" in message, "the CLI to install matches the pinned SDK"
    assert "\n" not in message
    assert raised.value.exit_code == 2


def test_the_task_prints_that_error_as_one_line_without_a_traceback(artifact, tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "PATH"}
    environment.update(PATH=str(Path(sys.executable).parent), HYPHAE_ARTIFACT_DIR=str(artifact))
    result = subprocess.run([sys.executable, "-m", "invoke", "up", "--env", "dev"], cwd=REPO_ROOT,
                            env=environment, capture_output=True, text=True, timeout=120)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("hyphae: error: the Pulumi CLI is not installed; install it with")
    assert "Traceback" not in result.stdout + result.stderr


def test_the_artifact_is_verified_before_the_cli_is_looked_for(artifact, no_pulumi_on_path):
    (artifact / "worker.js").write_text("export default { fetch() { return new Response('changed'); } };\n")

    with pytest.raises(ArtifactRejected, match="worker.js: sha256 .* does not match the manifest"):
        apply_pulumi("preview", "dev", artifact)


def test_a_laptop_build_is_refused_beyond_local(tmp_path, no_pulumi_on_path):
    artifact = write_artifact(tmp_path / "laptop", schema_version(), builder={"kind": "local"})

    with pytest.raises(ArtifactRejected, match="artifact refused for staging: built locally"):
        apply_pulumi("up", "staging", artifact)


def test_the_local_environment_has_no_stack(artifact):
    with pytest.raises(UsageError, match="the local environment is not a Pulumi stack"):
        apply_pulumi("up", "local", artifact)


def test_without_a_token_pulumi_is_not_started(artifact, no_pulumi_on_path, tmp_path, monkeypatch):
    record = tmp_path / "called.json"
    install_stand_in_pulumi(no_pulumi_on_path, record)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)

    with pytest.raises(MissingCredentials, match="^CLOUDFLARE_API_TOKEN is not set; export a Cloudflare API token for dev"):
        apply_pulumi("up", "dev", artifact)
    assert not record.exists()


def test_pulumi_runs_from_the_repository_with_the_verified_artifact(artifact, no_pulumi_on_path, tmp_path, monkeypatch):
    record = tmp_path / "called.json"
    install_stand_in_pulumi(no_pulumi_on_path, record)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-this-test")
    monkeypatch.setenv("HYPHAE_PRODUCTION_DATABASE_ID", "0f1e2d3c-0000-4000-8000-00000000abcd")  # created earlier

    apply_pulumi("up", "production", artifact)

    called = json.loads(record.read_text())
    assert called["argv"] == plan_pulumi_command("up", "production")[1:]
    assert called["cwd"] == str(REPO_ROOT)
    assert called["artifact"] == str(artifact.resolve())
    assert called["token_in_argv"] is False


def test_a_failed_pulumi_run_is_reported_with_its_exit_code(artifact, no_pulumi_on_path, tmp_path, monkeypatch):
    install_stand_in_pulumi(no_pulumi_on_path, tmp_path / "called.json", exit_code=255)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-this-test")

    with pytest.raises(DeployFailed, match=r"^pulumi preview failed for dev \(exit 255\); see Pulumi's output above$"):
        apply_pulumi("preview", "dev", artifact)


def test_loading_the_tasks_imports_neither_pulumi_nor_the_sdk():
    probe = ("import sys, tasks; print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'pulumi', 'pulumi_cloudflare', 'pulumi_random', 'pulumi_policy'}))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def install_stand_in_stack_output(bin_dir: Path, outputs: dict, exit_code: int = 0) -> None:
    """A stand-in `pulumi` that answers `stack output --json` with `outputs`."""
    write_stand_in_pulumi(
        bin_dir,
        "import json, sys\n"
        f"assert sys.argv[1:4] == ['stack', 'output', '--json'], sys.argv\n"
        f"print(json.dumps({outputs!r}))\n"
        f"sys.exit({exit_code})\n",
    )


def test_outputs_are_saved_for_later_tasks_without_the_secret_api_key(tmp_path, monkeypatch, isolated_state_dir):
    from infra.environments import load_environment
    from infra.outputs import read_outputs
    from infra.stack.cli import record_stack_outputs

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install_stand_in_stack_output(bin_dir, {"databaseId": "db-from-pulumi", "apiKey": "team-key-must-not-be-saved"})
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")  # read the saved file, not the stand-in again

    path = record_stack_outputs("staging")

    assert "team-key-must-not-be-saved" not in path.read_text()
    assert read_outputs(load_environment("staging")).database_id == "db-from-pulumi"


def test_outputs_failure_is_one_line_and_writes_nothing(tmp_path, monkeypatch, isolated_state_dir):
    from infra.stack.cli import record_stack_outputs

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install_stand_in_stack_output(bin_dir, {}, exit_code=255)
    monkeypatch.setenv("PATH", str(bin_dir))

    with pytest.raises(DeployFailed, match="pulumi stack output failed for dev"):
        record_stack_outputs("dev")
    assert not (isolated_state_dir / "outputs" / "dev.json").exists()


def test_refresh_is_preview_only_and_reports_changes_as_a_failure(tmp_path, monkeypatch):
    from infra.stack.cli import check_refresh

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "record.json"
    install_stand_in_pulumi(bin_dir, record, exit_code=255)
    monkeypatch.setenv("PATH", str(bin_dir))

    with pytest.raises(DeployFailed, match="pulumi refresh for production found changes"):
        check_refresh("production")
    argv = json.loads(record.read_text())["argv"]
    assert argv[:3] == ["refresh", "--stack", "production"]
    assert {"--preview-only", "--expect-no-changes"} <= set(argv)


def test_secret_output_is_read_from_the_stack_and_absent_without_the_cli(tmp_path, monkeypatch, no_pulumi_on_path):
    from infra.stack.cli import read_secret_output

    assert read_secret_output("staging", "apiKey") is None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_stand_in_pulumi(bin_dir, "import sys\nassert '--show-secrets' in sys.argv\nprint('the-team-key')\n")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert read_secret_output("staging", "apiKey") == "the-team-key"


def test_preview_can_save_pulumis_json_for_the_review(artifact, no_pulumi_on_path, tmp_path, monkeypatch):
    digest = {"steps": [{"op": "same", "urn": "urn:pulumi:dev::hyphae::pulumi:pulumi:Stack::hyphae-dev"}],
              "changeSummary": {"same": 1}}
    write_stand_in_pulumi(no_pulumi_on_path, "import json, sys\n"
                          f"assert sys.argv[-1] == '--json' and '--diff' not in sys.argv, sys.argv\n"
                          f"print(json.dumps({digest!r}))\n")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-this-test")
    saved = tmp_path / "preview-dev.json"

    apply_pulumi("preview", "dev", artifact, json_file=saved)

    assert json.loads(saved.read_text()) == digest
    assert plan_pulumi_command("preview", "dev", json_output=True)[-1] == "--json"


def test_a_failed_json_preview_writes_no_file(artifact, no_pulumi_on_path, tmp_path, monkeypatch, capsys):
    write_stand_in_pulumi(no_pulumi_on_path, "import sys\nprint('{\"diagnostics\": []}')\nsys.exit(255)\n")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-this-test")
    saved = tmp_path / "preview-dev.json"

    with pytest.raises(DeployFailed, match=r"^pulumi preview failed for dev \(exit 255\)"):
        apply_pulumi("preview", "dev", artifact, json_file=saved)
    assert not saved.exists()
    assert '{"diagnostics": []}' in capsys.readouterr().out


def test_json_output_is_for_preview_only():
    with pytest.raises(UsageError, match="^--json is for preview only, not up$"):
        plan_pulumi_command("up", "dev", json_output=True)


@pytest.mark.parametrize("deployed", ["3", "2"])
def test_a_team_key_generation_that_skips_or_goes_back_is_refused_before_pulumi_runs(deployed, artifact, no_pulumi_on_path,
                                                                                       tmp_path, monkeypatch):
    from infra.errors import ConfigError

    record = tmp_path / "called.json"
    install_stand_in_pulumi(no_pulumi_on_path, record)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-this-test")
    monkeypatch.setenv("HYPHAE_DEV_TEAM_KEY_GENERATION", deployed)  # the stack output, as CI passes it
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")  # outputs from the variable only, not the stand-in

    with pytest.raises(ConfigError, match=rf"^Pulumi.dev.yaml: hyphae:credentials.teamKeyGeneration: 1 declared but {deployed} "
                                          r"is deployed; a rotation moves one generation at a time"):
        apply_pulumi("preview", "dev", artifact)
    assert not record.exists()


@pytest.mark.parametrize("deployed", ["1", None])
def test_the_deployed_generation_or_an_unknown_one_lets_pulumi_run(deployed, artifact, no_pulumi_on_path, tmp_path, monkeypatch):
    record = tmp_path / "called.json"
    install_stand_in_pulumi(no_pulumi_on_path, record)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-this-test")
    monkeypatch.setenv("HYPHAE_NO_PULUMI_CLI", "1")
    if deployed:
        monkeypatch.setenv("HYPHAE_DEV_TEAM_KEY_GENERATION", deployed)
    apply_pulumi("preview", "dev", artifact)
    assert json.loads(record.read_text())["argv"][0] == "preview"
