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
import { chunk, chunkJson, jsonColumns, messageOf, quote, statement } from "./d1.js";
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
// Vectorize takes at most 10 KiB of metadata per vector and refuses the whole upsert call past it:
// a string field whose JSON is longer than this is left out (with the id and machine_id, keys of at
// most 1,024 bytes, the metadata stays within the limit).
const MAX_METADATA_STRING_BYTES = 1024;
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

const fitsMetadata = (value) => encoder.encode(JSON.stringify(value)).length <= MAX_METADATA_STRING_BYTES;

export function vectorMetadata(table, row) {
  const metadata = { table, id: String(row.id), machine_id: row.machine_id };
  if (typeof row.project_id === "string" && row.project_id) metadata.project_id = row.project_id;
  for (const [field, kind] of Object.entries(METADATA_FIELDS[table] || {})) {
    const value = row[field];
    if (kind === "string" && typeof value === "string" && value && fitsMetadata(value)) metadata[field] = value;
    if (kind === "number" && Number.isFinite(value)) metadata[field] = value;
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

// SELECTs of the jobs' rows: one per table, the (id, machine_id) pairs one JSON list.
function planRowReads(jobs) {
  const reads = [];
  for (const table of new Set(jobs.map((job) => job.table))) {
    const pairs = jobs.filter((job) => job.table === table).map((job) => [job.id, job.machineId]);
    for (const slice of chunkJson(pairs)) {
      reads.push({ table, statement: statement(`SELECT * FROM ${quote(table)} WHERE ("id", "machine_id") IN (SELECT ${jsonColumns(2)} FROM json_each(?))`,
        JSON.stringify(slice)) });
    }
  }
  return reads;
}

async function readRows(db, reads) {
  const rows = new Map();
  const results = await db.batch(reads.map((read) => read.statement));
  results.forEach((result, index) => {
    const { table } = reads[index];
    for (const row of result.results) rows.set(`${table}\u0000${row.machine_id}\u0000${row.id}`, row);
  });
  return rows;
}

// Embeds `items` ({job, text}) within `allowance.aiCalls`; returns {vectors: Map(job -> values),
// failed: Map(job -> error), skipped: [job]} (skipped: the budget ran out, the job stays queued).
async function embedTexts(env, items, allowance) {
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
    allowance.aiCalls -= 1;
    const answer = await env.AI.run(model, { text: group.map((item) => item.text) });
    const data = answer && Array.isArray(answer.data) ? answer.data : [];
    if (data.length !== group.length) throw new Error(`the model returned ${data.length} vectors for ${group.length} texts`);
    group.forEach((item, index) => vectors.set(item.job, data[index]));
  };
  for (const group of calls) {
    if (allowance.aiCalls <= 0) {
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
        if (allowance.aiCalls <= 0) skipped.push(item.job);
        else await run([item]).catch((single) => failed.set(item.job, messageOf(single)));
      }
    }
  }
  return { vectors, failed, skipped };
}

const fitsVectorizeId = (id) => encoder.encode(id).length <= 64;

// The fields a job's decision and metadata read from its row.
const NEEDED_FIELDS = Object.fromEntries(Object.entries(EMBEDDED_FIELDS).map(([table, field]) =>
  [table, [field, "project_id", ...Object.keys(METADATA_FIELDS[table] || {})]]));

// A row known from the write that queued the job, when it carries every field the job reads (a
// push of the whole row, as the client sends); else null, and the row is read from D1.
export function knownRow(record) {
  if (record.operation !== "upsert") return null;
  return NEEDED_FIELDS[record.table].every((field) => field in record.row) ? record.row : null;
}

