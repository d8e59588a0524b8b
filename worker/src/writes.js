// Writing checked records to D1, with their embedding jobs, so that every record the answer calls
// accepted is durably in D1 when the answer is sent, within the invocation's query budget.
//
// Rows travel as JSON lists (one bound parameter each, read back with json_each: d1.js), so a
// table's upserts are one statement however many rows, and a push costs a handful of queries. A
// batch writes its records' rows and their embedding jobs (team_embed_backlog) as one D1
// transaction; the caller clears older dead letters of the written rows in its last batch.
//
// When a batch fails, it is narrowed: first into its statements' groups (a table's upserts of one
// column set, a table's deletes), then each failing group by bisection, down to the one record D1
// refuses while the database works (a NOT NULL field missing, a trigger), which is parked in
// team_dlq (durable, listed by /dlq, applied again by /dlq/retry). k refused records among n cost
// about 2k·log2(n/k) attempts of one or two statements, not n. When the budget would not cover
// the next attempt, the records still unsettled are parked together (reason DEFERRED): accepted,
// durable, and applied later by the cron or /dlq/retry, never dropped. When even parking fails,
// the database itself is in trouble and the error propagates (5xx: the client resends the batch;
// upserts are idempotent).

import { EMBEDDED_FIELDS } from "./contract.js";
import { JSON_PARAMETER_BYTES, chunkJson, jsonColumns, messageOf, quote, statement, utf8Bytes } from "./d1.js";
import { MAX_KEY_BYTES } from "./records.js";

// Parameters per batch: D1 takes each statement's JSON list on its own, but one request should
// stay reasonable in size.
const BATCH_PARAMETER_BYTES = 8_000_000;
// The reason of a record parked for want of budget; the cron applies those (reason LIKE 'deferred:%').
export const DEFERRED = "deferred: the request's D1 query budget ran out before this record could be written on its own; "
  + "it is kept here and applied by the cron or POST /dlq/retry";

function groupBy(items, keyOf) {
  const groups = new Map();
  for (const item of items) {
    const key = keyOf(item);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(item);
  }
  return [...groups.values()];
}

const storedKey = (table, machineId, id) => `${table}\u0000${machineId}\u0000${id}`;
const rowBytes = (record) => record.bytes ?? (record.bytes = utf8Bytes(JSON.stringify(record.row)));

// SELECTs of the stored content hashes of `upserts` (those that carry one): one per table, the
// (id, machine_id) pairs one JSON parameter, whatever the number of machines in the push.
export function planHashLookups(upserts) {
  const lookups = [];
  const candidates = upserts.filter((record) => record.contentHash !== null && record.id !== null);
  for (const group of groupBy(candidates, (record) => record.table)) {
    const { table } = group[0];
    for (const pairs of chunkJson(group.map((record) => [record.id, record.machineId]))) {
      const sql = `SELECT "id", "machine_id", "content_hash" FROM ${quote(table)}
        WHERE ("id", "machine_id") IN (SELECT ${jsonColumns(2)} FROM json_each(?))`;
      lookups.push({ table, statement: statement(sql, JSON.stringify(pairs)) });
    }
  }
  return lookups;
}

// Stored content hashes: Map(table\0machine\0id -> hash). One batch.
export async function readStoredHashes(db, lookups) {
  const stored = new Map();
  const results = await db.batch(lookups.map((lookup) => lookup.statement));
  results.forEach((result, index) => {
    for (const row of result.results) stored.set(storedKey(lookups[index].table, row.machine_id, row.id), row.content_hash);
  });
  return stored;
}

export const isUnchanged = (stored, record) =>
  record.contentHash !== null && stored.get(storedKey(record.table, record.machineId, record.id)) === record.contentHash;

// INSERT ... SELECT from a JSON list of rows (arrays in `columns` order), updating the columns the
// records carry on conflict. SQLite needs `WHERE true` before an upsert's ON CONFLICT in an
// INSERT ... SELECT (a parsing ambiguity).
function upsertStatement(table, key, columns, rows) {
  const updates = columns.filter((column) => !key.includes(column));
  const action = updates.length ? `DO UPDATE SET ${updates.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(", ")}` : "DO NOTHING";
  const sql = `INSERT INTO ${quote(table)} (${columns.map(quote).join(", ")}) SELECT ${jsonColumns(columns.length)} FROM json_each(?) WHERE true `
    + `ON CONFLICT (${key.map(quote).join(", ")}) ${action}`;
  return statement(sql, JSON.stringify(rows.map((row) => columns.map((column) => row[column]))));
}

function deleteStatement(table, key, keys) {
  const sql = `DELETE FROM ${quote(table)} WHERE (${key.map(quote).join(", ")}) IN (SELECT ${jsonColumns(key.length)} FROM json_each(?))`;
  return statement(sql, JSON.stringify(keys));
}

// Every written (or deleted) row of an embedded table gets a job: its vector is written, or
// removed, when the job is drained (embeddings.js). queued_at is in milliseconds so a job
// re-queued by a later write is told apart from the one being drained.
function embedJobStatements(records, queuedAt) {
  const jobs = records.filter((record) => EMBEDDED_FIELDS[record.table] && record.id !== null)
    .map((record) => [record.table, record.id, record.machineId]);
  return chunkJson(jobs).map((slice) => statement(
    `INSERT INTO team_embed_backlog (table_name, row_id, machine_id, queued_at) SELECT ${jsonColumns(3)}, ? FROM json_each(?) WHERE true
     ON CONFLICT (table_name, row_id, machine_id) DO UPDATE SET queued_at = excluded.queued_at, attempts = 0, last_error = NULL`,
    queuedAt, JSON.stringify(slice)));
}

