// Bearer authentication with the team API key (secret binding MYCO_TEAM_API_KEY), and during a
// key rotation's overlap window with the previous key too (docs/credentials.md).
//
// MYCO_TEAM_AUTH_GENERATION is the current key's generation. While a rotation's window is open the
// Worker also holds the previous key (secret MYCO_TEAM_API_KEY_PREVIOUS, generation - 1) and the
// instant it stops (MYCO_TEAM_AUTH_PREVIOUS_EXPIRES, e.g. 2026-11-29T10:00:00Z): it is accepted
// before that instant and refused from then on, whether or not a deploy has removed it yet. An
// expiry that is missing or unreadable refuses the previous key: a window fails closed.
//
// Every key is hashed to a fixed-length digest and compared in constant time, both keys on every
// request, so neither the comparison time nor an early length check tells an attacker how much
// of a key was right, or which key was tried.

import { HttpError, positiveInteger } from "./http.js";

const encoder = new TextEncoder();
// The generation each authenticated request used: read by the routes that record it per machine.
const GENERATIONS = new WeakMap();

async function sha256(text) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

export function constantTimeEqual(left, right) {
  // workerd ships crypto.subtle.timingSafeEqual; the XOR fold is the portable equivalent (node:
  // tests/worker/test_auth.py runs it there).
  if (typeof crypto.subtle.timingSafeEqual === "function") return crypto.subtle.timingSafeEqual(left, right);
  let difference = 0;
  for (let index = 0; index < left.length; index += 1) difference |= left[index] ^ right[index];
  return difference === 0;
}

const readGeneration = (env) => positiveInteger(env.MYCO_TEAM_AUTH_GENERATION);

// Whether the previous key still works now: a key, and an expiry in the future.
function previousKeyOpen(env, now) {
  const previous = env.MYCO_TEAM_API_KEY_PREVIOUS;
  if (typeof previous !== "string" || previous.length === 0) return false;
  const expires = Date.parse(String(env.MYCO_TEAM_AUTH_PREVIOUS_EXPIRES ?? ""));
  return Number.isFinite(expires) && now < expires;
}

export async function requireTeamKey(request, env) {
  const expected = env.MYCO_TEAM_API_KEY;
  if (typeof expected !== "string" || expected.length === 0) {
    throw new HttpError(503, "the Worker has no team API key (secret MYCO_TEAM_API_KEY is not set)");
  }
  const header = request.headers.get("authorization") || "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) throw new HttpError(401, "missing bearer token (Authorization: Bearer <team API key>)");
  const previousOpen = previousKeyOpen(env, Date.now());
  const [given, current, previous] = await Promise.all([
    sha256(match[1].trim()),
    sha256(expected),
    // Hashed even when closed, so a request costs the same whichever key it carries.
    sha256(previousOpen ? env.MYCO_TEAM_API_KEY_PREVIOUS : expected),
  ]);
  const isCurrent = constantTimeEqual(given, current);
  const isPrevious = constantTimeEqual(given, previous) && previousOpen;
  if (!isCurrent && !isPrevious) throw new HttpError(401, "invalid team API key");
  const generation = readGeneration(env);
  GENERATIONS.set(request, generation === null ? null : isCurrent ? generation : generation - 1);
}

// The generation of the key `request` authenticated with (null: unknown, or not authenticated).
export function keyGenerationOf(request) {
  return GENERATIONS.get(request) ?? null;
}
