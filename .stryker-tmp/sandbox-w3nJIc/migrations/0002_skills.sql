-- 0002 skills: skill tables, and new prompt_batches / plans columns.
-- The columns are added before the indexes that use them: upstream shipped the
-- prompt_batches(parent_prompt_batch_id) index first, and every existing database failed with
-- "no such column" until a later release reordered it (ORD002 catches that).

CREATE TABLE IF NOT EXISTS skill_candidates (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    rationale TEXT NOT NULL,
    confidence REAL NOT NULL DEFAULT 0.0,
    status TEXT NOT NULL DEFAULT 'identified',
    source_ids TEXT NOT NULL DEFAULT '[]',
    skill_id TEXT,
    supersedes TEXT,
    approved_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE TABLE IF NOT EXISTS skill_records (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    generation INTEGER NOT NULL DEFAULT 1,
    candidate_id TEXT,
    source_ids TEXT NOT NULL DEFAULT '[]',
    path TEXT NOT NULL,
    usage_count INTEGER NOT NULL DEFAULT 0,
    last_used_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE TABLE IF NOT EXISTS skill_usage (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    skill_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    detected_at INTEGER NOT NULL,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

ALTER TABLE prompt_batches ADD COLUMN parent_prompt_batch_id INTEGER;
ALTER TABLE prompt_batches ADD COLUMN kind TEXT NOT NULL DEFAULT 'initial';
ALTER TABLE plans ADD COLUMN logical_key TEXT;

CREATE INDEX IF NOT EXISTS idx_plans_logical_key ON plans (logical_key);
CREATE INDEX IF NOT EXISTS idx_prompt_batches_parent ON prompt_batches (parent_prompt_batch_id);
CREATE INDEX IF NOT EXISTS idx_skill_candidates_status ON skill_candidates (status);
CREATE INDEX IF NOT EXISTS idx_skill_records_status ON skill_records (status);
CREATE INDEX IF NOT EXISTS idx_skill_records_name_machine ON skill_records (name, machine_id);
CREATE INDEX IF NOT EXISTS idx_skill_usage_skill_id ON skill_usage (skill_id);
