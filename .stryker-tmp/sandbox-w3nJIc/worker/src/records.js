// @ts-nocheck
// Per-record validation of a pushed record against the client contract (contract.js). The one
// place that decides whether a record is stored, and what row it becomes.
//
// A record is REJECTED only for what can never succeed, since a rejection is permanent on the
// client (reference §7.3): an unknown table, a bad operation, no id, a payload that is not an
// object (or is the client's `__raw` corrupt-payload marker), a project_id that is not
// proj_ + 32 hex on a project-scoped table (§3.3). The rejection echoes `table` and `id`
// exactly as sent, so the client matches it to its row (§7.2).
// Anything else is stored: `embedded` (and the contract's other `dropped` fields) is dropped as
// upstream does; a field outside the contract (a newer client) is dropped and counted
// (/queue-stats, `dropped_fields`), never a reason to lose the record. (Every contract field has
// a column in the schema this Worker was built for: `invoke build` refuses migrations without one.)
// The envelope decides identity: the row's id is the record's `id` string exactly as sent, its
// machine_id the record's machine_id (else the request's); data.id / data.machine_id never
// override them (a legacy row's local machine_id is 'local').

import { HttpError } from "./http.js";
import { PROJECT_ID_PATTERN, contractTable, keyedById, storedColumns } from "./contract.js";

export const MAX_RECORDS = 1000;

export class RecordRejected extends Error {}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

// D1 stores JSON as TEXT and booleans as integers; anything else is bound as it came.
function toSqlValue(value) {
  if (value === null || typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return JSON.stringify(value);
}

function readId(raw, table) {
  if (!keyedById(table)) return null;
  if (typeof raw.id === "string" && raw.id.length > 0) return raw.id;
  if (Number.isInteger(raw.id)) return String(raw.id);
  throw new RecordRejected("id must be a non-empty string");
}

function readData(raw) {
  const data = raw.data ?? {};
  if (!isObject(data)) throw new RecordRejected("data must be a JSON object");
  if (Object.prototype.hasOwnProperty.call(data, "__raw")) {
    throw new RecordRejected("the client could not read this row's stored payload (__raw); it cannot be stored");
  }
  return data;
}

function checkProjectId(table, data) {
  if (table.scope !== "project") return;
  const value = data.project_id;
  if (typeof value !== "string" || !PROJECT_ID_PATTERN.test(value)) {
    throw new RecordRejected(`Invalid project_id: expected proj_<32 hex chars>, got ${JSON.stringify(value) ?? "undefined"}`);
  }
}

// The row to write: contract fields the database has, with the envelope's identity.
function readRow(name, table, data, id, machineId, now) {
  const columns = storedColumns(name);
  const row = {};
  const dropped = [];
  for (const [field, value] of Object.entries(data)) {
    if (table.dropped.includes(field) || value === undefined) continue;
    if (Object.prototype.hasOwnProperty.call(table.fields, field) && columns.includes(field)) row[field] = toSqlValue(value);
    else dropped.push(field);
  }
  if (id !== null) row.id = id;
  row.machine_id = machineId;
  if (columns.includes("synced_at")) row.synced_at = now; // the server's receive time
  return { row, dropped };
}

function readKey(table, row) {
  const key = table.key.map((column) => row[column]);
  const missing = table.key.filter((column, index) => key[index] === undefined || key[index] === null);
  if (missing.length) throw new RecordRejected(`key field(s) ${missing.join(", ")} missing`);
  return key;
}

// One checked record: {table, operation, id, machineId, contentHash, row, key, contract, dropped}.
// Throws RecordRejected (permanent, per record) or HttpError 503 (the database lacks the table).
export function readRecord(raw, defaultMachineId, now) {
  if (!isObject(raw)) throw new RecordRejected("a record must be a JSON object");
  const table = contractTable(raw.table);
  if (!table) throw new RecordRejected(`Unknown table: ${raw.table}`);
  if (!storedColumns(raw.table)) {
    // The contract has it but the schema this Worker was built for does not: a build problem,
    // never the record's fault, so the whole batch is retried rather than the record rejected.
    throw new HttpError(503, `table ${raw.table} is in the client contract but not in the database schema; run the migrations that create it`);
  }
  if (raw.operation !== "upsert" && raw.operation !== "delete") {
    throw new RecordRejected(`operation must be "upsert" or "delete", not ${JSON.stringify(raw.operation)}`);
  }
  const id = readId(raw, table);
  const machineId = typeof raw.machine_id === "string" && raw.machine_id ? raw.machine_id : defaultMachineId;
  if (typeof machineId !== "string" || machineId.length === 0) throw new RecordRejected("machine_id is required");
  const data = readData(raw);
  checkProjectId(table, data);
  const keyData = raw.operation === "delete" ? Object.fromEntries(table.key.filter((k) => k in data).map((k) => [k, data[k]])) : data;
  const { row, dropped } = readRow(raw.table, table, keyData, id, machineId, now);
  const contentHash = typeof raw.content_hash === "string" ? raw.content_hash : typeof data.content_hash === "string" ? data.content_hash : null;
  // The stored hash is what the next push compares with: the envelope's when data lacks it.
  if (table.content_hash && raw.operation === "upsert" && row.content_hash == null && contentHash !== null) row.content_hash = contentHash;
  return {
    table: raw.table,
    operation: raw.operation,
    id: raw.id,
    machineId,
    contentHash: table.content_hash ? contentHash : null,
    row,
    key: readKey(table, row),
    contract: table,
    dropped: raw.operation === "upsert" ? dropped : [],
  };
}

// What a rejected record's entry says: table and id exactly as the client sent them.
export const rejection = (raw, error) => ({
  table: isObject(raw) ? raw.table ?? null : null,
  id: isObject(raw) ? raw.id ?? null : null,
  error,
});
