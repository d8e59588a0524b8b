// @ts-nocheck
// The counters /queue-stats shows: team_sync_stats (one row, id = 1), team_dropped_fields and the
// embedding backlog. Written in one batch after a push's records, so they count what 2xx answers
// said (a push answered 5xx is resent by the client and counted then).

import { statement } from "./d1.js";

const COUNT_INGEST = `INSERT INTO team_sync_stats (id, enqueued, processed, failed, accepted, rejected, unchanged, dead_lettered, last_run_at, last_error)
VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET enqueued = enqueued + excluded.enqueued, processed = processed + excluded.processed,
  failed = failed + excluded.failed, accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected,
  unchanged = unchanged + excluded.unchanged, dead_lettered = dead_lettered + excluded.dead_lettered,
  last_run_at = excluded.last_run_at, last_error = COALESCE(excluded.last_error, last_error)`;

const COUNT_DROPPED = `INSERT INTO team_dropped_fields (table_name, field, count, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (table_name, field) DO UPDATE SET count = count + excluded.count, last_seen_at = excluded.last_seen_at`;

const TOUCH_NODE = "UPDATE nodes SET last_seen = ? WHERE machine_id = ?";

// counts: {received, accepted, rejected, unchanged, deadLettered, lastError}; dropped: Map("table.field" -> n).
export function ingestStatements(counts, dropped, machineId, now) {
  const statements = [
    statement(COUNT_INGEST, counts.received, counts.accepted - counts.deadLettered, counts.rejected + counts.deadLettered,
      counts.accepted, counts.rejected, counts.unchanged, counts.deadLettered, now, counts.lastError),
  ];
  for (const [name, count] of dropped) {
    const [table, field] = name.split(".");
    statements.push(statement(COUNT_DROPPED, table, field, count, now, now));
  }
  if (typeof machineId === "string" && machineId) statements.push(statement(TOUCH_NODE, now, machineId));
  return statements;
}

export async function readQueueStats(db) {
  const [stats, dropped, backlog] = await db.batch([
    statement("SELECT * FROM team_sync_stats WHERE id = 1"),
    statement("SELECT table_name, field, count, last_seen_at FROM team_dropped_fields ORDER BY table_name, field"),
    statement("SELECT count(*) AS jobs, COALESCE(SUM(attempts > 0), 0) AS retrying, MIN(queued_at) AS oldest FROM team_embed_backlog"),
  ]);
  const row = stats.results[0] || {};
  const [jobs] = backlog.results;
  return {
    enqueued: row.enqueued ?? 0,
    processed: row.processed ?? 0,
    failed: row.failed ?? 0,
    // Upstream's `backlog` was records queued and not yet written; here every accepted record is
    // written before the answer, so the only backlog is embeddings waiting to be (re)tried.
    backlog: jobs.jobs,
    last_run_at: row.last_run_at ?? null,
    last_error: row.last_error ?? null,
    embed_ok: row.embed_ok ?? 0,
    embed_failed: row.embed_failed ?? 0,
    last_embed_error: row.last_embed_error ?? null,
    last_embed_at: row.last_embed_at ?? null,
    accepted: row.accepted ?? 0,
    rejected: row.rejected ?? 0,
    unchanged: row.unchanged ?? 0,
    dead_lettered: row.dead_lettered ?? 0,
    embed_backlog: { jobs: jobs.jobs, retrying: jobs.retrying, oldest_queued_at_ms: jobs.oldest },
    dropped_fields: Object.fromEntries(dropped.results.map((entry) => [`${entry.table_name}.${entry.field}`, entry.count])),
  };
}
