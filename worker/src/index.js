// The Myco team-sync Worker: routes, auth and the error envelope. See docs/worker.md.

import { requireTeamKey } from "./auth.js";
import { handleConnect } from "./connect.js";
import { handleHealth } from "./health.js";
import { HttpError, errorResponse } from "./http.js";
import { handleSync } from "./sync.js";

const ROUTES = {
  "GET /health": { auth: false, handle: (request, env) => handleHealth(env) },
  "POST /connect": { auth: true, handle: handleConnect },
  "POST /sync": { auth: true, handle: handleSync },
};

async function route(request, env) {
  const { pathname } = new URL(request.url);
  const entry = ROUTES[`${request.method} ${pathname}`];
  if (!entry) {
    const known = Object.keys(ROUTES).some((key) => key.endsWith(` ${pathname}`));
    throw new HttpError(known ? 405 : 404, known ? `method ${request.method} not allowed on ${pathname}` : `no route ${pathname}`);
  }
  if (entry.auth) await requireTeamKey(request, env);
  return entry.handle(request, env);
}

// An answer sent before the request body was read (a 401, say) makes the runtime close the
// connection with unread data in it, which resets it (ECONNRESET) before the client reads the
// answer. Reading the rest of the body first keeps every refusal readable.
async function drainBody(request) {
  if (request.body && !request.bodyUsed) await request.arrayBuffer().catch(() => undefined);
}

export default {
  async fetch(request, env) {
    try {
      return await route(request, env);
    } catch (error) {
      await drainBody(request);
      if (error instanceof HttpError) return errorResponse(error.status, error.message, error.details);
      console.error("unhandled error", error && error.stack ? error.stack : error);
      return errorResponse(500, "internal error");
    }
  },
};
