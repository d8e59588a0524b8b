// @ts-nocheck
// POST /enqueue (the client's push, reference §3.3) and POST /sync (the same push from protocol-1
// daemons, release 0.12.10, answered in the shape they read).
//
// Every record is checked (records.js), then written to D1 with its embedding job (writes.js)
// before the answer is sent: `accepted` counts records durably in D1 (stronger than upstream,
// whose queue could still lose a record after the client forgot it). `rejected` lists only the
// records that can never succeed, with `table` and `id` exactly as sent. Trouble that may pass
// (D1 unavailable) answers 5xx, and the client resends the whole batch; one bad record never
// fails its batch. Then the request's embedding jobs are drained, within a budget; what is left
// or fails stays in the backlog for the cron trigger.

import { openDatabase } from "./d1.js";
import { drainJobs, jobsOf } from "./embeddings.js";
import { HttpError, json, nowSeconds, readJsonBody } from "./http.js";
import { MAX_RECORDS, RecordRejected, readRecord, rejection } from "./records.js";
import { ingestStatements } from "./stats.js";
import { applyRecords, isUnchanged, readStoredHashes } from "./writes.js";
import { requireProtocolWindow, requireSchema } from "./versions.js";

// Workers AI calls one push may spend on its own embeddings; the rest waits for the cron.
const INLINE_AI_CALLS = 8;

function checkRecords(records, machineId, now) {
  const checked = [];
  const rejected = [];
  const rawOf = new Map();
  for (const raw of records) {
    try {
      const record = readRecord(raw, machineId, now);
      rawOf.set(record, raw);
      checked.push(record);
    } catch (error) {
      if (!(error instanceof RecordRejected)) throw error;
      rejected.push(rejection(raw, error.message));
    }
  }
  return { checked, rejected, rawOf };
}

const rowKey = (record) => `${record.table}\u0000${record.machineId}\u0000${JSON.stringify(record.key)}`;

// Only the last record for a row counts (upserts are written before deletes, so the request's
// order is kept per row this way: a row deleted then re-created on the node stays present).
function keepLastPerRow(records) {
  const last = new Map(records.map((record) => [rowKey(record), record]));
  return records.filter((record) => last.get(rowKey(record)) === record);
}

function countDropped(records) {
  const dropped = new Map();
  for (const record of records) {
    for (const field of record.dropped) dropped.set(`${record.table}.${field}`, (dropped.get(`${record.table}.${field}`) ?? 0) + 1);
  }
  return dropped;
}

// Stores the checked records; returns what the answer needs. Shared with /dlq/retry.
export async function storeRecords(env, db, checked, { machineId, rawOf, now }) {
  const current = keepLastPerRow(checked);
  const stored = await readStoredHashes(db, current.filter((record) => record.operation === "upsert"));
  const unchanged = current.filter((record) => record.operation === "upsert" && isUnchanged(stored, record));
  const upserts = current.filter((record) => record.operation === "upsert" && !unchanged.includes(record));
  const deletes = current.filter((record) => record.operation === "delete");
  const queuedAt = Date.now();
  const { written, deadLettered } = await applyRecords(db, upserts, deletes, { queuedAt, now, rawOf: (record) => rawOf.get(record) });
  const embeddings = await drainJobs(env, db, jobsOf(written, queuedAt), { aiCalls: INLINE_AI_CALLS });
  return { unchanged: checked.length - written.length - deadLettered.length, deadLettered, embeddings, machineId };
}

async function ingest(request, env) {
  const body = await readJsonBody(request);
  requireProtocolWindow(env, body);
  const db = openDatabase(env);
  await requireSchema(env, db);
  if (body.records === undefined || body.records === null) body.records = [];
  if (!Array.isArray(body.records)) throw new HttpError(400, "records must be an array");
  if (body.records.length > MAX_RECORDS) throw new HttpError(413, `at most ${MAX_RECORDS} records per request`);
  const now = nowSeconds();
  const { checked, rejected, rawOf } = checkRecords(body.records, body.machine_id, now);
  const result = checked.length ? await storeRecords(env, db, checked, { machineId: body.machine_id, rawOf, now }) : null;
  const deadLettered = result ? result.deadLettered : [];
  const dropped = countDropped(checked);
  const counts = {
    received: body.records.length,
    accepted: checked.length,
    rejected: rejected.length,
    unchanged: result ? result.unchanged : 0,
    deadLettered: deadLettered.length,
    lastError: deadLettered.length ? deadLettered[deadLettered.length - 1].error.slice(0, 500) : null,
  };
  await db.batch(ingestStatements(counts, dropped, body.machine_id, now));
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
