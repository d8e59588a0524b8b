// Per-record validation of a pushed record against the client contract (contract.js). The one
// place that decides whether a record is stored, and what row it becomes. No D1 call happens here:
// a record D1 could not store as it was sent is rejected before any write.
//
// A record is REJECTED only for what can never succeed, since a rejection is permanent on the
// client (reference §7.3), and alone: its batch-mates are written. The rejection names the field
// and echoes `table` and `id` exactly as sent (§7.2; an id that is itself the offence, too long or
// not a string, is echoed as a short prefix):
// - the envelope: not an object, an unknown table, an operation other than upsert/delete, an id
//   that is not a non-empty string of at most MAX_KEY_BYTES, a machine_id or content_hash of the
//   wrong type, `data` not an object or the client's `__raw` corrupt-payload marker, a project_id
//   that is not proj_ + 32 hex on a project-scoped table (upstream's rule and message);
// - a field of `data` whose value its contract type cannot hold. SQLite has no booleans, objects
//   or arrays: D1 would store `true` as 1 and `[1]` as text or a BLOB, and the client could never
//   read back what it sent, so they are refused, never converted. A text field takes strings (and,
//   for id-like fields, the integers of vaults older than local schema v73); an integer or real
//   field takes numbers. An integer beyond 2^53 already lost digits in JSON: refused;
// - a string over D1's 2,000,000-byte limit, or a row whose JSON is over what D1 (and the dead-
//   letter table, which must be able to hold it) can store.
// Everything else is stored: `embedded` (the contract's `dropped`) is dropped as upstream does; a
// field outside the contract (a newer client) is dropped and counted (/queue-stats,
// `dropped_fields`), never a reason to lose the record.
// The envelope decides identity: the row's id is the record's `id` string exactly as sent, its
// machine_id the record's machine_id (else the request's); data.id / data.machine_id never
// override them (a legacy row's local machine_id is 'local').

import { PROJECT_ID_PATTERN, contractTable, storedColumns } from "./contract.js";
import { JSON_PARAMETER_BYTES, MAX_VALUE_BYTES, utf8Bytes } from "./d1.js";
import { HttpError, describeType } from "./http.js";

export const MAX_RECORDS = 1000;
// Ids and machine ids are copied into dead-letter lease ids, backlog keys and Vectorize metadata
// (10 KiB for all of a vector's fields); Myco's own are under 100 bytes.
export const MAX_KEY_BYTES = 1024;
// A row's JSON must fit one D1 value with room to spare: it travels as one and is parked as one.
export const MAX_ROW_JSON_BYTES = JSON_PARAMETER_BYTES - 2 * MAX_KEY_BYTES;
const ECHO_PREFIX = 64;

export class RecordRejected extends Error {}

const own = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
// Fields naming another row (the id itself never reaches readField: the envelope decides it).
const isIdLike = (field) => field.endsWith("_id");

// The size of a string in D1 (UTF-8 bytes), without encoding the ones that are plainly small: a
// rejection names the exact size, so a long one is encoded (bodies are at most MAX_BODY_BYTES).
function textBytes(text) {
  if (text.length * 3 <= MAX_KEY_BYTES) return text.length;
  return utf8Bytes(text);
}

// The value as it is stored, or RecordRejected naming the field.
function readField(field, type, value) {
  if (value === null) return null;
  if (typeof value === "string") {
    if (type !== "text") throw new RecordRejected(`field ${field}: expected ${type === "real" ? "a number" : "an integer"}, got a string`);
    if (textBytes(value) > MAX_VALUE_BYTES) {
      throw new RecordRejected(`field ${field}: ${textBytes(value)} bytes, over D1's limit of ${MAX_VALUE_BYTES} per value`);
    }
    return value;
  }
  if (typeof value === "number") {
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new RecordRejected(`field ${field}: the integer ${value} is beyond 2^53 and lost digits in JSON`);
    }
    if (type === "text" && !(isIdLike(field) && Number.isInteger(value))) {
      throw new RecordRejected(`field ${field}: expected text, got ${describeType(value)}`);
    }
    return value;
  }
  throw new RecordRejected(`field ${field}: expected ${type === "text" ? "text" : type === "real" ? "a number" : "an integer"}, `
    + `got ${describeType(value)} (SQLite would not store it as sent)`);
}

// A key string (id, machine_id, the entity_mentions key): non-empty text of at most MAX_KEY_BYTES.
function readKeyText(value, name) {
  if (typeof value !== "string" || value.length === 0) {
    throw new RecordRejected(`${name} must be a non-empty string${value === "" ? "" : `, not ${describeType(value)}`}`);
  }
  if (textBytes(value) > MAX_KEY_BYTES) throw new RecordRejected(`${name} is ${textBytes(value)} bytes; at most ${MAX_KEY_BYTES}`);
  return value;
}

