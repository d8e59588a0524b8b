// @ts-nocheck
// Writing checked records to D1, with their embedding jobs, so that every record the answer calls
// accepted is durably in D1 when the answer is sent.
//
// D1 allows at most 100 bound parameters per statement, so multi-row INSERTs and `IN (...)`
// lookups are cut to fit. A record's row and its embedding job (team_embed_backlog) are written in
// the same batch, which D1 applies as one transaction. When a batch fails, its records are retried
// one by one: a record D1 refuses while the database works (a NOT NULL field missing, say) is
// parked in team_dlq (durable, listed by /dlq, retried by /dlq/retry) and its batch-mates are
// written; when even that write fails the database itself is in trouble and the error propagates
// (the request answers 5xx and the client resends the whole batch; upserts are idempotent).

import { EMBEDDED_FIELDS, keyedById } from "./contract.js";
import { MAX_BOUND_PARAMETERS, STATEMENTS_PER_BATCH, chunk, messageOf, placeholders, quote, statement } from "./d1.js";

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

// Stored content hashes of the upserts that carry one: Map(table\0machine\0id -> hash). One call.
export async function readStoredHashes(db, upserts) {
  const candidates = upserts.filter((record) => record.contentHash !== null && keyedById(record.contract));
  const lookups = [];
  for (const group of groupBy(candidates, (record) => `${record.table}\u0000${record.machineId}`)) {
    const { table, machineId } = group[0];
    for (const ids of chunk([...new Set(group.map((record) => record.row.id))], MAX_BOUND_PARAMETERS - 1)) {
      const sql = `SELECT "id", "content_hash" FROM ${quote(table)} WHERE "machine_id" = ? AND "id" IN (${placeholders(ids.length)})`;
      lookups.push({ table, machineId, statement: statement(sql, machineId, ...ids) });
    }
  }
  const stored = new Map();
  const results = await db.batch(lookups.map((lookup) => lookup.statement));
  results.forEach((result, index) => {
    const { table, machineId } = lookups[index];
    for (const row of result.results) stored.set(storedKey(table, machineId, row.id), row.content_hash);
  });
  return stored;
}

export const isUnchanged = (stored, record) =>
  record.contentHash !== null && stored.get(storedKey(record.table, record.machineId, record.row.id)) === record.contentHash;

function upsertStatement(table, contract, columns, rows) {
  const updates = columns.filter((column) => !contract.key.includes(column));
  const action = updates.length ? `DO UPDATE SET ${updates.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(", ")}` : "DO NOTHING";
  const values = rows.map(() => `(${placeholders(columns.length)})`).join(", ");
  const sql = `INSERT INTO ${quote(table)} (${columns.map(quote).join(", ")}) VALUES ${values} ON CONFLICT (${contract.key.map(quote).join(", ")}) ${action}`;
  return statement(sql, ...rows.flatMap((row) => columns.map((column) => row[column])));
}

// A unit is the records of one write statement and the statements that write them (the row
// statement, then their embedding jobs): a unit is never split between two batches.
function planUpserts(upserts, queuedAt) {
  const units = [];
  for (const group of groupBy(upserts, (record) => `${record.table}\u0000${Object.keys(record.row).sort().join(",")}`)) {
    const { table, contract } = group[0];
    const columns = Object.keys(group[0].row).sort();
    for (const records of chunk(group, Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / columns.length)))) {
      const rows = upsertStatement(table, contract, columns, records.map((record) => record.row));
      units.push({ records, statements: [rows, ...planEmbedJobs(records, queuedAt)] });
    }
  }
  return units;
}

