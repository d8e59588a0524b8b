// Embeddings to Vectorize, after (and apart from) the D1 write.
//
// Upstream ignored Vectorize failures silently. Here a failed upsert is reported per record as
// `embed_failed` and counted in team_sync_stats, and it never undoes the D1 write: the record is
// stored and the client re-sends it with its embedding (an unchanged, skipped record is still
// embedded). Vectorize has no local emulation, so an unbound index is reported
// (`vectorize: "unbound"`) and sync still works.

const UPSERT_CHUNK = 500; // below the Workers binding's 1000-vectors-per-call limit

async function vectorId(record) {
  const text = `${record.table}\u0000${record.machineId}\u0000${record.row.id ?? record.key.join("\u0000")}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  // 64 hex characters: Vectorize ids are at most 64 bytes.
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function toVector(record) {
  const metadata = { table: record.table, machine_id: record.machineId, record_id: String(record.row.id ?? "") };
  if (typeof record.row.project_id === "string") metadata.project_id = record.row.project_id;
  return { id: await vectorId(record), values: record.embedding, metadata };
}

const messageOf = (error) => String(error && error.message ? error.message : error);

async function upsertChunk(index, items) {
  try {
    await index.upsert(items.map((item) => item.vector));
    return [];
  } catch {
    // Find which vectors the index refused: one call each, so good records still land.
    const failures = [];
    for (const item of items) {
      try {
        await index.upsert([item.vector]);
      } catch (error) {
        failures.push({ record: item.record, error: messageOf(error) });
      }
    }
    return failures;
  }
}

// Upserts the embeddings of written records; returns {embedded, failed: [{record, error}]}.
export async function applyEmbeddings(index, records) {
  const withEmbedding = records.filter((record) => record.embedding !== null);
  if (!index || withEmbedding.length === 0) return { embedded: 0, failed: [] };
  const items = await Promise.all(withEmbedding.map(async (record) => ({ record, vector: await toVector(record) })));
  const failed = [];
  for (let start = 0; start < items.length; start += UPSERT_CHUNK) {
    failed.push(...(await upsertChunk(index, items.slice(start, start + UPSERT_CHUNK))));
  }
  return { embedded: withEmbedding.length - failed.length, failed };
}

// Deleted records take their vectors with them; a failure is reported like an upsert's.
export async function applyVectorDeletes(index, records) {
  if (!index || records.length === 0) return [];
  const ids = await Promise.all(records.map(vectorId));
  try {
    await index.deleteByIds(ids);
    return [];
  } catch (error) {
    return records.map((record) => ({ record, error: messageOf(error) }));
  }
}

export async function recordEmbedStats(db, embedded, failed) {
  if (embedded === 0 && failed.length === 0) return;
  const lastError = failed.length ? failed[failed.length - 1].error.slice(0, 500) : null;
  await db
    .prepare(
      `INSERT INTO team_sync_stats (id, embed_ok, embed_failed, last_embed_error, last_embed_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET embed_ok = embed_ok + excluded.embed_ok, embed_failed = embed_failed + excluded.embed_failed,
         last_embed_error = COALESCE(excluded.last_embed_error, last_embed_error), last_embed_at = excluded.last_embed_at`,
    )
    .bind(embedded, failed.length, lastError, Math.floor(Date.now() / 1000))
    .run();
}