export const leaseId = (record) => `${record.table}:${record.id ?? record.key.join(",")}:${record.machineId}`;

// A row written now makes any older dead letter of the same row obsolete (a retry would put the
// older payload back over it). Sent with the request's last batch; if that fails, the request
// answers 5xx and the client's resend writes the rows and clears them again.
export function clearDeadLetterStatements(records) {
  return chunkJson(records.map(leaseId)).map((ids) =>
    statement("DELETE FROM team_dlq WHERE lease_id IN (SELECT value FROM json_each(?))", JSON.stringify(ids)));
}

const writeGroupKey = (record) =>
  record.operation === "upsert" ? `u\u0000${record.table}\u0000${Object.keys(record.row).sort().join(",")}` : `d\u0000${record.table}`;

// A failed group's parts to try on their own: its write groups when it has several, else its halves.
function narrow(group) {
  const parts = groupBy(group, writeGroupKey);
  if (parts.length > 1) return parts;
  const middle = Math.ceil(group.length / 2);
  return [group.slice(0, middle), group.slice(middle)];
}

// The statements that write `records` (one checked record per row), as one transaction: upserts per
// table and column set, deletes per table, the embedding jobs.
export function planWrite(records, queuedAt) {
  const statements = [];
  const upserts = records.filter((record) => record.operation === "upsert");
  for (const group of groupBy(upserts, writeGroupKey)) {
    const { table, contract } = group[0];
    const columns = Object.keys(group[0].row).sort();
    for (const slice of chunkJson(group, undefined, rowBytes)) {
      statements.push(upsertStatement(table, contract.key, columns, slice.map((record) => record.row)));
    }
  }
  const deletes = records.filter((record) => record.operation === "delete");
  for (const group of groupBy(deletes, (record) => record.table)) {
    const { table, contract } = group[0];
    for (const slice of chunkJson(group.map((record) => record.key))) statements.push(deleteStatement(table, contract.key, slice));
  }
  return [...statements, ...embedJobStatements(records, queuedAt)];
}

const DEAD_LETTER_COLUMNS = "lease_id, table_name, row_id, machine_id, operation, payload, reason, created_at, replay_count";

// What a parked record keeps: the record as checked (its row without the identity the envelope
// carries), so /dlq/retry reads it back through the same validation.
function parkedPayload(record) {
  const { id, machine_id: machineId, ...data } = record.row;
  return { table: record.table, id: record.id, machine_id: record.machineId, operation: record.operation,
    content_hash: record.contentHash, data };
}

export function parkStatements(entries, now) {
  const items = entries.map(({ record, reason }) => [leaseId(record), record.table, String(record.id ?? record.key.join(",")),
    record.machineId, record.operation, parkedPayload(record), reason.slice(0, 1000)]);
  return chunkJson(items).map((slice) => statement(
    `INSERT INTO team_dlq (${DEAD_LETTER_COLUMNS})
     SELECT ${jsonColumns(5)}, json(json_extract(value, '$[5]')), json_extract(value, '$[6]'), ?, 0 FROM json_each(?) WHERE true
     ON CONFLICT (lease_id) DO UPDATE SET operation = excluded.operation, payload = excluded.payload, reason = excluded.reason,
       created_at = excluded.created_at, replay_count = replay_count + 1`,
    now, JSON.stringify(slice)));
}

// The statements parking `records` can take at most: a parked entry is its row plus at most four
// keys and the reason, and lists are packed greedily (two neighbours never fit in one).
export function parkCost(records) {
  const bytes = records.reduce((total, record) => total + rowBytes(record) + 4 * MAX_KEY_BYTES + 1100, 0);
  return 2 * Math.ceil(bytes / JSON_PARAMETER_BYTES) + 1;
}

// Records packed into groups whose parameters stay within BATCH_PARAMETER_BYTES.
const packBatches = (records) => chunkJson(records, BATCH_PARAMETER_BYTES, (record) => rowBytes(record) * 2);

// Writes every record within the budget, keeping `reserve` queries for what follows (the dead-letter
// clean-up of the written rows and the answer's counters, sent by the caller). Returns {written:
// [record], deadLettered: [{record, error}]}; parked records are in deadLettered too. Throws when
// the database fails even the dead-letter write (the caller answers 5xx).
export async function applyRecords(db, records, { queuedAt, now, reserve }) {
  const written = [];
  const deadLettered = [];
  const pending = packBatches(records);
  while (pending.length) {
    const group = pending.shift();
    const statements = planWrite(group, queuedAt);
    const unsettled = [group, ...pending].flat();
    if (db.remaining() < statements.length + parkCost(unsettled) + reserve) {
      await park(db, unsettled, DEFERRED, now, deadLettered);
      break;
    }
    try {
      await db.batch(statements);
      written.push(...group);
    } catch (error) {
      if (group.length === 1) await park(db, group, messageOf(error), now, deadLettered);
      else pending.unshift(...narrow(group));
    }
  }
  return { written, deadLettered };
}

async function park(db, records, reason, now, deadLettered) {
  await db.batch(parkStatements(records.map((record) => ({ record, reason })), now));
  deadLettered.push(...records.map((record) => ({ record, error: reason })));
}
