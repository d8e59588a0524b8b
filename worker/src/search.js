// GET /search?q=…&limit&tables&status&observation_type&since&until&session_id&source_path&name
// &project_id&release_state&release_confidence (reference §3.7, upstream search-helpers.ts).
//
// The query is embedded with the same model as the records, Vectorize returns the nearest vectors
// with their metadata (filtered on the indexed `project_id`/`table` when asked, the other filters
// applied after the query), and each match is hydrated from D1. Vectorize returns at most 20
// matches with metadata, so a filtered search sees at most 20 candidates. Vectorize applies a
// query's filter before it takes the nearest and answers only vectors that match it, so the tables
// asked for are not checked again here.

import { EMBEDDED_FIELDS, storedColumns } from "./contract.js";
import { chunkJson, jsonColumns, openDatabase, quote, statement } from "./d1.js";
import { embeddingText } from "./embeddings.js";
import { HttpError, json, readLimit } from "./http.js";
import { requireSchema } from "./versions.js";

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 20; // Vectorize's topK with metadata
const DEFAULT_MODEL = "@cf/baai/bge-m3";
const EQUALITY_FILTERS = ["status", "observation_type", "session_id", "source_path", "name", "project_id"];

function readFilters(url) {
  const tables = (url.searchParams.get("tables") || url.searchParams.get("types") || "").split(",").map((t) => t.trim()).filter(Boolean);
  const number = (name) => {
    const value = Number(url.searchParams.get(name));
    return url.searchParams.get(name) !== null && Number.isFinite(value) ? value : null;
  };
  return {
    tables,
    equal: Object.fromEntries(EQUALITY_FILTERS.filter((name) => url.searchParams.get(name)).map((name) => [name, url.searchParams.get(name)])),
    since: number("since"),
    until: number("until"),
    releaseState: url.searchParams.get("release_state"),
    releaseConfidence: url.searchParams.get("release_confidence"),
  };
}

function matches(metadata, filters) {
  if (!metadata || typeof metadata.table !== "string" || typeof metadata.id !== "string") return false;
  for (const [name, value] of Object.entries(filters.equal)) if (metadata[name] !== value) return false;
  const created = typeof metadata.created_at === "number" ? metadata.created_at : null;
  if (filters.since !== null && (created === null || created < filters.since)) return false;
  if (filters.until !== null && (created === null || created > filters.until)) return false;
  return true;
}

// Vectorize-side filter on the indexed properties (hyphae.defaults.yaml metadataIndexes).
function indexFilter(filters) {
  const filter = {};
  if (filters.equal.project_id) filter.project_id = filters.equal.project_id;
  if (filters.tables.length === 1) filter.table = filters.tables[0];
  else if (filters.tables.length > 1) filter.table = { $in: filters.tables };
  return filter;
}

async function hydrate(db, found) {
  const lookups = [];
  for (const table of new Set(found.map((match) => match.metadata.table))) {
    if (!EMBEDDED_FIELDS[table] || !storedColumns(table)) continue;
    const pairs = found.filter((match) => match.metadata.table === table).map((match) => [match.metadata.id, match.metadata.machine_id]);
    for (const slice of chunkJson(pairs)) {
      lookups.push({ table, statement: statement(`SELECT * FROM ${quote(table)} WHERE ("id", "machine_id") IN (SELECT ${jsonColumns(2)} FROM json_each(?))`,
        JSON.stringify(slice)) });
    }
  }
  const rows = new Map();
  (await db.batch(lookups.map((lookup) => lookup.statement))).forEach((result, index) => {
    for (const row of result.results) rows.set(`${lookups[index].table}\u0000${row.id}\u0000${row.machine_id}`, row);
  });
  return rows;
}

async function releaseStates(db, results) {
  if (results.length === 0) return new Map();
  // At most MAX_LIMIT (20) results: 60 bound parameters, under D1's 100 per query.
  const sql = `SELECT namespace, record_id, machine_id, state, confidence, basis_kind, checked_at, reason FROM knowledge_release_state
    WHERE (namespace, record_id, machine_id) IN (VALUES ${results.map(() => "(?, ?, ?)").join(", ")})`;
  const rows = await db.all(sql, ...results.flatMap((result) => [result.table, result.id, result.machine_id]));
  return new Map(rows.map((row) => [`${row.namespace}\u0000${row.record_id}\u0000${row.machine_id}`, row]));
}

export async function handleSearch(request, env) {
  const url = new URL(request.url);
  const query = url.searchParams.get("q");
  if (!query) throw new HttpError(400, 'Missing query parameter "q"');
  if (!env.AI || !env.MYCO_TEAM_VECTORS) throw new HttpError(503, "search needs the AI and MYCO_TEAM_VECTORS bindings");
  const limit = readLimit(url, "limit", DEFAULT_LIMIT, MAX_LIMIT);
  const filters = readFilters(url);
  const db = openDatabase(env);
  await requireSchema(env, db);
  const embedded = await env.AI.run(env.EMBEDDING_MODEL || DEFAULT_MODEL, { text: [embeddingText(query)] });
  const answer = await env.MYCO_TEAM_VECTORS.query(embedded.data[0], { topK: MAX_LIMIT, returnMetadata: "all", filter: indexFilter(filters) });
  const found = answer.matches.filter((match) => matches(match.metadata, filters));
  const rows = await hydrate(db, found);
  let results = found
    .map((match) => ({ match, row: rows.get(`${match.metadata.table}\u0000${match.metadata.id}\u0000${match.metadata.machine_id}`) }))
    .filter(({ row }) => row)
    .map(({ match, row }) => ({
      id: match.metadata.id, table: match.metadata.table, type: match.metadata.table, score: match.score,
      machine_id: match.metadata.machine_id, project_id: row.project_id ?? null, data: row, metadata: match.metadata,
    }));
  if (filters.releaseState || filters.releaseConfidence) {
    const states = await releaseStates(db, results);
    results = results.filter((result) => {
      const state = states.get(`${result.table}\u0000${result.id}\u0000${result.machine_id}`);
      return state && (!filters.releaseState || state.state === filters.releaseState)
        && (!filters.releaseConfidence || state.confidence === filters.releaseConfidence);
    });
  }
  return json(200, { results: results.slice(0, limit) });
}
