// @ts-nocheck
// Server-side embeddings (reference §6): Workers AI (`env.AI`, model EMBEDDING_MODEL) embeds the
// contract's `embed` field of a row and the vector goes to Vectorize (`env.MYCO_TEAM_VECTORS`).
//
// Work comes from the backlog table team_embed_backlog, one job per (table, id, machine_id),
// written in the same D1 batch as the row (writes.js). Draining a job reads the row as D1 holds it
// now and makes Vectorize agree: a row with text gets its vector written; a missing row, empty
// text or a spore whose status is not `active` gets its vector removed. A job leaves the backlog
// only when that succeeded; a failure (the model, the index, a missing binding) stays queued with
// its error and is retried by the next drain: after an /enqueue (a bounded amount, before the
// answer) and on the cron trigger (`scheduled`). An embedding failure never un-accepts a record.
//
// Vector id: `v1:` + base64url (no padding) of the first 16 bytes of sha256("<table>:<id>:<machine>");
// the legacy id "<table>:<id>:<machine>" is removed whenever a vector is written or removed
// (only when it fits Vectorize's 64-byte id limit).

import { EMBEDDED_FIELDS } from "./contract.js";
import { MAX_BOUND_PARAMETERS, chunk, messageOf, placeholders, quote, statement } from "./d1.js";
import { nowSeconds } from "./http.js";

export const MAX_TEXT_CHARS = 8000;
const TRUNCATED = "\n\n[truncated for embedding]";
const DEFAULT_MODEL = "@cf/baai/bge-m3";
// Texts per Workers AI call: bge-m3's whole input shares one context window, so a call carries at
// most this many characters (upstream saw overflows when batching blindly; one text per call is
// the fallback when a batched call fails).
const CHARS_PER_CALL = 12000;
const TEXTS_PER_CALL = 16;
const VECTORS_PER_CALL = 1000; // Vectorize's upsert limit per call from a Worker
const JOBS_PER_STATEMENT = Math.floor(MAX_BOUND_PARAMETERS / 4);
const encoder = new TextEncoder();

const METADATA_FIELDS = {
  spores: { status: "string", observation_type: "string", session_id: "string", created_at: "number" },
  sessions: { status: "string", project_root: "string", created_at: "number" },
  plans: { status: "string", session_id: "string", source_path: "string", created_at: "number" },
  artifacts: { source_path: "string", created_at: "number" },
  skill_records: { status: "string", name: "string", created_at: "number" },
};

export function embeddingText(text) {
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}${TRUNCATED}` : text;
}

export async function vectorId(table, id, machineId) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(`${table}:${id}:${machineId}`)));
  const base64 = btoa(String.fromCharCode(...digest.slice(0, 16)));
  return `v1:${base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}

export const legacyVectorId = (table, id, machineId) => `${table}:${id}:${machineId}`;

export function vectorMetadata(table, row) {
  const metadata = { table, id: String(row.id), machine_id: row.machine_id };
  if (typeof row.project_id === "string" && row.project_id) metadata.project_id = row.project_id;
  for (const [field, kind] of Object.entries(METADATA_FIELDS[table] || {})) {
    const value = row[field];
    if (kind === "string" && typeof value === "string" && value) metadata[field] = value;
    if (kind === "number" && typeof value === "number" && Number.isFinite(value)) metadata[field] = value;
  }
  return metadata;
}

// What a job must do with the row as D1 holds it: {kind: "embed", text} or {kind: "remove"}.
function decide(table, row) {
  const text = row ? row[EMBEDDED_FIELDS[table]] : null;
  if (!row || typeof text !== "string" || text.length === 0) return { kind: "remove" };
  if (table === "spores" && row.status !== "active") return { kind: "remove" };
  return { kind: "embed", text: embeddingText(text) };
}

const jobKey = (job) => `${job.table}\u0000${job.machineId}\u0000${job.id}`;

