// POST /sync: a node pushes its records; each is validated, written to D1, then embedded.
//
// Answer: {synced, skipped, errors: [{id, table, error}], embedded, embed_failed: [{id, table, error}],
// vectorize: "bound" | "unbound"}. A record in `errors` was not written; a record in
// `embed_failed` was written to D1 but its vector was not stored.
//
// Upserts are written before deletes (so each kind batches well); to keep the request's order
// meaningful, only the last record for a row counts and earlier ones are skipped as superseded
// (a row deleted then re-created on the node stays present, as it would if applied in order).

import { applyRecords, isUnchanged, readStoredHashes } from "./d1_writes.js";
import { HttpError, json, readJsonBody } from "./http.js";
import { MAX_RECORDS, RecordError, readRecord } from "./records.js";
import { applyEmbeddings, applyVectorDeletes, recordEmbedStats } from "./vectors.js";
import { requireProtocol, requireSchema } from "./versions.js";

const describe = (record, error) => ({ id: record.id ?? null, table: record.table ?? null, error });

function readRecords(body, now) {
  if (!Array.isArray(body.records)) throw new HttpError(400, "records must be an array");
  if (body.records.length > MAX_RECORDS) throw new HttpError(413, `at most ${MAX_RECORDS} records per request`);
  const checked = [];
  const errors = [];
  for (const raw of body.records) {
    try {
      checked.push(readRecord(raw, body.machine_id, now));
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      errors.push(describe(raw ?? {}, error.message));
    }
  }
  return { checked, errors };
}

const rowKey = (record) => `${record.table}\u0000${JSON.stringify(record.key)}`;

function keepLastPerRow(records) {
  const last = new Map(records.map((record) => [rowKey(record), record]));
  return { current: records.filter((record) => last.get(rowKey(record)) === record), superseded: records.length - last.size };
}

export async function handleSync(request, env) {
  const body = await readJsonBody(request);
  requireProtocol(env, body);
  await requireSchema(env);
  const db = env.MYCO_TEAM_DB;
  const now = Math.floor(Date.now() / 1000);
  const { checked: valid, errors } = readRecords(body, now);
  const { current: checked, superseded } = keepLastPerRow(valid);

  const stored = await readStoredHashes(db, checked.filter((record) => record.operation === "upsert"));
  const unchanged = new Set(checked.filter((record) => record.operation === "upsert" && isUnchanged(stored, record)));
  const upserts = checked.filter((record) => record.operation === "upsert" && !unchanged.has(record));
  const deletes = checked.filter((record) => record.operation === "delete");

  const { written, failed } = await applyRecords(db, upserts, deletes);
  errors.push(...failed.map(({ record, error }) => describe(record, error)));

  const index = env.MYCO_TEAM_VECTORS;
  // A skipped record that carries an embedding is still embedded: that is how a client recovers
  // from `embed_failed` (its row is stored, so re-sending it would otherwise never reach Vectorize).
  const toEmbed = [...written.filter((record) => record.operation === "upsert"), ...unchanged];
  const embeddings = await applyEmbeddings(index, toEmbed);
  const vectorDeletes = await applyVectorDeletes(index, written.filter((record) => record.operation === "delete"));
  const embedFailed = [...embeddings.failed, ...vectorDeletes];
  await recordEmbedStats(db, embeddings.embedded, embedFailed);

  return json(200, {
    synced: written.length,
    skipped: unchanged.size + superseded,
    errors,
    embedded: embeddings.embedded,
    embed_failed: embedFailed.map(({ record, error }) => describe(record, `embed_failed: ${error}`)),
    vectorize: index ? "bound" : "unbound",
  });
}
