// GET (and HEAD) /health, no auth: status, the protocol window, the schema gate's verdict and why,
// which bindings are present, the node count and `mcp_token_hash` (reference §3.1, §3.6; null when
// no token exists). Anyone can call it, so it never shows D1's own error text (that goes to the
// Worker's log), only what the gate concluded.

import { messageOf, openDatabase } from "./d1.js";
import { json } from "./http.js";
import { mcpTokenHash, readMcpToken } from "./mcp_token.js";
import { advertisedVersions, builtSchemaVersion, judgeLedger, readLedger } from "./versions.js";

const UNAVAILABLE = "the database did not answer (the reason is in the Worker's log)";

async function readDatabase(env) {
  if (!env.MYCO_TEAM_DB) return { verdict: null, nodes: null, error: "the D1 binding MYCO_TEAM_DB is missing" };
  const db = openDatabase(env);
  try {
    const verdict = judgeLedger(await readLedger(db));
    const nodes = await db.first("SELECT count(*) AS count FROM nodes").catch(() => null);
    return { verdict, nodes: nodes ? nodes.count : null, error: null };
  } catch (error) {
    console.error("health: cannot read the migration ledger:", messageOf(error));
    return { verdict: null, nodes: null, error: UNAVAILABLE };
  }
}

async function readTokenHash(env) {
  try {
    const token = await readMcpToken(env);
    return token === null ? null : mcpTokenHash(token);
  } catch (error) {
    console.error("health: cannot read the MCP token:", messageOf(error));
    return null;
  }
}

function statusOf(built, verdict, error) {
  if (error) return "database_unavailable";
  if (built === null || verdict.state === "behind") return "schema_behind";
  return verdict.open ? "ok" : "schema_mismatch";
}

export async function handleHealth(request, env) {
  const built = builtSchemaVersion(env);
  const [{ verdict, nodes, error }, tokenHash] = await Promise.all([readDatabase(env), readTokenHash(env)]);
  const status = statusOf(built, verdict, error);
  const body = {
    status,
    ...advertisedVersions(env),
    schema_version: built,
    schema_version_applied: verdict ? verdict.applied : null,
    schema_state: verdict ? verdict.state : null,
    node_count: nodes,
    mcp_token_hash: tokenHash,
    bindings: {
      d1: Boolean(env.MYCO_TEAM_DB),
      kv: Boolean(env.MYCO_SECRETS),
      vectorize: Boolean(env.MYCO_TEAM_VECTORS),
      ai: Boolean(env.AI),
      api_key: typeof env.MYCO_TEAM_API_KEY === "string" && env.MYCO_TEAM_API_KEY.length > 0,
    },
  };
  if (verdict && verdict.reason) body.schema_reason = verdict.reason;
  if (error) body.error = error;
  return json(status === "ok" ? 200 : 503, body);
}
