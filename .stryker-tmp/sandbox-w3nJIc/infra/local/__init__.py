"""The local embedded environment's moving parts: its API key, the Worker on workerd, the smoke test.

`runtime.start_local_worker` runs a built artifact on the real workerd (miniflare from
node_modules) bound to the local D1 file and a local KV under `$HYPHAE_STATE_DIR/wrangler`;
`smoke.run_smoke` checks any running Worker over HTTP, local or deployed.
"""
