// What one invocation (a request, a cron run) may spend on the real platform, and the metering
// that keeps the Worker within it. workerd enforces none of this locally.
//
// - D1 queries: 1,000 per invocation on Workers Paid, 50 on Free; a batch counts each statement
//   (var D1_QUERY_BUDGET, from hyphae:worker.plan). Spent by `Database` (d1.js) before each call.
// - Subrequests: Workers AI, Vectorize and KV calls (var SUBREQUEST_BUDGET, same plan). Spent by
//   the metered bindings of `meteredEnv` below, before each call.
//
// Callers plan their work to fit (`remaining`) and defer what does not (embeddings stay in the
// backlog, records that cannot be isolated in time are parked in team_dlq); `spend` throwing
// BudgetExceeded is the last line: the request answers 503 and the client resends it.

import { positiveInteger } from "./http.js";

const FREE_PLAN = 50; // the strictest plan, when the Worker was deployed without its vars

export class BudgetExceeded extends Error {
  constructor(kind, limit, wanted) {
    super(`this request needs more ${kind === "queries" ? "D1 queries" : "subrequests"} than one invocation may make `
      + `(${wanted} > ${limit}, hyphae:worker.plan); it was not completed, send it again or in smaller batches`);
    this.kind = kind;
  }
}

const readLimit = (value) => positiveInteger(value) ?? FREE_PLAN;

export class Budget {
  constructor({ queries, subrequests }) {
    this.limits = { queries, subrequests };
    this.used = { queries: 0, subrequests: 0 };
  }

  static fromEnv(env) {
    return new Budget({ queries: readLimit(env.D1_QUERY_BUDGET), subrequests: readLimit(env.SUBREQUEST_BUDGET) });
  }

  remaining(kind) {
    return this.limits[kind] - this.used[kind];
  }

  // Counts `count` calls of `kind`; throws BudgetExceeded (and counts nothing) when they do not fit.
  spend(kind, count = 1) {
    if (this.used[kind] + count > this.limits[kind]) throw new BudgetExceeded(kind, this.limits[kind], this.used[kind] + count);
    this.used[kind] += count;
  }
}

// The binding methods that are subrequests on the platform, per binding.
const METERED_METHODS = {
  AI: ["run"],
  MYCO_TEAM_VECTORS: ["upsert", "insert", "deleteByIds", "getByIds", "query", "describe"],
  MYCO_SECRETS: ["get", "getWithMetadata", "put", "delete", "list"],
};

function metered(binding, methods, budget) {
  const wrapper = {};
  for (const method of methods) {
    wrapper[method] = (...args) => {
      budget.spend("subrequests");
      return binding[method](...args);
    };
  }
  return wrapper;
}

// A per-invocation child of the runtime's `env`: its AI, Vectorize and KV bindings spend from
// `budget`. Only the methods the platform counts are wrapped, so nothing else can reach the binding.
export function meteredEnv(env, budget) {
  const child = Object.create(env);
  for (const [name, methods] of Object.entries(METERED_METHODS)) {
    if (env[name]) child[name] = metered(env[name], methods, budget);
  }
  return child;
}