async function readRows(db, jobs) {
  const lookups = [];
  const groups = new Map();
  for (const job of jobs) {
    const group = `${job.table}\u0000${job.machineId}`;
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(job);
  }
  for (const group of groups.values()) {
    const { table, machineId } = group[0];
    for (const slice of chunk(group, MAX_BOUND_PARAMETERS - 1)) {
      lookups.push({ table, statement: statement(`SELECT * FROM ${quote(table)} WHERE "machine_id" = ? AND "id" IN (${placeholders(slice.length)})`,
        machineId, ...slice.map((job) => job.id)) });
    }
  }
  const rows = new Map();
  const results = await db.batch(lookups.map((lookup) => lookup.statement));
  results.forEach((result, index) => {
    const { table } = lookups[index];
    for (const row of result.results) rows.set(`${table}\u0000${row.machine_id}\u0000${row.id}`, row);
  });
  return rows;
}

// Embeds `items` ({job, text}) within `budget.aiCalls`; returns {vectors: Map(job -> values),
// failed: Map(job -> error), skipped: [job]} (skipped: the budget ran out, the job stays queued).
async function embedTexts(env, items, budget) {
  const model = env.EMBEDDING_MODEL || DEFAULT_MODEL;
  const vectors = new Map();
  const failed = new Map();
  const skipped = [];
  const calls = [];
  for (const item of items) {
    const last = calls[calls.length - 1];
    if (last && last.length < TEXTS_PER_CALL && last.chars + item.text.length <= CHARS_PER_CALL) {
      last.push(item);
      last.chars += item.text.length;
    } else {
      const call = [item];
      call.chars = item.text.length;
      calls.push(call);
    }
  }
  const run = async (group) => {
    budget.aiCalls -= 1;
    const answer = await env.AI.run(model, { text: group.map((item) => item.text) });
    const data = answer && Array.isArray(answer.data) ? answer.data : [];
    if (data.length !== group.length) throw new Error(`the model returned ${data.length} vectors for ${group.length} texts`);
    group.forEach((item, index) => vectors.set(item.job, data[index]));
  };
  for (const group of calls) {
    if (budget.aiCalls <= 0) {
      skipped.push(...group.map((item) => item.job));
      continue;
    }
    try {
      await run(group);
    } catch (error) {
      if (group.length === 1) {
        failed.set(group[0].job, messageOf(error));
        continue;
      }
      for (const item of group) {
        if (budget.aiCalls <= 0) skipped.push(item.job);
        else await run([item]).catch((single) => failed.set(item.job, messageOf(single)));
      }
    }
  }
  return { vectors, failed, skipped };
}

const fitsVectorizeId = (id) => encoder.encode(id).length <= 64;

// Makes Vectorize agree with D1 for `jobs` ({table, id, machineId, queuedAt}); removes the jobs
// that succeeded from the backlog and records the failures. Returns {written, removed, failed, skipped}.
export async function drainJobs(env, db, jobs, budget) {
  if (jobs.length === 0) return { written: 0, removed: 0, failed: 0, skipped: 0 };
  const failures = new Map();
  let vectors = new Map();
  let skipped = [];
  const plans = [];
  if (!env.AI || !env.MYCO_TEAM_VECTORS) {
    const missing = !env.AI ? "the Workers AI binding AI is missing" : "the Vectorize binding MYCO_TEAM_VECTORS is missing";
    for (const job of jobs) failures.set(job, missing);
  } else {
    const rows = await readRows(db, jobs);
    for (const job of jobs) plans.push({ job, row: rows.get(jobKey(job)) ?? null, ...decide(job.table, rows.get(jobKey(job)) ?? null) });
    const embedded = await embedTexts(env, plans.filter((plan) => plan.kind === "embed").map((plan) => ({ job: plan.job, text: plan.text })), budget);
    vectors = embedded.vectors;
    skipped = embedded.skipped;
    for (const [job, error] of embedded.failed) failures.set(job, `embedding failed: ${error}`);
    await writeVectors(env, plans.filter((plan) => vectors.has(plan.job)), vectors, failures);
    await removeVectors(env, plans, vectors, failures, skipped);
  }
  const done = jobs.filter((job) => !failures.has(job) && !skipped.includes(job));
  const written = done.filter((job) => vectors.has(job)).length;
  await db.batch(finishStatements(done, failures, written, nowSeconds()));
  return { written, removed: done.length - written, failed: failures.size, skipped: skipped.length };
}

