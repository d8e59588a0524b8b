-- 0004 team operations: members, sync statistics (a single row) and the dead-letter queue.

CREATE TABLE IF NOT EXISTS team_members (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    "user" TEXT NOT NULL,
    role TEXT,
    joined TEXT,
    tags TEXT,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE TABLE IF NOT EXISTS team_sync_stats (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    enqueued INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    last_run_at INTEGER,
    last_error TEXT
);

CREATE TABLE IF NOT EXISTS team_dlq (
    lease_id TEXT NOT NULL PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT,
    created_at INTEGER NOT NULL
);
