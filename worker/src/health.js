// GET /health (no auth): status, both schema versions, which bindings are present and a short
// hash of the MCP token in KV (clients notice a rotation without seeing the token).

import { json } from "./http.js";
import { builtSchemaVersion, protocolVersion, readAppliedSchemaVersion } from "./versions.js";

const TOKEN_KEY = "mcp_access_token";

async function readTokenFingerprint(kv) {
  if (!kv) return null;
  const token = await kv.get(TOKEN_KEY);
  if (token === null) return null;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return Array.from(digest.slice(0, 6), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function readApplied(db) {
  if (!db) return { applied: null, error: "D1 binding MYCO_TEAM_DB is missing" };
  try {
    return { applied: await readAppliedSchemaVersion(db), error: null };
  } catch (error) {
    return { applied: null, error: `cannot read the ledger: ${error.message}` };
  }
}

export async function handleHealth(env) {
  const built = builtSchemaVersion(env);
  const { applied, error } = await readApplied(env.MYCO_TEAM_DB);
  let status = "ok";
  if (error) status = "database_unavailable";
  else if (built === null || applied < built) status = "schema_behind";
  const body = {
    status,
    schema_version: built,
    schema_version_applied: applied,
    sync_protocol_version: protocolVersion(env),
    bindings: {
      d1: Boolean(env.MYCO_TEAM_DB),
      kv: Boolean(env.MYCO_SECRETS),
      vectorize: Boolean(env.MYCO_TEAM_VECTORS),
      api_key: typeof env.MYCO_TEAM_API_KEY === "string" && env.MYCO_TEAM_API_KEY.length > 0,
    },
    mcp_token_sha256_prefix: await readTokenFingerprint(env.MYCO_SECRETS),
  };
  if (error) body.error = error;
  return json(status === "ok" ? 200 : 503, body);
}
