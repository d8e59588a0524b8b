// @ts-nocheck
// The daemon UI's reads and small operator writes (reference §3.7): /sync-summary, /queue-stats,
// /records/<table>/<id>, GET /members, DELETE /members/<machine_id>.

import { EMBEDDED_FIELDS, SYNCED_TABLES, contractTable, keyedById, storedColumns } from "./contract.js";
import { messageOf, openDatabase, quote, statement } from "./d1.js";
import { HttpError, json, nowSeconds, requireString } from "./http.js";
import { readQueueStats } from "./stats.js";
import { advertisedVersions, builtSchemaVersion, requireSchema } from "./versions.js";

const storedTables = () => SYNCED_TABLES.filter((table) => storedColumns(table));

async function openReady(env) {
  const db = openDatabase(env);
  await requireSchema(env, db);
  return db;
}

async function describeIndex(env) {
  if (!env.MYCO_TEAM_VECTORS) return { vector_count: null, vector_index_healthy: false, vector_index_error: "Vectorize is not bound" };
  try {
    const description = await env.MYCO_TEAM_VECTORS.describe();
    const count = Number(description.vectorCount ?? description.vectorsCount);
    return { vector_count: Number.isFinite(count) ? count : null, vector_index_healthy: true, vector_index_error: null };
  } catch (error) {
    return { vector_count: null, vector_index_healthy: false, vector_index_error: messageOf(error) };
  }
}

function embeddableCount(table) {
  const field = quote(EMBEDDED_FIELDS[table]);
  const active = table === "spores" ? ` AND "status" = 'active'` : "";
  return `(SELECT count(*) FROM ${quote(table)} WHERE ${field} IS NOT NULL AND length(${field}) > 0${active})`;
}

export async function handleSyncSummary(request, env) {
  const machineId = new URL(request.url).searchParams.get("machine_id")?.trim() || null;
  const db = await openReady(env);
  const tables = storedTables();
  const counts = [statement(`SELECT ${tables.map((table) => `(SELECT count(*) FROM ${quote(table)}) AS ${quote(table)}`).join(", ")}`)];
  if (machineId) {
    counts.push(statement(`SELECT ${tables.map((table) => `(SELECT count(*) FROM ${quote(table)} WHERE "machine_id" = ?) AS ${quote(table)}`).join(", ")}`,
      ...tables.map(() => machineId)));
  }
  counts.push(statement(`SELECT ${Object.keys(EMBEDDED_FIELDS).map(embeddableCount).join(" + ")} AS embeddable`));
  const [all, ...rest] = await db.batch(counts);
  const embeddable = rest.pop().results[0].embeddable;
  const perTable = all.results[0];
  return json(200, {
    generated_at: nowSeconds(),
    total_records: tables.reduce((sum, table) => sum + perTable[table], 0),
    tables: perTable,
    ...(machineId ? { machine_id: machineId, machine_tables: rest[0].results[0] } : {}),
    ...(await describeIndex(env)),
    embeddable_count: embeddable,
    schema_version: builtSchemaVersion(env),
    sync_protocol_version: advertisedVersions(env).sync_protocol_version,
  });
}

export async function handleQueueStats(request, env) {
  return json(200, await readQueueStats(await openReady(env)));
}

// GET /records/<table>/<id>[?machine_id=]: one stored row (any machine's unless asked).
export async function handleGetRecord(request, env, [table, id]) {
  const contract = contractTable(table);
  if (!contract || !keyedById(contract) || !storedColumns(table)) throw new HttpError(400, `Unknown record type: ${table}`);
  const machineId = new URL(request.url).searchParams.get("machine_id");
  const db = await openReady(env);
  const row = machineId
    ? await db.first(`SELECT * FROM ${quote(table)} WHERE "id" = ? AND "machine_id" = ?`, id, machineId)
    : await db.first(`SELECT * FROM ${quote(table)} WHERE "id" = ? ORDER BY "synced_at" DESC LIMIT 1`, id);
  if (!row) return json(404, { error: "not_found" });
  return json(200, { record: { ...row, table } });
}

export async function handleListMembers(request, env) {
  const db = await openReady(env);
  const members = await db.all(`SELECT "id", "machine_id", "user", "role", "joined", "tags", "synced_at" FROM team_members ORDER BY "user", "machine_id"`);
  return json(200, { members });
}

// DELETE /members/<machine_id>: the departing machine's roster rows. Any holder of the team key
// can remove any machine (the key is shared); an active member's next push restores its row.
export async function handleRemoveMember(request, env, [machineId]) {
  const db = await openReady(env);
  const [{ meta }] = await db.batch([statement("DELETE FROM team_members WHERE machine_id = ?", requireString(machineId, "machine_id"))]);
  return json(200, { removed: meta.changes ?? 0 });
}
