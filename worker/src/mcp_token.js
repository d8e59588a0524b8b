// The MCP token in KV (`mcp_access_token`): created on the first /connect, replaced by
// /mcp/rotate, and shown on /health only as `mcp_token_hash`. Both are recorded in D1
// (`team_credential_events`: when, the token's hash as its fingerprint, the team key generation
// that asked, and the `x-hyphae-actor` header when one was sent; never the token), so drift and
// `invoke credentials` know the token's age whoever rotated it (docs/credentials.md). KV is
// written first: a rotation whose record then fails answers 500, and the client's next /health
// (a new hash) still fetches the new token.
// The token's hash is the client's own (token_hash.js).

import { keyGenerationOf } from "./auth.js";
import { openDatabase, statement } from "./d1.js";
import { HttpError, json, nowSeconds } from "./http.js";
import { mcpTokenHash } from "./token_hash.js";
import { requireSchema } from "./versions.js";

export { mcpTokenHash };

export const TOKEN_KEY = "mcp_access_token";
const MCP_CREDENTIAL = "mcp_token";
const RECORD_EVENT = `INSERT INTO team_credential_events (credential, action, fingerprint, team_key_generation, actor, at)
VALUES (?, ?, ?, ?, ?, ?)`;
const ACTOR_HEADER = "x-hyphae-actor";
const MAX_ACTOR_LENGTH = 120;

function requireKv(env) {
  if (!env.MYCO_SECRETS) throw new HttpError(503, "the KV binding MYCO_SECRETS is missing");
  return env.MYCO_SECRETS;
}

// The stored token, or null when there is none yet (or no KV binding: /health stays readable).
export async function readMcpToken(env) {
  return env.MYCO_SECRETS ? env.MYCO_SECRETS.get(TOKEN_KEY) : null;
}

// Who asked, as the `x-hyphae-actor` header says (`invoke rotate` sends one; the daemon does not).
function actorOf(request) {
  const actor = (request.headers.get(ACTOR_HEADER) || "").replace(/[^\x20-\x7e]/g, "").trim();
  return actor ? actor.slice(0, MAX_ACTOR_LENGTH) : null;
}

async function recordEvent(db, request, action, token, at) {
  await db.batch([statement(RECORD_EVENT, MCP_CREDENTIAL, action, mcpTokenHash(token), keyGenerationOf(request), actorOf(request), at)]);
}

// The stored token, created (and recorded) when absent. Two first /connects at once may both
// create one; KV keeps the last write and the client that got the other one reconnects once on
// its next /health.
export async function ensureMcpToken(request, env, db) {
  const kv = requireKv(env);
  const stored = await kv.get(TOKEN_KEY);
  if (stored !== null) return stored;
  const token = crypto.randomUUID();
  await kv.put(TOKEN_KEY, token);
  await recordEvent(db, request, "created", token, nowSeconds());
  return token;
}

// POST /mcp/rotate (team key, no body): a new token, recorded. Answers `token` (what the client
// reads, reference §3.5) and, for `invoke rotate`, its hash and when it was rotated.
export async function handleRotateMcpToken(request, env) {
  const kv = requireKv(env);
  const db = openDatabase(env);
  await requireSchema(env, db);
  const token = crypto.randomUUID();
  const rotatedAt = nowSeconds();
  await kv.put(TOKEN_KEY, token);
  await recordEvent(db, request, "rotated", token, rotatedAt);
  return json(200, { token, mcp_token_hash: mcpTokenHash(token), rotated_at: rotatedAt });
}
