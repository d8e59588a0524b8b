"""Rendering the local Worker's configuration from the environment model (never patched by hand).

`plan_local_config` is the one place the local bindings are decided; the committed
`worker/wrangler.local.jsonc` (for `wrangler dev -c worker/wrangler.local.jsonc`) and the
miniflare options of `infra.local.runtime` are both built from it.
"""

from infra.render.local_config import (
    LOCAL_CONFIG_PATH,
    apply_local_config,
    plan_local_config,
    render_local_config,
)

__all__ = ["LOCAL_CONFIG_PATH", "apply_local_config", "plan_local_config", "render_local_config"]
