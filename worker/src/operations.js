// Operator endpoints (reference §3.7): the dead-letter table (GET /dlq, POST /dlq/retry,
// POST /dlq/discard), POST /vectors/reindex, POST /rebuild; and the cron run (`scheduled`).
//
// team_dlq holds accepted records that are not in their table yet: those D1 refused on their own
// while it was working, and those a push could not isolate within its query budget (DEFERRED,
// writes.js). Both are durable; /dlq/retry applies them again through the push's own path, and the
// cron applies the deferred ones by itself.

import { BudgetExceeded } from "./budget.js";
import { teamConfigStatements } from "./config.js";
import { EMBEDDED_FIELDS, SYNCED_TABLES, storedColumns } from "./contract.js";
import { chunkJson, messageOf, openDatabase, quote, statement } from "./d1.js";
import { drainJobs, readBacklog } from "./embeddings.js";
import { HttpError, json, nowSeconds, readJsonBody, readLimit, requireString } from "./http.js";
import { storeRecords } from "./ingest.js";
import { RecordRejected, readRecord } from "./records.js";
import { advertisedVersions, requireSchema } from "./versions.js";
import { leaseId } from "./writes.js";

const MAX_LEASE_IDS = 1000;

async function openReady(env) {
  const db = openDatabase(env);
  await requireSchema(env, db);
  return db;
}

async function readLeaseIds(request, env) {
  const body = await readJsonBody(request, env);
  const ids = Array.isArray(body.lease_ids) ? body.lease_ids.filter((id) => typeof id === "string") : [];
  if (ids.length === 0) throw new HttpError(400, "lease_ids array is required");
  if (ids.length > MAX_LEASE_IDS) throw new HttpError(413, `at most ${MAX_LEASE_IDS} lease_ids per request`);
  return [...new Set(ids)];
}

const leaseList = (sql, leaseIds) => chunkJson(leaseIds).map((ids) => statement(sql, JSON.stringify(ids)));

export async function handleListDlq(request, env) {
  const limit = readLimit(new URL(request.url), "limit", 50, 500);
  const db = await openReady(env);
  const messages = await db.all(`SELECT lease_id, table_name, row_id, machine_id, operation, reason, created_at, replay_count
    FROM team_dlq ORDER BY created_at DESC, lease_id LIMIT ?`, limit);
  return json(200, { messages });
}

// Applies parked entries ({lease_id, payload}) again. A record that is stored now (or needs no
// write: its row already holds the same content) leaves team_dlq, one that fails again stays with
// its new reason, one the contract now rejects stays too and is reported.
async function applyParked(env, db, parked, reserve) {
  const now = nowSeconds();
  const checked = [];
  const refused = [];
  for (const entry of parked) {
    try {
      const raw = JSON.parse(entry.payload);
      checked.push(readRecord(raw, raw?.machine_id, now)); // a payload that is not an object is refused by readRecord
    } catch (error) {
      if (!(error instanceof RecordRejected) && !(error instanceof SyntaxError)) throw error;
      refused.push({ lease_id: entry.lease_id, error: messageOf(error) });
    }
  }
  const result = checked.length ? await storeRecords(env, db, checked, { now, reserve: reserve + 1 }) : { deadLettered: [], closing: [] };
  const failing = new Set(result.deadLettered.map(({ record }) => leaseId(record)));
  const settled = checked.map(leaseId).filter((lease) => !failing.has(lease));
  await db.batch([...result.closing, ...leaseList("DELETE FROM team_dlq WHERE lease_id IN (SELECT value FROM json_each(?))", [...new Set(settled)])]);
  return { retried: settled.length, failed: [...failing].map((lease) => ({ lease_id: lease })), refused };
}

export async function handleRetryDlq(request, env) {
  const leaseIds = await readLeaseIds(request, env);
  const db = await openReady(env);
  const parked = (await db.batch(leaseList("SELECT lease_id, payload FROM team_dlq WHERE lease_id IN (SELECT value FROM json_each(?))", leaseIds)))
    .flatMap((result) => result.results);
  return json(200, await applyParked(env, db, parked, 0));
}

export async function handleDiscardDlq(request, env) {
  const leaseIds = await readLeaseIds(request, env);
  const db = await openReady(env);
  const results = await db.batch(leaseList("DELETE FROM team_dlq WHERE lease_id IN (SELECT value FROM json_each(?))", leaseIds));
  return json(200, { discarded: results.reduce((sum, result) => sum + (result.meta.changes ?? 0), 0) });
}

// SQLite needs a WHERE in an INSERT ... SELECT before its ON CONFLICT clause (a parsing
// ambiguity), hence `WHERE true` when every row is meant.
function queueTableStatement(table, machineId, queuedAt) {
  const where = machineId === null ? " WHERE true" : ' WHERE "machine_id" = ?';
  return statement(`INSERT INTO team_embed_backlog (table_name, row_id, machine_id, queued_at)
    SELECT ?, "id", "machine_id", ? FROM ${quote(table)}${where}
    ON CONFLICT (table_name, row_id, machine_id) DO UPDATE SET queued_at = excluded.queued_at, attempts = 0, last_error = NULL`,
  table, queuedAt, ...(machineId === null ? [] : [machineId]));
}

