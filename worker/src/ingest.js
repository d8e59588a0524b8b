// POST /enqueue (the client's push, reference §3.3) and POST /sync (the same push from protocol-1
// daemons, release 0.12.10, answered in the shape they read).
//
// Every record is checked (records.js) before any D1 call, then written to D1 with its embedding
// job (writes.js) before the answer is sent: `accepted` counts records durably in D1 (stronger than
// upstream, whose queue could still lose a record after the client forgot it). `rejected` lists
// only the records that can never succeed, with `table` and `id` as sent. Trouble that may pass (D1
// unavailable, a push that cannot fit the invocation's budget) answers 5xx, and the client resends
// the whole batch; one bad record never fails its batch. Then the request's embedding jobs are
// drained with what the budget has left; the rest stays in the backlog for the cron trigger.
//
// A push of 1,000 records costs a handful of D1 queries in four round trips: the gate, the stored
// hashes (one per table), the rows (one per table and column set) with their embedding jobs, and a
// last batch with the dead-letter clean-up, the embeddings' bookkeeping and the counters
// (docs/worker.md, "Budgets").

import { keyGenerationOf } from "./auth.js";
import { BudgetExceeded } from "./budget.js";
import { openDatabase } from "./d1.js";
import { drainJobs, jobsOf } from "./embeddings.js";
import { HttpError, describeType, json, nowSeconds, readJsonBody } from "./http.js";
import { MAX_RECORDS, RecordRejected, readRecord, rejection } from "./records.js";
import { COUNTER_STATEMENTS, ingestStatements } from "./stats.js";
import { applyRecords, clearDeadLetterStatements, isUnchanged, parkCost, planHashLookups, readStoredHashes } from "./writes.js";
import { requireProtocolWindow, requireSchema } from "./versions.js";

// Workers AI calls one push may spend on its own embeddings; the rest waits for the cron.
const INLINE_AI_CALLS = 8;

function checkRecords(records, machineId, now) {
  const checked = [];
  const rejected = [];
  for (const raw of records) {
    try {
      checked.push(readRecord(raw, machineId, now));
    } catch (error) {
      if (!(error instanceof RecordRejected)) throw error;
      rejected.push(rejection(raw, error.message));
    }
  }
  return { checked, rejected };
}

const rowKey = (record) => `${record.table}\u0000${record.machineId}\u0000${JSON.stringify(record.key)}`;

// Only the last record for a row counts (the request's order is kept per row: a row deleted then
// re-created on the node stays present).
function keepLastPerRow(records) {
  const last = new Map(records.map((record) => [rowKey(record), record]));
  return records.filter((record) => last.get(rowKey(record)) === record);
}

// Fields outside the contract, counted per "table.field". Names come from the sender: long ones are
// cut and, past MAX_DROPPED_NAMES distinct names, the rest are counted as "table.…".
const MAX_DROPPED_NAMES = 100;
const MAX_FIELD_NAME = 100;

function countDropped(records) {
  const dropped = new Map();
  for (const record of records) {
    for (const field of record.dropped) {
      let name = `${record.table}.${field.length > MAX_FIELD_NAME ? `${field.slice(0, MAX_FIELD_NAME)}…` : field}`;
      if (!dropped.has(name) && dropped.size >= MAX_DROPPED_NAMES) name = `${record.table}.…`;
      dropped.set(name, (dropped.get(name) ?? 0) + 1);
    }
  }
  return dropped;
}

// Stores the checked records, keeping `reserve` D1 queries for the caller. Returns what the answer
// needs and `closing`: statements the caller must send with its own last batch (the dead-letter
// clean-up of the written rows, the embedding backlog's bookkeeping), so a push makes four round
// trips: the gate, the stored hashes, the writes, the last batch. Shared with /dlq/retry and the cron.
export async function storeRecords(env, db, checked, { now, reserve }) {
  const current = keepLastPerRow(checked);
  const lookups = planHashLookups(current.filter((record) => record.operation === "upsert"));
  const clearing = clearDeadLetterStatements(current).length;
  // What must fit before anything is written: the lookups, and parking everything if need be.
  const needed = lookups.length + parkCost(current) + clearing + reserve;
  if (db.remaining() < needed) throw new BudgetExceeded("queries", db.remaining(), needed);
  const stored = lookups.length ? await readStoredHashes(db, lookups) : new Map();
  // Only upserts' hashes are looked up and a row comes once (keepLastPerRow), so a delete is never
  // unchanged, whatever hash it carries.
  const changed = current.filter((record) => !isUnchanged(stored, record));
  const queuedAt = Date.now();
  const { written, deadLettered } = await applyRecords(db, changed, { queuedAt, now, reserve: clearing + reserve });
  const cleared = clearDeadLetterStatements(written);
  const embeddings = await drainJobs(env, db, jobsOf(written, queuedAt),
    { allowance: { aiCalls: INLINE_AI_CALLS }, reserve: cleared.length + reserve, send: false });
  const { closing, ...counts } = embeddings;
  return { unchanged: checked.length - written.length - deadLettered.length, written, deadLettered, embeddings: counts,
    closing: [...cleared, ...closing] };
}

function readPush(body) {
  if (body.machine_id !== undefined && body.machine_id !== null && typeof body.machine_id !== "string") {
    throw new HttpError(400, `machine_id must be a string, not ${describeType(body.machine_id)}`);
  }
  const records = body.records ?? [];
  if (!Array.isArray(records)) throw new HttpError(400, `records must be an array, not ${describeType(records)}`);
  if (records.length > MAX_RECORDS) throw new HttpError(413, `at most ${MAX_RECORDS} records per request (the client sends 100)`);
  return { machineId: body.machine_id ?? null, records };
}

async function ingest(request, env) {
  const body = await readJsonBody(request, env);
  requireProtocolWindow(env, body);
  const { machineId, records } = readPush(body);
  const db = openDatabase(env);
  await requireSchema(env, db);
  const now = nowSeconds();
  const { checked, rejected } = checkRecords(records, machineId, now);
  const result = checked.length ? await storeRecords(env, db, checked, { now, reserve: COUNTER_STATEMENTS }) : null;
  const deadLettered = result ? result.deadLettered : [];
  const dropped = countDropped(checked);
  const counts = {
    received: records.length,
    accepted: checked.length,
    rejected: rejected.length,
    unchanged: result ? result.unchanged : 0,
    deadLettered: deadLettered.length,
    lastError: deadLettered.length ? deadLettered[deadLettered.length - 1].error.slice(0, 500) : null,
  };
  await db.batch([...(result ? result.closing : []), ...ingestStatements(counts, dropped, machineId, now, keyGenerationOf(request))]);
  return {
    accepted: checked.length,
    rejected,
    unchanged: counts.unchanged,
    dead_lettered: deadLettered.map(({ record, error }) => ({ table: record.table, id: record.id, error })),
    dropped_fields: Object.fromEntries(dropped),
    embeddings: result ? result.embeddings : { written: 0, removed: 0, failed: 0, skipped: 0 },
  };
}

export async function handleEnqueue(request, env) {
  return json(200, await ingest(request, env));
}

// Protocol-1 daemons push to /sync and read {synced, skipped, errors}.
export async function handleLegacySync(request, env) {
  const answer = await ingest(request, env);
  return json(200, { synced: answer.accepted - answer.unchanged, skipped: answer.unchanged, errors: answer.rejected });
}