function readEnvelope(raw, defaultMachineId) {
  if (!isObject(raw)) throw new RecordRejected("a record must be a JSON object");
  const table = contractTable(raw.table);
  if (!table) throw new RecordRejected(`Unknown table: ${typeof raw.table === "string" ? echo(raw.table) : describeType(raw.table)}`);
  if (!storedColumns(raw.table)) {
    // The contract has it but the schema this Worker was built for does not: a build problem,
    // never the record's fault, so the whole batch is retried rather than the record rejected.
    throw new HttpError(503, `table ${raw.table} is in the client contract but not in the database schema; run the migrations that create it`);
  }
  if (raw.operation !== "upsert" && raw.operation !== "delete") {
    const shown = typeof raw.operation === "string" ? JSON.stringify(echo(raw.operation)) : describeType(raw.operation);
    throw new RecordRejected(`operation must be "upsert" or "delete", not ${shown}`);
  }
  const keyed = table.key[0] === "id";
  const id = keyed ? readKeyText(raw.id, "id") : null;
  const given = raw.machine_id === undefined || raw.machine_id === null ? defaultMachineId : raw.machine_id;
  const machineId = readKeyText(given, "machine_id");
  if (raw.content_hash !== undefined && raw.content_hash !== null && typeof raw.content_hash !== "string") {
    throw new RecordRejected(`content_hash must be a string or null, not ${describeType(raw.content_hash)}`);
  }
  const data = raw.data ?? {};
  if (!isObject(data)) throw new RecordRejected(`data must be a JSON object, not ${describeType(data)}`);
  if (own(data, "__raw")) throw new RecordRejected("the client could not read this row's stored payload (__raw); it cannot be stored");
  return { name: raw.table, table, id, machineId, data };
}

function checkProjectId(table, data) {
  if (table.scope !== "project") return;
  const value = data.project_id;
  if (typeof value !== "string" || !PROJECT_ID_PATTERN.test(value)) {
    // upstream's message shows the JSON value (undefined reads "undefined"), a type for a structure
    const shown = isObject(value) || Array.isArray(value) ? describeType(value) : JSON.stringify(echo(value));
    throw new RecordRejected(`Invalid project_id: expected proj_<32 hex chars>, got ${shown}`);
  }
}

// The row to write: contract fields the database has (checked against their types), with the
// envelope's identity and the server's receive time.
function readRow(name, table, data, { id, machineId, now, operation }) {
  const columns = storedColumns(name);
  const row = {};
  const dropped = [];
  const fields = operation === "delete" ? table.key : Object.keys(data);
  for (const field of fields) {
    const value = data[field];
    if (table.dropped.includes(field) || value === undefined || field === "id" || field === "machine_id" || field === "synced_at") continue;
    if (own(table.fields, field) && columns.includes(field)) row[field] = readField(field, table.fields[field], value);
    else dropped.push(field);
  }
  if (id !== null) row.id = id;
  row.machine_id = machineId;
  if (columns.includes("synced_at")) row.synced_at = now;
  return { row, dropped };
}

function readKey(table, row) {
  const missing = table.key.filter((column) => row[column] === undefined || row[column] === null);
  if (missing.length) throw new RecordRejected(`key field(s) ${missing.join(", ")} missing`);
  return table.key.map((column) => readKeyText(row[column], `key field ${column}`));
}

function checkRowSize(row) {
  const bytes = utf8Bytes(JSON.stringify(row));
  if (bytes <= MAX_ROW_JSON_BYTES) return;
  const [largest] = Object.entries(row).filter(([, value]) => typeof value === "string").sort((a, b) => b[1].length - a[1].length);
  // never undefined: every row has its machine_id, a string
  throw new RecordRejected(`the row is ${bytes} bytes as JSON, over the ${MAX_ROW_JSON_BYTES} one row may take in D1 `
    + `(largest field: ${largest[0]})`);
}

// One checked record: {table, operation, id, machineId, contentHash, row, key, contract, dropped}.
// Throws RecordRejected (permanent, this record only) or HttpError 503 (the database lacks the table).
export function readRecord(raw, defaultMachineId, now) {
  const { name, table, id, machineId, data } = readEnvelope(raw, defaultMachineId);
  checkProjectId(table, data);
  const { row, dropped } = readRow(name, table, data, { id, machineId, now, operation: raw.operation });
  // the envelope's is a string, null or absent (readEnvelope); else data's, when it is text
  const contentHash = raw.content_hash ?? (typeof row.content_hash === "string" ? row.content_hash : null);
  // The stored hash is what the next push compares with: the envelope's when data lacks it, and
  // null when the record carries none, so a hash never outlives the content it described (an
  // upsert updates only the columns it carries; a kept hash would skip a later resend as unchanged).
  if (table.content_hash && raw.operation === "upsert" && row.content_hash == null) {
    row.content_hash = readField("content_hash", "text", contentHash); // null stays null
  }
  const key = readKey(table, row);
  checkRowSize(row);
  return {
    table: name,
    operation: raw.operation,
    id,
    machineId,
    contentHash: table.content_hash ? contentHash : null,
    row,
    key,
    contract: table,
    dropped, // empty for a delete: it reads only its key fields, all of them columns
  };
}

// A value echoed back: exactly as sent when it is a short string (the client matches rejected
// entries to its rows by string equality, §7.2); a prefix when it is long, itself the offence.
function echo(value) {
  if (typeof value !== "string") return value;
  return textBytes(value) <= MAX_KEY_BYTES ? value : `${value.slice(0, ECHO_PREFIX)}…`;
}

const echoed = (value) => (value === undefined || isObject(value) || Array.isArray(value) ? null : echo(value));

// What a rejected record's entry says: table and id as the client sent them (see `echo`).
export const rejection = (raw, error) => ({
  table: isObject(raw) ? echoed(raw.table) : null,
  id: isObject(raw) ? echoed(raw.id) : null,
  error,
});
