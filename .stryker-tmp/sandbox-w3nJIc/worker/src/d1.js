// @ts-nocheck
// Every D1 access of the Worker goes through one `Database` per invocation, so what an invocation
// costs can be counted: `calls` (round trips: each all/first/run/batch is one subrequest) and
// `statements` (each statement of a batch counts). D1 limits both per invocation (queries per
// Worker invocation: 50 on Workers Free, 1,000 on Paid; see docs/worker.md).
//
// Statements are plain objects `{sql, params}` until they are sent, so planners stay pure and a
// batch can be assembled from several of them.

import { HttpError } from "./http.js";

export const MAX_BOUND_PARAMETERS = 100; // D1 refuses a statement with a 101st bound parameter
export const STATEMENTS_PER_BATCH = 50;

export const quote = (name) => `"${String(name).replaceAll('"', '""')}"`;
export const placeholders = (count) => Array(count).fill("?").join(", ");
export const statement = (sql, ...params) => ({ sql, params });

export function chunk(items, size) {
  const chunks = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

export class Database {
  constructor(binding) {
    this.binding = binding;
    this.calls = 0;
    this.statements = 0;
  }

  prepare({ sql, params }) {
    return this.binding.prepare(sql).bind(...params);
  }

  async all(sql, ...params) {
    this.calls += 1;
    this.statements += 1;
    const { results } = await this.prepare({ sql, params }).all();
    return results;
  }

  async first(sql, ...params) {
    this.calls += 1;
    this.statements += 1;
    return this.prepare({ sql, params }).first();
  }

  async run(sql, ...params) {
    this.calls += 1;
    this.statements += 1;
    return this.prepare({ sql, params }).run();
  }

  // One transaction: every statement applies or none does. Returns D1's result per statement.
  async batch(statements) {
    if (statements.length === 0) return [];
    this.calls += 1;
    this.statements += statements.length;
    return this.binding.batch(statements.map((item) => this.prepare(item)));
  }
}

// One Database per invocation: the router hands every handler its own `env` object (a child of
// the runtime's), so what an invocation spent can be read back (`d1Usage`) and sent as headers.
const DATABASES = new WeakMap();

export function openDatabase(env) {
  if (!env.MYCO_TEAM_DB) throw new HttpError(503, "the D1 binding MYCO_TEAM_DB is missing");
  if (!DATABASES.has(env)) DATABASES.set(env, new Database(env.MYCO_TEAM_DB));
  return DATABASES.get(env);
}

export function d1Usage(env) {
  const db = DATABASES.get(env);
  return db ? { calls: db.calls, statements: db.statements } : { calls: 0, statements: 0 };
}

export const messageOf = (error) => String(error && error.message ? error.message : error);
