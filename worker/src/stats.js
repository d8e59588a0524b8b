// The counters /queue-stats shows: team_sync_stats (one row, id = 1), team_dropped_fields and the
// embedding backlog. Written in one batch after a push's records, so they count what 2xx answers
// said (a push answered 5xx is resent by the client and counted then).

import { jsonColumns, statement } from "./d1.js";

const COUNT_INGEST = `INSERT INTO team_sync_stats (id, enqueued, processed, failed, accepted, rejected, unchanged, dead_lettered, last_run_at, last_error)
VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET enqueued = enqueued + excluded.enqueued, processed = processed + excluded.processed,
  failed = failed + excluded.failed, accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected,
  unchanged = unchanged + excluded.unchanged, dead_lettered = dead_lettered + excluded.dead_lettered,
  last_run_at = excluded.last_run_at, last_error = COALESCE(excluded.last_error, last_error)`;

// Every dropped field of a push in one statement: a JSON list of [table, field, count].
const COUNT_DROPPED = `INSERT INTO team_dropped_fields (table_name, field, count, first_seen_at, last_seen_at)
SELECT ${jsonColumns(3)}, ?, ? FROM json_each(?) WHERE true
ON CONFLICT (table_name, field) DO UPDATE SET count = count + excluded.count, last_seen_at = excluded.last_seen_at`;

// The pushing machine is seen now, with the team key generation it used (a machine that never
// called /connect through this Worker, say after a restore, is registered by its first push).
const TOUCH_NODE = `INSERT INTO nodes (machine_id, last_seen, registered_at, team_key_generation) VALUES (?, ?, ?, ?)
ON CONFLICT (machine_id) DO UPDATE SET last_seen = excluded.last_seen,
  team_key_generation = COALESCE(excluded.team_key_generation, team_key_generation)`;

// The most statements `ingestStatements` returns: the D1 queries a push keeps for its counters.
export const COUNTER_STATEMENTS = 3;

// counts: {received, accepted, rejected, unchanged, deadLettered, lastError}; dropped: Map("table.field" -> n);
// machineId: the push's machine_id, a string or null (readPush answers 400 to anything else);
// keyGeneration: the team key generation the request authenticated with (null: unknown).
export function ingestStatements(counts, dropped, machineId, now, keyGeneration = null) {
  const statements = [
    statement(COUNT_INGEST, counts.received, counts.accepted - counts.deadLettered, counts.rejected + counts.deadLettered,
      counts.accepted, counts.rejected, counts.unchanged, counts.deadLettered, now, counts.lastError),
  ];
  if (dropped.size) {
    const entries = [...dropped].map(([name, count]) => [...splitName(name), count]);
    statements.push(statement(COUNT_DROPPED, now, now, JSON.stringify(entries)));
  }
  if (machineId) statements.push(statement(TOUCH_NODE, machineId, now, now, keyGeneration));
  return statements;
}

function splitName(name) {
  const dot = name.indexOf(".");
  return [name.slice(0, dot), name.slice(dot + 1)];
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
