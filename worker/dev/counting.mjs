// Test and bench entry only (never deployed): the built Worker (`./worker.mjs`, copied beside this
// file) behind bindings that count, per invocation, what the platform counts and workerd does not:
//
// - D1 queries: each all/first/run/raw of a statement is one, a batch() counts each statement,
//   exec() each statement it runs (Cloudflare D1 limits: "queries per Worker invocation");
// - subrequests: each call of Workers AI (run), Vectorize (upsert, insert, deleteByIds, getByIds,
//   query, describe) and KV (get, getWithMetadata, put, delete, list); AI calls are also counted apart.
//
// Like the platform, a call past the plan's limit (the Worker's own D1_QUERY_BUDGET and
// SUBREQUEST_BUDGET vars) fails, so a Worker that overspends fails here as it would there. The
// counts never come from the Worker's own accounting: these wrappers sit between it and the runtime.
// Each answer carries them as `x-counted-*` headers; `GET /__hyphae_counts` (this entry only)
// lists every invocation so far, the cron runs included.

import worker from "./worker.mjs";

const invocations = [];
const limitOf = (value, fallback) => (Number.isInteger(Number.parseInt(value, 10)) ? Number.parseInt(value, 10) : fallback);

function newTally(env, kind, detail) {
  return {
    kind, detail, d1: 0, subrequests: 0, ai: 0, refused: null,
    limits: { d1: limitOf(env.D1_QUERY_BUDGET, 50), subrequests: limitOf(env.SUBREQUEST_BUDGET, 50) },
  };
}

function spend(tally, kind, count) {
  if (tally[kind] + count > tally.limits[kind]) {
    const refusal = `${kind}: ${tally[kind] + count} > ${tally.limits[kind]}`;
    tally.refused = tally.refused ? `${tally.refused}; ${refusal}` : refusal;
    throw new Error(`Too many ${kind === "d1" ? "D1 queries" : "subrequests"} by single Worker invocation (counting.mjs: limit ${tally.limits[kind]})`);
  }
  tally[kind] += count;
}

const INNER = new WeakMap();

function countingStatement(inner, tally) {
  const wrapper = {
    bind: (...values) => countingStatement(inner.bind(...values), tally),
  };
  for (const method of ["all", "first", "run", "raw"]) {
    wrapper[method] = (...args) => {
      spend(tally, "d1", 1);
      return inner[method](...args);
    };
  }
  INNER.set(wrapper, inner);
  return wrapper;
}

function countingDatabase(database, tally) {
  return {
    prepare: (sql) => countingStatement(database.prepare(sql), tally),
    batch: (statements) => {
      spend(tally, "d1", statements.length);
      return database.batch(statements.map((statement) => INNER.get(statement) ?? statement));
    },
    exec: async (sql) => {
      const result = await database.exec(sql);
      spend(tally, "d1", result.count ?? 1);
      return result;
    },
    dump: () => database.dump(),
  };
}

const SUBREQUEST_METHODS = {
  AI: ["run"],
  MYCO_TEAM_VECTORS: ["upsert", "insert", "deleteByIds", "getByIds", "query", "describe"],
  MYCO_SECRETS: ["get", "getWithMetadata", "put", "delete", "list"],
};

function countingBinding(name, binding, tally) {
  const wrapper = {};
  for (const method of SUBREQUEST_METHODS[name]) {
    wrapper[method] = (...args) => {
      spend(tally, "subrequests", 1);
      if (name === "AI") tally.ai += 1;
      return binding[method](...args);
    };
  }
  return wrapper;
}

function countingEnv(env, tally) {
  const counted = { ...env };
  if (env.MYCO_TEAM_DB) counted.MYCO_TEAM_DB = countingDatabase(env.MYCO_TEAM_DB, tally);
  for (const name of Object.keys(SUBREQUEST_METHODS)) {
    if (env[name]) counted[name] = countingBinding(name, env[name], tally);
  }
  return counted;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__hyphae_counts") return Response.json(invocations);
    const tally = newTally(env, "fetch", `${request.method} ${url.pathname}`);
    const answer = await worker.fetch(request, countingEnv(env, tally), ctx);
    invocations.push(tally);
    const response = new Response(answer.body, answer);
    response.headers.set("x-counted-d1-queries", String(tally.d1));
    response.headers.set("x-counted-subrequests", String(tally.subrequests));
    response.headers.set("x-counted-ai-calls", String(tally.ai));
    if (tally.refused) response.headers.set("x-counted-refused", tally.refused);
    return response;
  },

  // The Worker hands its work to ctx.waitUntil; this entry waits for it, so the run is complete
  // (and counted) when the scheduled event returns.
  async scheduled(controller, env, ctx) {
    const tally = newTally(env, "scheduled", controller.cron || "");
    const pending = [];
    await worker.scheduled(controller, countingEnv(env, tally), { ...ctx, waitUntil: (promise) => pending.push(promise) });
    const outcomes = await Promise.allSettled(pending);
    tally.failed = outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => String(outcome.reason));
    invocations.push(tally);
  },
};
