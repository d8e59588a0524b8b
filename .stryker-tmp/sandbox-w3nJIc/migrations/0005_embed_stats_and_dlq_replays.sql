-- 0005 embedding statistics and dead-letter replays: the columns step 5 gained later.
-- Every NOT NULL column has a constant default, so the ALTERs succeed on tables with rows.

ALTER TABLE team_sync_stats ADD COLUMN embed_ok INTEGER NOT NULL DEFAULT 0;
ALTER TABLE team_sync_stats ADD COLUMN embed_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE team_sync_stats ADD COLUMN last_embed_error TEXT;
ALTER TABLE team_sync_stats ADD COLUMN last_embed_at INTEGER;
ALTER TABLE team_dlq ADD COLUMN replay_count INTEGER NOT NULL DEFAULT 0;
