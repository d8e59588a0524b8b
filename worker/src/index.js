// The Myco team-sync Worker: routes, auth, the error envelope and the cron handler. The protocol
// is the real Myco client's (reference: docs/worker.md); each route's handler lives in its module.

import { requireTeamKey } from "./auth.js";
import { Budget, BudgetExceeded, meteredEnv } from "./budget.js";
import { handleGetConfig, handlePutConfig } from "./config.js";
import { handleConnect } from "./connect.js";
import { attachBudget, d1Usage, messageOf } from "./d1.js";
import { handleHealth } from "./health.js";
import { HttpError, errorResponse, requireDeclaredLength, settleUnreadBody } from "./http.js";
import { handleEnqueue, handleLegacySync } from "./ingest.js";
import { handleManifest } from "./manifest.js";
import { handleRotateMcpToken } from "./mcp_token.js";
import {
  handleDiscardDlq,
  handleListDlq,
  handleRebuild,
  handleRetryDlq,
  handleVectorReindex,
  runScheduled,
} from "./operations.js";
import { handleGetRecord, handleListMembers, handleQueueStats, handleRemoveMember, handleSyncSummary } from "./reads.js";
import { handleSearch } from "./search.js";

// "METHOD /path" -> handler; every route but /health needs the team key.
const ROUTES = {
  "GET /health": handleHealth,
  "POST /connect": handleConnect,
  "POST /enqueue": handleEnqueue,
  "POST /sync": handleLegacySync,
  "GET /config": handleGetConfig,
  "PUT /config": handlePutConfig,
  "POST /mcp/rotate": handleRotateMcpToken,
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

function decodeParameter(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, "the path is not valid percent-encoding");
  }
}

// The route for a path without its trailing slashes (`/health/` is `/health`); HEAD is GET
// without the body (uptime checkers send it).
function findRoute(method, rawPathname) {
  const pathname = rawPathname.replace(/\/+$/, "") || "/";
  const lookup = method === "HEAD" ? "GET" : method;
  const exact = ROUTES[`${lookup} ${pathname}`];
  if (exact) return { handle: exact, parameters: [], auth: !PUBLIC.has(`${lookup} ${pathname}`) };
  for (const [patternMethod, pattern, handle] of PATTERNS) {
    const match = pattern.exec(pathname);
    if (match && patternMethod === lookup) return { handle, parameters: match.slice(1).map(decodeParameter), auth: true };
  }
  if (pathname === "/mcp" || pathname.startsWith("/mcp/")) {
    throw new HttpError(404, "this Worker does not serve the MCP server for coding agents (/mcp); see docs/worker.md");
  }
  const known = Object.keys(ROUTES).some((key) => key.endsWith(` ${pathname}`)) || PATTERNS.some(([, pattern]) => pattern.test(pathname));
  throw new HttpError(known ? 405 : 404, known ? `method ${method} not allowed on ${pathname.slice(0, 200)}` : `Not found: no route ${pathname.slice(0, 200)}`);
}

async function route(request, env) {
  const { pathname } = new URL(request.url);
  const { handle, parameters, auth } = findRoute(request.method, pathname);
  if (auth) await requireTeamKey(request, env);
  requireDeclaredLength(request, env); // 413 before a byte of an oversized body is read
  return handle(request, env, parameters);
}

// RFC 6750: a 401 names the scheme the client must use.
const CHALLENGE = { "www-authenticate": 'Bearer realm="myco-team-sync"' };

function refusal(error) {
  if (error instanceof HttpError) return errorResponse(error.status, error.message, error.details, error.status === 401 ? CHALLENGE : {});
  // Over the plan's budget: nothing was half-done that a resend would not finish (writes.js), so
  // the client resends, later or in smaller batches.
  if (error instanceof BudgetExceeded) return errorResponse(503, error.message, { budget: error.kind });
  // Anything else (D1 or a binding failing) may pass: a 5xx makes the client resend the batch.
  console.error("unhandled error", error && error.stack ? error.stack : error);
  return errorResponse(500, `internal error: ${messageOf(error).slice(0, 300)}`);
}

async function answer(request, env) {
  try {
    return await route(request, env);
  } catch (error) {
    // A refusal before the body was read (401, 404, 405, 413, ...) never reads a large one.
    await settleUnreadBody(request);
    return refusal(error);
  }
}

const withoutBody = (response) => new Response(null, { status: response.status, headers: response.headers });

// A per-invocation child of `env` and its budget (budget.js): what D1 queries and subrequests this
// invocation may still make; its Database and metered bindings spend from it.
function startInvocation(env) {
  const budget = Budget.fromEnv(env);
  const invocation = meteredEnv(env, budget);
  attachBudget(invocation, budget);
  return { budget, invocation };
}

export default {
  async fetch(request, env) {
    const { budget, invocation } = startInvocation(env);
    let response = await answer(request, invocation);
    if (request.method === "HEAD") response = withoutBody(response);
    const usage = d1Usage(invocation);
    response.headers.set("x-hyphae-d1-calls", String(usage.calls));
    response.headers.set("x-hyphae-d1-statements", String(usage.statements));
    response.headers.set("x-hyphae-subrequests", String(budget.used.subrequests));
    return response;
  },

  // The cron trigger (hyphae:embeddings.backlogCron): the deferred records and the embedding backlog.
  async scheduled(controller, env, ctx) {
    const { invocation } = startInvocation(env);
    ctx.waitUntil(
      runScheduled(invocation).catch((error) => {
        console.error("scheduled run failed", error && error.stack ? error.stack : error);
        throw error;
      }),
    );
  },
};
