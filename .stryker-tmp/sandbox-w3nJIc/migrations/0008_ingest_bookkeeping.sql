-- 0008 ingest bookkeeping: what /enqueue counts, the fields it drops, the embedding backlog.
-- team_sync_stats gains the counters /queue-stats shows beside upstream's (accepted, rejected,
-- unchanged, dead-lettered records). team_dropped_fields counts the fields a record carried that
-- the contract does not list (a newer client): dropped, never a reason to lose the record.
-- team_embed_backlog holds one job per row whose vector must be written or removed; the Worker
-- drains it after each /enqueue and on its cron trigger, so a failed embedding is retried, never lost.

ALTER TABLE team_sync_stats ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE team_sync_stats ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE team_sync_stats ADD COLUMN unchanged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE team_sync_stats ADD COLUMN dead_lettered INTEGER NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS team_dropped_fields (
    table_name TEXT NOT NULL,
    field TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (table_name, field)
);

CREATE TABLE IF NOT EXISTS team_embed_backlog (
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (table_name, row_id, machine_id)
);

CREATE INDEX IF NOT EXISTS idx_team_embed_backlog_queued ON team_embed_backlog (queued_at);
