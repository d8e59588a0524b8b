// @ts-nocheck
// The Myco team-sync Worker: routes, auth, the error envelope and the cron handler. The protocol
// is the real Myco client's (reference: docs/worker.md); each route's handler lives in its module.

import { requireTeamKey } from "./auth.js";
import { handleGetConfig, handlePutConfig } from "./config.js";
import { handleConnect } from "./connect.js";
import { d1Usage, messageOf } from "./d1.js";
import { handleHealth } from "./health.js";
import { HttpError, errorResponse, json } from "./http.js";
import { handleEnqueue, handleLegacySync } from "./ingest.js";
import { handleManifest } from "./manifest.js";
import { rotateMcpToken } from "./mcp_token.js";
import {
  drainBacklogOnSchedule,
  handleDiscardDlq,
  handleListDlq,
  handleRebuild,
  handleRetryDlq,
  handleVectorReindex,
} from "./operations.js";
import { handleGetRecord, handleListMembers, handleQueueStats, handleRemoveMember, handleSyncSummary } from "./reads.js";
import { handleSearch } from "./search.js";

const handleRotate = async (request, env) => json(200, { token: await rotateMcpToken(env) });

// "METHOD /path" -> handler; every route but /health needs the team key.
const ROUTES = {
  "GET /health": handleHealth,
  "POST /connect": handleConnect,
  "POST /enqueue": handleEnqueue,
  "POST /sync": handleLegacySync,
  "GET /config": handleGetConfig,
  "PUT /config": handlePutConfig,
  "POST /mcp/rotate": handleRotate,
  "GET /manifest": handleManifest,
  "GET /sync-summary": handleSyncSummary,
  "GET /queue-stats": handleQueueStats,
  "GET /search": handleSearch,
  "GET /members": handleListMembers,
  "GET /dlq": handleListDlq,
  "POST /dlq/retry": handleRetryDlq,
  "POST /dlq/discard": handleDiscardDlq,
  "POST /vectors/reindex": handleVectorReindex,
  "POST /rebuild": handleRebuild,
};
const PUBLIC = new Set(["GET /health"]);
// Routes with path parameters: [method, pattern, handler(request, env, parameters)].
const PATTERNS = [
  ["GET", /^\/records\/([^/]+)\/([^/]+)$/, handleGetRecord],
  ["DELETE", /^\/members\/([^/]+)$/, handleRemoveMember],
];

function findRoute(method, pathname) {
  const exact = ROUTES[`${method} ${pathname}`];
  if (exact) return { handle: exact, parameters: [], auth: !PUBLIC.has(`${method} ${pathname}`) };
  for (const [patternMethod, pattern, handle] of PATTERNS) {
    const match = pattern.exec(pathname);
    if (match && patternMethod === method) return { handle, parameters: match.slice(1).map(decodeURIComponent), auth: true };
  }
  if (pathname === "/mcp" || pathname.startsWith("/mcp/")) {
    throw new HttpError(404, "this Worker does not serve the MCP server for coding agents (/mcp); see docs/worker.md");
  }
  const known = Object.keys(ROUTES).some((key) => key.endsWith(` ${pathname}`)) || PATTERNS.some(([, pattern]) => pattern.test(pathname));
  throw new HttpError(known ? 405 : 404, known ? `method ${method} not allowed on ${pathname}` : `Not found: no route ${pathname}`);
}

async function route(request, env) {
  const { pathname } = new URL(request.url);
  const { handle, parameters, auth } = findRoute(request.method, pathname);
  if (auth) await requireTeamKey(request, env);
  return handle(request, env, parameters);
}

// An answer sent before the request body was read (a 401, say) makes the runtime close the
// connection with unread data in it, which resets it (ECONNRESET) before the client reads the
// answer. Reading the rest of the body first keeps every refusal readable.
async function drainBody(request) {
  if (request.body && !request.bodyUsed) await request.arrayBuffer().catch(() => undefined);
}

async function answer(request, env) {
  try {
    return await route(request, env);
  } catch (error) {
    await drainBody(request);
    if (error instanceof HttpError) return errorResponse(error.status, error.message, error.details);
    // Anything else (D1 or a binding failing) may pass: a 5xx makes the client resend the batch.
    console.error("unhandled error", error && error.stack ? error.stack : error);
    return errorResponse(500, `internal error: ${messageOf(error).slice(0, 300)}`);
  }
}

export default {
  async fetch(request, env) {
    // A per-request child of `env`: its Database counts this invocation's D1 round trips and
    // statements (D1 allows 50 statements per invocation on Workers Free, 1,000 on Paid).
    const requestEnv = Object.create(env);
    const response = await answer(request, requestEnv);
    const usage = d1Usage(requestEnv);
    response.headers.set("x-hyphae-d1-calls", String(usage.calls));
    response.headers.set("x-hyphae-d1-statements", String(usage.statements));
    return response;
  },

  // The cron trigger (hyphae:embeddings.backlogCron): retry the embeddings still in the backlog.
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      drainBacklogOnSchedule(Object.create(env)).catch((error) => {
        console.error("embedding backlog drain failed", error && error.stack ? error.stack : error);
        throw error;
      }),
    );
  },
};