// Makes Vectorize agree with D1 for `jobs` ({table, id, machineId, queuedAt, row?}) within the
// invocation's budget, keeping `reserve` D1 queries for the caller: at most `allowance.aiCalls`
// Workers AI calls (the object is spent from, so a caller can share it across drains), and room
// for the Vectorize calls that follow them. A job's `row` (just written by this invocation) saves
// reading it: if a later write changed the row meanwhile, that write queued a newer job, which this
// one's removal from the backlog (matched on queued_at) leaves in place.
// Returns {written, removed, failed, skipped, closing}: the backlog and counter statements are sent
// unless `send` is false, when the caller sends `closing` with its own last batch. Jobs the budget
// cannot cover stay queued untouched.
export async function drainJobs(env, db, jobs, { allowance, reserve = 0, send = true }) {
  const none = { written: 0, removed: 0, failed: 0, skipped: 0, closing: [] };
  if (jobs.length === 0) return none;
  const unknown = jobs.filter((job) => !job.row);
  const reads = planRowReads(unknown);
  if (db.remaining() < reads.length + finishCost(jobs) + reserve) return { ...none, skipped: jobs.length };
  const failures = new Map();
  let vectors = new Map();
  let skipped = [];
  if (!env.AI || !env.MYCO_TEAM_VECTORS) {
    const missing = !env.AI ? "the Workers AI binding AI is missing" : "the Vectorize binding MYCO_TEAM_VECTORS is missing";
    for (const job of jobs) failures.set(job, missing);
  } else {
    // upserts, then deletes (each job's vector or legacy id, and a removed vector's own id)
    const vectorCalls = Math.ceil(jobs.length / VECTORS_PER_CALL) + Math.ceil((2 * jobs.length) / VECTORS_PER_CALL);
    if (db.budget.remaining("subrequests") < vectorCalls) return { ...none, skipped: jobs.length };
    allowance.aiCalls = Math.min(allowance.aiCalls, db.budget.remaining("subrequests") - vectorCalls);
    const rows = reads.length ? await readRows(db, reads) : new Map();
    const rowOf = (job) => job.row ?? rows.get(jobKey(job)) ?? null;
    const plans = jobs.map((job) => ({ job, row: rowOf(job), ...decide(job.table, rowOf(job)) }));
    const embedded = await embedTexts(env, plans.filter((plan) => plan.kind === "embed").map((plan) => ({ job: plan.job, text: plan.text })), allowance);
    vectors = embedded.vectors;
    skipped = embedded.skipped;
    for (const [job, error] of embedded.failed) failures.set(job, `embedding failed: ${error}`);
    await writeVectors(env, plans.filter((plan) => vectors.has(plan.job)), vectors, failures);
    await removeVectors(env, plans, failures, skipped);
  }
  const done = jobs.filter((job) => !failures.has(job) && !skipped.includes(job));
  const written = done.filter((job) => vectors.has(job)).length;
  const closing = finishStatements(done, failures, written, nowSeconds());
  if (send) await db.batch(closing);
  return { written, removed: done.length - written, failed: failures.size, skipped: skipped.length, closing: send ? [] : closing };
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

// Removes the vectors of "remove" jobs, and the legacy ids of every job that reached Vectorize: all
// but the failed and the skipped (embedTexts leaves each text embedded, failed or skipped).
async function removeVectors(env, plans, failures, skipped) {
  const removals = plans.filter((plan) => plan.kind === "remove");
  const ids = [];
  for (const plan of removals) ids.push(await vectorId(plan.job.table, plan.job.id, plan.job.machineId));
  for (const plan of plans) {
    if (failures.has(plan.job) || skipped.includes(plan.job)) continue;
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

const JOB_KEY = "(table_name, row_id, machine_id, queued_at)";
const jobEntry = (job) => [job.table, job.id, job.machineId, job.queuedAt];

// The most statements finishing `jobs` can take: the done and the failed lists, and the counters.
const finishCost = (jobs) => 2 * chunkJson(jobs.map((job) => [...jobEntry(job), "x".repeat(500)])).length + 1;

// Done jobs leave the backlog; failed ones count an attempt and keep their error (one statement
// per JSON list, ?1 naming the list twice); the counters add what happened.
function finishStatements(done, failures, written, now) {
  const statements = chunkJson(done.map(jobEntry)).map((entries) =>
    statement(`DELETE FROM team_embed_backlog WHERE ${JOB_KEY} IN (SELECT ${jsonColumns(4)} FROM json_each(?))`, JSON.stringify(entries)));
  const failed = [...failures].map(([job, error]) => [...jobEntry(job), error.slice(0, 500)]);
  for (const entries of chunkJson(failed)) {
    statements.push(statement(`UPDATE team_embed_backlog SET attempts = attempts + 1, last_error = (
        SELECT json_extract(entry.value, '$[4]') FROM json_each(?1) AS entry
        WHERE json_extract(entry.value, '$[0]') = table_name AND json_extract(entry.value, '$[1]') = row_id
          AND json_extract(entry.value, '$[2]') = machine_id AND json_extract(entry.value, '$[3]') = queued_at)
      WHERE ${JOB_KEY} IN (SELECT ${jsonColumns(4)} FROM json_each(?1))`, JSON.stringify(entries)));
  }
  const lastError = failures.size ? [...failures.values()].pop().slice(0, 500) : null;
  statements.push(statement(
    `INSERT INTO team_sync_stats (id, embed_ok, embed_failed, last_embed_error, last_embed_at) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET embed_ok = embed_ok + excluded.embed_ok, embed_failed = embed_failed + excluded.embed_failed,
       last_embed_error = COALESCE(excluded.last_embed_error, last_embed_error), last_embed_at = excluded.last_embed_at`,
    written, failures.size, lastError, now));
  return statements;
}

// The next jobs of the backlog (cron, /vectors/reindex follow-up): the least tried first, then the
// oldest, so a job that keeps failing never holds up the others.
export async function readBacklog(db, limit) {
  const rows = await db.all(`SELECT table_name, row_id, machine_id, queued_at FROM team_embed_backlog
    ORDER BY attempts, queued_at, table_name, row_id LIMIT ?`, limit);
  return rows.map((row) => ({ table: row.table_name, id: row.row_id, machineId: row.machine_id, queuedAt: row.queued_at }));
}

// The jobs of written records, each with its row when the record carried all the job reads.
export const jobsOf = (records, queuedAt) =>
  records.filter((record) => EMBEDDED_FIELDS[record.table] && record.contract.key[0] === "id")
    .map((record) => ({ table: record.table, id: record.id, machineId: record.machineId, queuedAt, row: knownRow(record) }));
