// The MCP token's hash as /health shows it: the client's own (reference §3.6, upstream
// team-sync.ts `hashToken`). Java's String.hashCode over the UTF-16 code units (h = h * 31 + c,
// wrapped to a signed 32-bit integer), its absolute value as a plain number, lowercase hex padded
// to 8 and cut to 8. The client reconnects after every /health whose hash differs from its own
// hash of the token /connect gave it, so any other hash makes it reconnect forever. No imports:
// tests/worker/test_mcp_token_hash.py runs this module in node as it is.

export function mcpTokenHash(token) {
  let hash = 0;
  for (let index = 0; index < token.length; index += 1) {
    hash = (Math.imul(hash, 31) + token.charCodeAt(index)) | 0;
  }
  return Math.abs(hash).toString(16).padStart(8, "0").slice(0, 8);
}
