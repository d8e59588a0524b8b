// GET /health (no auth): status, the protocol window, both schema versions, which bindings are
// present, the node count and `mcp_token_hash` (reference §3.1, §3.6; null when no token exists).

import { openDatabase } from "./d1.js";
import { json } from "./http.js";
import { mcpTokenHash, readMcpToken } from "./mcp_token.js";
import { advertisedVersions, builtSchemaVersion, readAppliedSchemaVersion } from "./versions.js";

async function readDatabase(env) {
  if (!env.MYCO_TEAM_DB) return { applied: null, nodes: null, error: "D1 binding MYCO_TEAM_DB is missing" };
  const db = openDatabase(env);
  try {
    const applied = await readAppliedSchemaVersion(db);
    const nodes = await db.first("SELECT count(*) AS count FROM nodes").catch(() => null);
    return { applied, nodes: nodes ? nodes.count : null, error: null };
  } catch (error) {
    return { applied: null, nodes: null, error: `cannot read the ledger: ${error.message}` };
  }
}

export async function handleHealth(request, env) {
  const built = builtSchemaVersion(env);
  const [{ applied, nodes, error }, token] = await Promise.all([readDatabase(env), readMcpToken(env)]);
  let status = "ok";
  if (error) status = "database_unavailable";
  else if (built === null || applied < built) status = "schema_behind";
  const body = {
    status,
    ...advertisedVersions(env),
    schema_version: built,
    schema_version_applied: applied,
    node_count: nodes,
    mcp_token_hash: token === null ? null : mcpTokenHash(token),
    bindings: {
      d1: Boolean(env.MYCO_TEAM_DB),
      kv: Boolean(env.MYCO_SECRETS),
      vectorize: Boolean(env.MYCO_TEAM_VECTORS),
      ai: Boolean(env.AI),
      api_key: typeof env.MYCO_TEAM_API_KEY === "string" && env.MYCO_TEAM_API_KEY.length > 0,
    },
  };
  if (error) body.error = error;
  return json(status === "ok" ? 200 : 503, body);
}