async function writeVectors(env, plans, vectors, failures) {
  const items = await Promise.all(plans.map(async (plan) => ({
    plan,
    vector: { id: await vectorId(plan.job.table, plan.job.id, plan.job.machineId), values: vectors.get(plan.job), metadata: vectorMetadata(plan.job.table, plan.row) },
  })));
  for (const slice of chunk(items, VECTORS_PER_CALL)) {
    try {
      await env.MYCO_TEAM_VECTORS.upsert(slice.map((item) => item.vector));
    } catch (error) {
      for (const item of slice) failures.set(item.plan.job, `vector upsert failed: ${messageOf(error)}`);
    }
  }
}

// Removes the vectors of "remove" jobs, and the legacy ids of every job that reached Vectorize.
async function removeVectors(env, plans, vectors, failures, skipped) {
  const removals = plans.filter((plan) => plan.kind === "remove");
  const ids = [];
  for (const plan of removals) ids.push(await vectorId(plan.job.table, plan.job.id, plan.job.machineId));
  for (const plan of plans) {
    if (failures.has(plan.job) || skipped.includes(plan.job) || (plan.kind === "embed" && !vectors.has(plan.job))) continue;
    const legacy = legacyVectorId(plan.job.table, plan.job.id, plan.job.machineId);
    if (fitsVectorizeId(legacy)) ids.push(legacy);
  }
  for (const slice of chunk(ids, VECTORS_PER_CALL)) {
    try {
      await env.MYCO_TEAM_VECTORS.deleteByIds(slice);
    } catch (error) {
      for (const plan of removals) failures.set(plan.job, `vector delete failed: ${messageOf(error)}`);
    }
  }
}

function finishStatements(done, failures, written, now) {
  const key = "(table_name, row_id, machine_id, queued_at)";
  const values = (jobs) => jobs.map(() => "(?, ?, ?, ?)").join(", ");
  const params = (jobs) => jobs.flatMap((job) => [job.table, job.id, job.machineId, job.queuedAt]);
  const statements = chunk(done, JOBS_PER_STATEMENT).map((jobs) =>
    statement(`DELETE FROM team_embed_backlog WHERE ${key} IN (VALUES ${values(jobs)})`, ...params(jobs)));
  const byError = new Map();
  for (const [job, error] of failures) {
    if (!byError.has(error)) byError.set(error, []);
    byError.get(error).push(job);
  }
  for (const [error, jobs] of byError) {
    for (const slice of chunk(jobs, JOBS_PER_STATEMENT - 1)) {
      statements.push(statement(`UPDATE team_embed_backlog SET attempts = attempts + 1, last_error = ? WHERE ${key} IN (VALUES ${values(slice)})`,
        error.slice(0, 500), ...params(slice)));
    }
  }
  const lastError = failures.size ? [...failures.values()].pop().slice(0, 500) : null;
  statements.push(statement(
    `INSERT INTO team_sync_stats (id, embed_ok, embed_failed, last_embed_error, last_embed_at) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET embed_ok = embed_ok + excluded.embed_ok, embed_failed = embed_failed + excluded.embed_failed,
       last_embed_error = COALESCE(excluded.last_embed_error, last_embed_error), last_embed_at = excluded.last_embed_at`,
    written, failures.size, lastError, now));
  return statements;
}

// The oldest jobs of the backlog (cron, /vectors/reindex follow-up).
export async function readBacklog(db, limit) {
  const rows = await db.all("SELECT table_name, row_id, machine_id, queued_at FROM team_embed_backlog ORDER BY queued_at, table_name, row_id LIMIT ?", limit);
  return rows.map((row) => ({ table: row.table_name, id: row.row_id, machineId: row.machine_id, queuedAt: row.queued_at }));
}

export const jobsOf = (records, queuedAt) =>
  records.filter((record) => EMBEDDED_FIELDS[record.table] && record.contract.key[0] === "id")
    .map((record) => ({ table: record.table, id: record.row.id, machineId: record.machineId, queuedAt }));
