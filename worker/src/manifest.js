// GET /manifest?machine_id&table&project_id&cursor&limit&summary=1: one (machine, table[, project])
// partition's ids for the client's reconcile (reference §3.7). Read-only.
//
// The client deletes its own rows whose ids the manifest lists and it lacks, so a manifest lists
// ONLY rows of the asked machine (and project), and each id exactly as the string the client sent:
// id columns are TEXT (migration 0006), so "123" stays "123" and the cursor compares as text.
// A table without a project_id column (team_members) lists `project_id: null`, and its partition
// in any project is empty: a double-quoted name of no column would be read by SQLite as a string.

import { contractTable, keyedById, storedColumns } from "./contract.js";
import { openDatabase, quote, statement } from "./d1.js";
import { HttpError, json, readLimit, requireString } from "./http.js";
import { requireSchema } from "./versions.js";

const DEFAULT_LIMIT = 200;
const MAX_LIMIT = 1000;

function readParameters(url) {
  const machineId = requireString(url.searchParams.get("machine_id") ?? "", "machine_id");
  const table = requireString(url.searchParams.get("table") ?? "", "table");
  const contract = contractTable(table);
  const columns = storedColumns(table);
  if (!contract || !keyedById(contract) || !columns) {
    throw new HttpError(400, `Unknown or ineligible table: ${table}`);
  }
  return {
    machineId,
    table,
    hasContentHash: contract.content_hash && columns.includes("content_hash"),
    hasProject: columns.includes("project_id"),
    projectId: url.searchParams.get("project_id")?.trim() || null,
    cursor: url.searchParams.get("cursor") || null,
    limit: readLimit(url, "limit", DEFAULT_LIMIT, MAX_LIMIT),
    summary: url.searchParams.get("summary") === "1",
  };
}

function partition({ machineId, projectId, hasProject }) {
  const where = ['"machine_id" = ?'];
  const params = [machineId];
  if (projectId && !hasProject) {
    where.push("false");
  } else if (projectId) {
    where.push('"project_id" = ?');
    params.push(projectId);
  }
  return { where, params };
}

export async function handleManifest(request, env) {
  const parameters = readParameters(new URL(request.url));
  const db = openDatabase(env);
  await requireSchema(env, db);
  const { table, machineId, projectId, cursor, limit, summary, hasContentHash, hasProject } = parameters;
  const { where, params } = partition(parameters);
  const count = statement(`SELECT count(*) AS count FROM ${quote(table)} WHERE ${where.join(" AND ")}`, ...params);
  const base = { table, machine_id: machineId, ...(projectId ? { project_id: projectId } : {}) };
  if (summary) {
    const [{ results }] = await db.batch([count]);
    return json(200, { ...base, count: results[0].count });
  }
  const pageWhere = cursor === null ? where : [...where, '"id" > ?'];
  const pageParams = cursor === null ? params : [...params, cursor];
  const columns = `"id", ${hasProject ? '"project_id"' : 'NULL AS "project_id"'}${hasContentHash ? ', "content_hash"' : ""}`;
  const page = statement(`SELECT ${columns} FROM ${quote(table)} WHERE ${pageWhere.join(" AND ")} ORDER BY "id" LIMIT ?`, ...pageParams, limit + 1);
  const [counted, listed] = await db.batch([count, page]);
  const rows = listed.results.slice(0, limit);
  const items = rows.map((row) => ({ ...row, id: String(row.id) }));
  const more = listed.results.length > limit;
  return json(200, { ...base, count: counted.results[0].count, items, ...(more ? { next_cursor: items[items.length - 1].id } : {}) });
}
