"""The Worker's build artifact: the allowlist derived from migrations, the bundle, its manifest.

`build_artifact` bundles `worker/src` with the pinned esbuild into a folder (normally `dist/`)
holding the module and `manifest.json`; `verify_artifact` checks it before anything deploys it.
"""

from infra.artifact.build import build_artifact
from infra.artifact.verify import verify_artifact

__all__ = ["build_artifact", "verify_artifact"]
