ALTER TABLE members ADD COLUMN archived_at TEXT;
