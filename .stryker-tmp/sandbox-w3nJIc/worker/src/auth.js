// @ts-nocheck
// Bearer authentication with the team API key (secret binding MYCO_TEAM_API_KEY).
//
// Both sides are hashed to fixed-length digests before the constant-time compare, so neither the
// comparison time nor an early length check tells an attacker how much of the key was right.

import { HttpError } from "./http.js";

const encoder = new TextEncoder();

async function sha256(text) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function constantTimeEqual(left, right) {
  // workerd ships crypto.subtle.timingSafeEqual; the XOR fold is the portable equivalent.
  if (typeof crypto.subtle.timingSafeEqual === "function") return crypto.subtle.timingSafeEqual(left, right);
  let difference = 0;
  for (let index = 0; index < left.length; index += 1) difference |= left[index] ^ right[index];
  return difference === 0;
}

export async function requireTeamKey(request, env) {
  const expected = env.MYCO_TEAM_API_KEY;
  if (typeof expected !== "string" || expected.length === 0) {
    throw new HttpError(503, "the Worker has no team API key (secret MYCO_TEAM_API_KEY is not set)");
  }
  const header = request.headers.get("authorization") || "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) throw new HttpError(401, "missing bearer token (Authorization: Bearer <team API key>)");
  const [given, wanted] = await Promise.all([sha256(match[1].trim()), sha256(expected)]);
  if (!constantTimeEqual(given, wanted)) throw new HttpError(401, "invalid team API key");
}