// POST /vectors/reindex {table?}: a job for every row of the embedded tables (the cron drains them).
export async function handleVectorReindex(request, env) {
  const body = await readJsonBody(request, env, { optional: true });
  const tables = body.table ? [body.table] : Object.keys(EMBEDDED_FIELDS);
  for (const table of tables) if (typeof table !== "string" || !Object.hasOwn(EMBEDDED_FIELDS, table)) throw new HttpError(400, `Unknown table: ${String(table).slice(0, 64)}`);
  const db = await openReady(env);
  const queuedAt = Date.now();
  const results = await db.batch([
    ...tables.map((table) => queueTableStatement(table, null, queuedAt)),
    ...teamConfigStatements({ vector_reindex_status: "queued", vector_reindex_last_run_at: String(nowSeconds()), vector_reindex_last_error: "" }),
  ]);
  const byTable = Object.fromEntries(tables.map((table, index) => [table, results[index].meta.changes ?? 0]));
  const enqueued = Object.values(byTable).reduce((sum, count) => sum + count, 0);
  return json(200, {
    enqueued, by_table: byTable, sync_protocol_version: advertisedVersions(env).sync_protocol_version,
    // Fields of the inline reindex older clients read (upstream keeps them for the v1 -> v2 rollout).
    table: tables[0], processed: enqueued, reindexed: enqueued, deleted: 0, next_cursor: null,
  });
}

// POST /rebuild {machine_id}: delete that machine's rows everywhere (its vectors follow through
// the backlog) so the client can push its whole vault again. Never touches other machines' rows.
export async function handleRebuild(request, env) {
  const body = await readJsonBody(request, env, { optional: true });
  const machineId = requireString(body.machine_id, "machine_id");
  const db = await openReady(env);
  const queuedAt = Date.now();
  const tables = SYNCED_TABLES.filter((table) => storedColumns(table));
  const results = await db.batch([
    ...Object.keys(EMBEDDED_FIELDS).map((table) => queueTableStatement(table, machineId, queuedAt)),
    ...tables.map((table) => statement(`DELETE FROM ${quote(table)} WHERE "machine_id" = ?`, machineId)),
  ]);
  const deletes = results.slice(Object.keys(EMBEDDED_FIELDS).length);
  const byTable = Object.fromEntries(tables.map((table, index) => [table, deletes[index].meta.changes ?? 0]));
  return json(200, { ok: true, machine_id: machineId, truncated_tables: tables.length, deleted: byTable });
}

// The cron run, within the invocation's budget: first the records pushes deferred (parked with
// DEFERRED), then the embedding backlog in rounds, then the vector_reindex_* keys.
const CRON_DEFERRED_RECORDS = 200;
const CRON_JOBS_PER_ROUND = 100;
const CRON_AI_CALLS = 30;
const CRON_CLOSING_QUERIES = 2; // the backlog count and the config keys

// With none parked, applyParked reads and sends nothing.
async function applyDeferred(env, db) {
  const parked = await db.all("SELECT lease_id, payload FROM team_dlq WHERE reason LIKE 'deferred:%' ORDER BY created_at, lease_id LIMIT ?",
    CRON_DEFERRED_RECORDS);
  try {
    await applyParked(env, db, parked, CRON_CLOSING_QUERIES + 1);
  } catch (error) {
    if (!(error instanceof BudgetExceeded)) throw error;
    console.warn("cron: deferred records wait for the next run:", error.message);
  }
}

export async function runScheduled(env) {
  const db = openDatabase(env);
  await requireSchema(env, db);
  await applyDeferred(env, db);
  const allowance = { aiCalls: CRON_AI_CALLS };
  const totals = { written: 0, removed: 0, failed: 0 };
  // Each round reads its jobs (1 query) and drains them (drainJobs checks what that costs).
  while (allowance.aiCalls > 0 && db.remaining() > 1 + CRON_CLOSING_QUERIES) {
    const jobs = await readBacklog(db, CRON_JOBS_PER_ROUND);
    if (jobs.length === 0) break;
    const result = await drainJobs(env, db, jobs, { allowance, reserve: CRON_CLOSING_QUERIES });
    totals.written += result.written;
    totals.removed += result.removed;
    totals.failed += result.failed;
    if (result.written + result.removed === 0) break; // everything failed or was skipped: try next tick
  }
  const left = await db.first("SELECT count(*) AS jobs, MAX(last_error) AS error FROM team_embed_backlog");
  if (totals.written + totals.removed + totals.failed === 0 && left.jobs === 0) return;
  await db.batch(teamConfigStatements({
    vector_reindex_status: left.jobs ? "running" : "idle",
    vector_reindex_last_run_at: String(nowSeconds()),
    vector_reindex_last_processed: String(totals.written + totals.removed + totals.failed),
    vector_reindex_last_reindexed: String(totals.written),
    vector_reindex_last_deleted: String(totals.removed),
    vector_reindex_last_error: left.error ?? "",
  }));
}
