// Validating the records of a /sync request against the column allowlist.
//
// The allowlist (schema.json) is generated at build time by replaying migrations/ in SQLite, so
// it can never drift from the schema the Worker is deployed with. Upstream built INSERTs from the
// payload's keys, so one column the database lacked failed the whole table with `no such
// column`; here an unknown column fails only its own record.

import SCHEMA from "./schema.json";

export const MAX_RECORDS = 1000;

export class RecordError extends Error {}

export function tableSchema(name) {
  return Object.prototype.hasOwnProperty.call(SCHEMA.tables, name) ? SCHEMA.tables[name] : null;
}

// D1 stores JSON as TEXT and booleans as integers; anything else passes through as bound.
function toSqlValue(value) {
  if (value === null || typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  return JSON.stringify(value);
}

function readRowValues(record, schema, machineId, now) {
  const data = record.data ?? {};
  if (typeof data !== "object" || Array.isArray(data)) throw new RecordError("data must be a JSON object");
  const row = {};
  for (const [column, value] of Object.entries(data)) {
    if (!schema.columns.includes(column)) throw new RecordError(`unknown column "${column}" in table ${record.table}`);
    if (value !== undefined) row[column] = toSqlValue(value);
  }
  // The envelope is authoritative for the row's identity and the server for synced_at.
  if (schema.columns.includes("id") && record.id !== undefined) row.id = record.id;
  if (schema.columns.includes("machine_id")) row.machine_id = machineId;
  if (schema.columns.includes("content_hash") && record.content_hash != null) row.content_hash = record.content_hash;
  if (schema.columns.includes("synced_at")) row.synced_at = now;
  return row;
}

function readEmbedding(record) {
  if (record.embedding === undefined || record.embedding === null) return null;
  if (!Array.isArray(record.embedding) || !record.embedding.every((value) => typeof value === "number")) {
    throw new RecordError("embedding must be an array of numbers");
  }
  return record.embedding;
}

// One checked record: {table, operation, id, machineId, contentHash, row, key, embedding}.
export function readRecord(record, defaultMachineId, now) {
  if (record === null || typeof record !== "object") throw new RecordError("a record must be a JSON object");
  const schema = tableSchema(record.table);
  if (!schema) throw new RecordError(`table ${JSON.stringify(record.table)} is not synced`);
  if (record.operation !== "upsert" && record.operation !== "delete") {
    throw new RecordError(`operation must be "upsert" or "delete", not ${JSON.stringify(record.operation)}`);
  }
  if (record.id !== undefined && typeof record.id !== "string" && !Number.isInteger(record.id)) {
    throw new RecordError("id must be a string or an integer");
  }
  const machineId = record.machine_id ?? defaultMachineId;
  if (typeof machineId !== "string" || machineId.length === 0) throw new RecordError("machine_id is required");
  const row = readRowValues(record, schema, machineId, now);
  for (const column of schema.key) {
    if (row[column] === undefined || row[column] === null) throw new RecordError(`key column ${column} is required`);
  }
  const key = schema.key.map((column) => row[column]);
  return {
    table: record.table,
    operation: record.operation,
    id: record.id ?? null,
    machineId,
    contentHash: record.content_hash ?? null,
    row,
    key,
    schema,
    embedding: record.operation === "upsert" ? readEmbedding(record) : null,
  };
}