function planDeletes(deletes, queuedAt) {
  const units = [];
  for (const group of groupBy(deletes.filter((record) => keyedById(record.contract)), (record) => `${record.table}\u0000${record.machineId}`)) {
    const { table, machineId } = group[0];
    for (const records of chunk(group, MAX_BOUND_PARAMETERS - 1)) {
      const sql = `DELETE FROM ${quote(table)} WHERE "machine_id" = ? AND "id" IN (${placeholders(records.length)})`;
      units.push({ records, statements: [statement(sql, machineId, ...records.map((record) => record.row.id)), ...planEmbedJobs(records, queuedAt)] });
    }
  }
  for (const record of deletes.filter((candidate) => !keyedById(candidate.contract))) {
    const where = record.contract.key.map((column) => `${quote(column)} = ?`).join(" AND ");
    units.push({ records: [record], statements: [statement(`DELETE FROM ${quote(record.table)} WHERE ${where}`, ...record.key)] });
  }
  return units;
}

// Every written (or deleted) row of an embedded table gets a job: its vector is written, or
// removed, when the job is drained (embeddings.js). queued_at is in milliseconds so a job
// re-queued by a later write is told apart from the one being drained.
export function planEmbedJobs(records, queuedAt) {
  const jobs = records.filter((record) => EMBEDDED_FIELDS[record.table] && keyedById(record.contract));
  return chunk(jobs, Math.floor(MAX_BOUND_PARAMETERS / 4)).map((slice) =>
    statement(
      `INSERT INTO team_embed_backlog (table_name, row_id, machine_id, queued_at) VALUES ${slice.map(() => "(?, ?, ?, ?)").join(", ")}
       ON CONFLICT (table_name, row_id, machine_id) DO UPDATE SET queued_at = excluded.queued_at, attempts = 0, last_error = NULL`,
      ...slice.flatMap((record) => [record.table, record.row.id, record.machineId, queuedAt]),
    ),
  );
}

function planRecords(upserts, deletes, queuedAt) {
  return [...planUpserts(upserts, queuedAt), ...planDeletes(deletes, queuedAt)];
}

// Units packed into batches of at most STATEMENTS_PER_BATCH statements (a unit is never split).
function packBatches(units) {
  const batches = [];
  let current = [];
  let size = 0;
  for (const unit of units) {
    if (current.length && size + unit.statements.length > STATEMENTS_PER_BATCH) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(unit);
    size += unit.statements.length;
  }
  if (current.length) batches.push(current);
  return batches;
}

const DEAD_LETTER = `INSERT INTO team_dlq (lease_id, table_name, row_id, machine_id, operation, payload, reason, created_at, replay_count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
ON CONFLICT (lease_id) DO UPDATE SET operation = excluded.operation, payload = excluded.payload, reason = excluded.reason,
  created_at = excluded.created_at, replay_count = replay_count + 1`;

export const leaseId = (record) => `${record.table}:${record.id ?? record.key.join(",")}:${record.machineId}`;

function deadLetterStatement(record, raw, reason, now) {
  const payload = JSON.stringify({ ...raw, machine_id: record.machineId });
  return statement(DEAD_LETTER, leaseId(record), record.table, String(record.id ?? record.key.join(",")), record.machineId,
    record.operation, payload, reason.slice(0, 1000), now);
}

// Writes every record. Returns {written: [record], deadLettered: [{record, error}]}; throws when
// the database fails even the dead-letter write (transient: the caller answers 5xx).
export async function applyRecords(db, upserts, deletes, { queuedAt, now, rawOf }) {
  const written = [];
  const deadLettered = [];
  for (const batch of packBatches(planRecords(upserts, deletes, queuedAt))) {
    try {
      await db.batch(batch.flatMap((unit) => unit.statements));
      for (const unit of batch) written.push(...unit.records);
    } catch {
      await applyOneByOne(db, batch.flatMap((unit) => unit.records), { queuedAt, now, rawOf, written, deadLettered });
    }
  }
  return { written, deadLettered };
}

async function applyOneByOne(db, records, { queuedAt, now, rawOf, written, deadLettered }) {
  for (const record of records) {
    const [unit] = record.operation === "upsert" ? planUpserts([record], queuedAt) : planDeletes([record], queuedAt);
    try {
      await db.batch(unit.statements);
      written.push(record);
    } catch (error) {
      const reason = messageOf(error);
      await db.batch([deadLetterStatement(record, rawOf(record), reason, now)]);
      deadLettered.push({ record, error: reason });
    }
  }
}
