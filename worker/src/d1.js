// Every D1 access of the Worker goes through one `Database` per invocation, which spends the
// invocation's query budget (budget.js) before each call and counts what it sent: `calls` (round
// trips) and `statements` (each statement of a batch counts, as D1 counts queries).
//
// Statements are plain objects `{sql, params}` until they are sent, so planners stay pure and a
// batch can be assembled from several of them.
//
// Lists travel as ONE bound parameter holding JSON, read back in SQL with json_each(): D1 allows
// 100 bound parameters per statement, so a list in `IN (?, ?, …)` or a multi-row VALUES costs a
// statement per ~100 values, and every statement is a query of the budget. A JSON text may be up
// to D1's 2,000,000-byte value limit; lists are cut to JSON_PARAMETER_BYTES.

import { HttpError } from "./http.js";

export const MAX_VALUE_BYTES = 2_000_000; // D1: the largest string, BLOB or row
export const JSON_PARAMETER_BYTES = 1_900_000; // room below MAX_VALUE_BYTES for brackets and commas

export const quote = (name) => `"${String(name).replaceAll('"', '""')}"`;
export const statement = (sql, ...params) => ({ sql, params });

const encoder = new TextEncoder();
export const utf8Bytes = (text) => encoder.encode(text).length;

export function chunk(items, size) {
  const chunks = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

// `items` cut into lists whose JSON (`JSON.stringify(list)`) stays within `maxBytes`; an item is
// never split. `sizeOf(item)` is the UTF-8 size of the item's own JSON.
export function chunkJson(items, maxBytes = JSON_PARAMETER_BYTES, sizeOf = (item) => utf8Bytes(JSON.stringify(item))) {
  const chunks = [];
  let current = [];
  let bytes = 2;
  for (const item of items) {
    const size = sizeOf(item) + 1;
    if (current.length && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 2;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

// `json_extract(value, '$[i]')` for i in 0..count-1: the columns of a json_each() over arrays.
export const jsonColumns = (count) => Array.from({ length: count }, (_, index) => `json_extract(value, '$[${index}]')`).join(", ");

export class Database {
  constructor(binding, budget) {
    this.binding = binding;
    this.budget = budget;
    this.calls = 0;
    this.statements = 0;
  }

  remaining() {
    return this.budget.remaining("queries");
  }

  spend(count) {
    this.budget.spend("queries", count);
    this.calls += 1;
    this.statements += count;
  }

  prepare({ sql, params }) {
    return this.binding.prepare(sql).bind(...params);
  }

  async all(sql, ...params) {
    this.spend(1);
    const { results } = await this.prepare({ sql, params }).all();
    return results;
  }

  async first(sql, ...params) {
    this.spend(1);
    return this.prepare({ sql, params }).first();
  }

  // One transaction: every statement applies or none does. Returns D1's result per statement.
  async batch(statements) {
    if (statements.length === 0) return [];
    this.spend(statements.length);
    return this.binding.batch(statements.map((item) => this.prepare(item)));
  }
}

// One Database per invocation: the router hands every handler its own `env` object (a child of
// the runtime's, budget.js), so what an invocation spent can be read back and sent as headers.
const DATABASES = new WeakMap();
const BUDGETS = new WeakMap();

export function attachBudget(env, budget) {
  BUDGETS.set(env, budget);
}

export function openDatabase(env) {
  if (!env.MYCO_TEAM_DB) throw new HttpError(503, "the D1 binding MYCO_TEAM_DB is missing");
  if (!DATABASES.has(env)) DATABASES.set(env, new Database(env.MYCO_TEAM_DB, BUDGETS.get(env)));
  return DATABASES.get(env);
}

export function d1Usage(env) {
  const db = DATABASES.get(env);
  return db ? { calls: db.calls, statements: db.statements } : { calls: 0, statements: 0 };
}

export const messageOf = (error) => String(error && error.message ? error.message : error);
