// @ts-nocheck
// Operator endpoints (reference §3.7): the dead-letter table (GET /dlq, POST /dlq/retry,
// POST /dlq/discard), POST /vectors/reindex, POST /rebuild; and the cron drain (`scheduled`).
//
// team_dlq holds the records D1 refused one by one while it was working (writes.js): they were
// accepted (stored here, durably) and are applied again by /dlq/retry once the cause is fixed.

import { teamConfigStatements } from "./config.js";
import { EMBEDDED_FIELDS, SYNCED_TABLES, storedColumns } from "./contract.js";
import { MAX_BOUND_PARAMETERS, chunk, messageOf, openDatabase, placeholders, quote, statement } from "./d1.js";
import { drainJobs, readBacklog } from "./embeddings.js";
import { HttpError, json, nowSeconds, readJsonBody, readLimit, requireString } from "./http.js";
import { storeRecords } from "./ingest.js";
import { RecordRejected, readRecord } from "./records.js";
import { advertisedVersions, requireSchema } from "./versions.js";

async function openReady(env) {
  const db = openDatabase(env);
  await requireSchema(env, db);
  return db;
}

async function readLeaseIds(request) {
  const body = await readJsonBody(request);
  const ids = Array.isArray(body.lease_ids) ? body.lease_ids.filter((id) => typeof id === "string") : [];
  if (ids.length === 0) throw new HttpError(400, "lease_ids array is required");
  return [...new Set(ids)];
}

export async function handleListDlq(request, env) {
  const limit = readLimit(new URL(request.url), "limit", 50, 500);
  const db = await openReady(env);
  const messages = await db.all(`SELECT lease_id, table_name, row_id, machine_id, operation, reason, created_at, replay_count
    FROM team_dlq ORDER BY created_at DESC, lease_id LIMIT ?`, limit);
  return json(200, { messages });
}

// Applies each parked record again through the push's own path; a record that is stored now
// leaves team_dlq, one that fails again stays (its reason updated), one the contract now rejects
// stays too and is reported.
export async function handleRetryDlq(request, env) {
  const leaseIds = await readLeaseIds(request);
  const db = await openReady(env);
  const parked = [];
  for (const slice of chunk(leaseIds, MAX_BOUND_PARAMETERS)) {
    parked.push(...(await db.all(`SELECT lease_id, payload FROM team_dlq WHERE lease_id IN (${placeholders(slice.length)})`, ...slice)));
  }
  const now = nowSeconds();
  const checked = [];
  const rawOf = new Map();
  const leaseOf = new Map();
  const refused = [];
  for (const entry of parked) {
    try {
      const raw = JSON.parse(entry.payload);
      const record = readRecord(raw, raw.machine_id, now);
      checked.push(record);
      rawOf.set(record, raw);
      leaseOf.set(record, entry.lease_id);
    } catch (error) {
      if (!(error instanceof RecordRejected) && !(error instanceof SyntaxError)) throw error;
      refused.push({ lease_id: entry.lease_id, error: messageOf(error) });
    }
  }
  const result = checked.length ? await storeRecords(env, db, checked, { rawOf, now }) : { deadLettered: [] };
  const stillFailing = new Set(result.deadLettered.map(({ record }) => leaseOf.get(record)));
  const retried = checked.map((record) => leaseOf.get(record)).filter((lease) => !stillFailing.has(lease));
  for (const slice of chunk(retried, MAX_BOUND_PARAMETERS)) {
    await db.run(`DELETE FROM team_dlq WHERE lease_id IN (${placeholders(slice.length)})`, ...slice);
  }
  return json(200, { retried: retried.length, failed: [...stillFailing].map((lease) => ({ lease_id: lease })), refused });
}

export async function handleDiscardDlq(request, env) {
  const leaseIds = await readLeaseIds(request);
  const db = await openReady(env);
  let discarded = 0;
  for (const slice of chunk(leaseIds, MAX_BOUND_PARAMETERS)) {
    const [{ meta }] = await db.batch([statement(`DELETE FROM team_dlq WHERE lease_id IN (${placeholders(slice.length)})`, ...slice)]);
    discarded += meta.changes ?? 0;
  }
  return json(200, { discarded });
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
  const body = await readJsonBody(request, { optional: true });
  const tables = body.table ? [body.table] : Object.keys(EMBEDDED_FIELDS);
  for (const table of tables) if (!EMBEDDED_FIELDS[table]) throw new HttpError(400, `Unknown table: ${table}`);
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
  const body = await readJsonBody(request, { optional: true });
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

// The cron trigger: drain the embedding backlog in rounds, within a budget of Workers AI calls.
const CRON_ROUNDS = 5;
const CRON_JOBS_PER_ROUND = 100;
const CRON_AI_CALLS = 30;

export async function drainBacklogOnSchedule(env) {
  const db = openDatabase(env);
  await requireSchema(env, db);
  const budget = { aiCalls: CRON_AI_CALLS };
  const totals = { written: 0, removed: 0, failed: 0 };
  for (let round = 0; round < CRON_ROUNDS && budget.aiCalls > 0; round += 1) {
    const jobs = await readBacklog(db, CRON_JOBS_PER_ROUND);
    if (jobs.length === 0) break;
    const result = await drainJobs(env, db, jobs, budget);
    totals.written += result.written;
    totals.removed += result.removed;
    totals.failed += result.failed;
    if (result.written + result.removed === 0) break; // everything failed or was skipped: try next tick
  }
  const left = await db.first("SELECT count(*) AS jobs, MAX(last_error) AS error FROM team_embed_backlog");
  if (totals.written + totals.removed + totals.failed === 0 && left.jobs === 0) return { ...totals, backlog: 0 };
  await db.batch(teamConfigStatements({
    vector_reindex_status: left.jobs ? "running" : "idle",
    vector_reindex_last_run_at: String(nowSeconds()),
    vector_reindex_last_processed: String(totals.written + totals.removed + totals.failed),
    vector_reindex_last_reindexed: String(totals.written),
    vector_reindex_last_deleted: String(totals.removed),
    vector_reindex_last_error: left.error ?? "",
  }));
  return { ...totals, backlog: left.jobs };
}
