"""`invoke build`, `invoke verify`, `invoke fetch-artifact`, `invoke render`: the Worker's artifact
and its local config."""

from __future__ import annotations

from pathlib import Path

from invoke import task

from infra.commands import choose, reports_errors
from infra.paths import REPO_ROOT


def _folder(path: str) -> Path:
    folder = Path(path)
    return folder if folder.is_absolute() else REPO_ROOT / folder


@task(help={"output": "folder to write the artifact into (default: dist)"})
@reports_errors
def build(c, output="dist"):
    """Bundle the Worker with the pinned esbuild into dist/: worker.js and manifest.json."""
    from infra.artifact import build_artifact

    folder = _folder(output)
    manifest = build_artifact(folder)
    git = manifest["git"]
    print(f"built {folder}/{manifest['main_module']} for schema {manifest['schema_version']}")
    print(f"  artifact sha256 {manifest['artifact_sha256']}")
    print(f"  commit {git['commit']} ({'dirty' if git['dirty'] else 'clean'}), builder {manifest['builder']['kind']}")


@task(help={"artifact": "the artifact folder (default: dist)", "env": "environment it is meant for (default: local)"})
@reports_errors
def verify(c, artifact="dist", env="local"):
    """Check every hash of an artifact and whether ENV accepts it (beyond local: clean CI builds only)."""
    from infra.artifact import verify_artifact
    from infra.environments import ENVIRONMENTS

    manifest = verify_artifact(_folder(artifact), choose(env, ENVIRONMENTS, "--env"))
    print(f"{artifact}: {len(manifest['files'])} file(s) match manifest.json; accepted for {env} (sha256 {manifest['artifact_sha256'][:12]})")


@task(help={"artifact-id": "the build job's `artifact-id` output", "digest": "the build job's `artifact-digest` output",
            "to": "an empty folder to unpack into (default: dist)"})
@reports_errors
def fetch_artifact(c, artifact_id="", digest="", to="dist"):
    """Download a CI artifact by id (GH_TOKEN, GITHUB_REPOSITORY), refuse it unless its sha256 is DIGEST, unpack it."""
    from infra.artifact.fetch import fetch_artifact as fetch

    checked = fetch(artifact_id, digest, _folder(to))
    print(f"artifact {artifact_id}: sha256 {checked} as the build job uploaded it; unpacked into {to}")


@task(help={"check": "only check that worker/wrangler.local.jsonc is up to date (exit 1 if not)"})
@reports_errors
def render(c, check=False):
    """Render worker/wrangler.local.jsonc from hyphae.local.yaml and migrations/."""
    from infra.errors import DriftDetected
    from infra.render import LOCAL_CONFIG_PATH, apply_local_config, render_local_config

    relative = LOCAL_CONFIG_PATH.relative_to(REPO_ROOT)
    if check:
        if not LOCAL_CONFIG_PATH.exists() or LOCAL_CONFIG_PATH.read_text() != render_local_config():
            raise DriftDetected(f"{relative} is stale; run `invoke render` and commit it")
        print(f"{relative} is up to date")
        return
    print(f"{relative} {'rendered' if apply_local_config() else 'already up to date'}")
