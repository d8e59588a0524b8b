// @ts-nocheck
// The MCP token in KV (`mcp_access_token`): created on the first /connect, replaced by
// /mcp/rotate, and shown on /health only as `mcp_token_hash`.
//
// The hash is the client's own (reference §3.6, upstream team-sync.ts `hashToken`): Java's
// String.hashCode over the UTF-16 code units (h = h * 31 + c, wrapped to a signed 32-bit
// integer), its absolute value as a plain number, lowercase hex padded to 8 and cut to 8. The
// client reconnects after every /health whose hash differs from its own hash of the token
// /connect gave it, so any other hash makes it reconnect forever.

import { HttpError } from "./http.js";

export const TOKEN_KEY = "mcp_access_token";

export function mcpTokenHash(token) {
  let hash = 0;
  for (let index = 0; index < token.length; index += 1) {
    hash = (Math.imul(hash, 31) + token.charCodeAt(index)) | 0;
  }
  return Math.abs(hash).toString(16).padStart(8, "0").slice(0, 8);
}

function requireKv(env) {
  if (!env.MYCO_SECRETS) throw new HttpError(503, "the KV binding MYCO_SECRETS is missing");
  return env.MYCO_SECRETS;
}

// The stored token, or null when there is none yet (or no KV binding: /health stays readable).
export async function readMcpToken(env) {
  return env.MYCO_SECRETS ? env.MYCO_SECRETS.get(TOKEN_KEY) : null;
}

// The stored token, created when absent. Two first /connects at once may both create one; KV
// keeps the last write and the client that got the other one reconnects once on its next /health.
export async function ensureMcpToken(env) {
  const kv = requireKv(env);
  const stored = await kv.get(TOKEN_KEY);
  if (stored !== null) return stored;
  const token = crypto.randomUUID();
  await kv.put(TOKEN_KEY, token);
  return token;
}

export async function rotateMcpToken(env) {
  const token = crypto.randomUUID();
  await requireKv(env).put(TOKEN_KEY, token);
  return token;
}
