// Planning and applying the D1 statements of one /sync request.
//
// D1 allows at most 100 bound parameters per statement, so multi-row INSERTs and `IN (...)`
// lookups are cut to fit. `batch()` is one transaction: when a batch fails, its records are
// retried one statement each, so a bad record (a NOT NULL column left out, say) is reported on
// its own and never stalls the rest of its table.

export const MAX_BOUND_PARAMETERS = 100;
const STATEMENTS_PER_BATCH = 50;

const quote = (name) => `"${String(name).replaceAll('"', '""')}"`;
const placeholders = (count) => Array(count).fill("?").join(", ");

function chunk(items, size) {
  const chunks = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

function groupBy(items, keyOf) {
  const groups = new Map();
  for (const item of items) {
    const key = keyOf(item);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(item);
  }
  return [...groups.values()];
}

const keyedByIdAndMachine = (schema) => schema.key.length === 2 && schema.key[0] === "id" && schema.key[1] === "machine_id";

// Stored content hashes of the upserts that carry one: {table -> Map(machine\0id -> hash)}.
export async function readStoredHashes(db, upserts) {
  const candidates = upserts.filter((record) => record.contentHash !== null && record.schema.content_hash && keyedByIdAndMachine(record.schema));
  const lookups = [];
  for (const group of groupBy(candidates, (record) => `${record.table}\u0000${record.machineId}`)) {
    const { table, machineId } = group[0];
    for (const ids of chunk([...new Set(group.map((record) => record.row.id))], MAX_BOUND_PARAMETERS - 1)) {
      const sql = `SELECT "id", "content_hash" FROM ${quote(table)} WHERE "machine_id" = ? AND "id" IN (${placeholders(ids.length)})`;
      lookups.push({ table, machineId, statement: db.prepare(sql).bind(machineId, ...ids) });
    }
  }
  const stored = new Map();
  if (lookups.length === 0) return stored;
  const results = await db.batch(lookups.map((lookup) => lookup.statement));
  results.forEach((result, index) => {
    const { table, machineId } = lookups[index];
    for (const row of result.results) stored.set(`${table}\u0000${machineId}\u0000${row.id}`, row.content_hash);
  });
  return stored;
}

export function isUnchanged(stored, record) {
  return stored.get(`${record.table}\u0000${record.machineId}\u0000${record.row.id}`) === record.contentHash && record.contentHash !== null;
}

function upsertStatement(db, table, schema, columns, rows) {
  const conflict = schema.key.map(quote).join(", ");
  const updates = columns.filter((column) => !schema.key.includes(column));
  const action = updates.length ? `DO UPDATE SET ${updates.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(", ")}` : "DO NOTHING";
  const values = rows.map(() => `(${placeholders(columns.length)})`).join(", ");
  const sql = `INSERT INTO ${quote(table)} (${columns.map(quote).join(", ")}) VALUES ${values} ON CONFLICT (${conflict}) ${action}`;
  return db.prepare(sql).bind(...rows.flatMap((row) => columns.map((column) => row[column])));
}

function planUpserts(db, upserts) {
  const planned = [];
  for (const group of groupBy(upserts, (record) => `${record.table}\u0000${Object.keys(record.row).sort().join(",")}`)) {
    const { table, schema } = group[0];
    const columns = Object.keys(group[0].row).sort();
    const rowsPerStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / columns.length));
    for (const records of chunk(group, rowsPerStatement)) {
      planned.push({ records, statement: upsertStatement(db, table, schema, columns, records.map((record) => record.row)) });
    }
  }
  return planned;
}

function planDeletes(db, deletes) {
  const planned = [];
  const byIdAndMachine = deletes.filter((record) => keyedByIdAndMachine(record.schema));
  for (const group of groupBy(byIdAndMachine, (record) => `${record.table}\u0000${record.machineId}`)) {
    const { table, machineId } = group[0];
    for (const records of chunk(group, MAX_BOUND_PARAMETERS - 1)) {
      const sql = `DELETE FROM ${quote(table)} WHERE "machine_id" = ? AND "id" IN (${placeholders(records.length)})`;
      planned.push({ records, statement: db.prepare(sql).bind(machineId, ...records.map((record) => record.row.id)) });
    }
  }
  for (const record of deletes.filter((candidate) => !keyedByIdAndMachine(candidate.schema))) {
    const where = record.schema.key.map((column) => `${quote(column)} = ?`).join(" AND ");
    planned.push({ records: [record], statement: db.prepare(`DELETE FROM ${quote(record.table)} WHERE ${where}`).bind(...record.key) });
  }
  return planned;
}

// Writes every record; returns {written: [record], failed: [{record, error}]}.
export async function applyRecords(db, upserts, deletes) {
  const planned = [...planUpserts(db, upserts), ...planDeletes(db, deletes)];
  const written = [];
  const failed = [];
  for (const batch of chunk(planned, STATEMENTS_PER_BATCH)) {
    try {
      await db.batch(batch.map((item) => item.statement));
      for (const item of batch) written.push(...item.records);
    } catch {
      const records = batch.flatMap((item) => item.records);
      await applyOneByOne(db, records, written, failed);
    }
  }
  return { written, failed };
}

async function applyOneByOne(db, records, written, failed) {
  for (const record of records) {
    const [item] = record.operation === "upsert" ? planUpserts(db, [record]) : planDeletes(db, [record]);
    try {
      await item.statement.run();
      written.push(record);
    } catch (error) {
      failed.push({ record, error: String(error && error.message ? error.message : error) });
    }
  }
}
