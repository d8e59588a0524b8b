-- 0007 protocol 3: the four tables client protocol 3 syncs, and prompt_batches' thread columns.
-- Columns mirror the fields the client sends (contract/myco-client.yaml); only the key columns are
-- NOT NULL, so a record whose optional field is missing is stored, never refused by the database.
-- thread_id and thread_label come from clients at local schema v71 and later (null on the main thread).

ALTER TABLE prompt_batches ADD COLUMN thread_id TEXT;
ALTER TABLE prompt_batches ADD COLUMN thread_label TEXT;

CREATE TABLE IF NOT EXISTS skill_lineage (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    project_id TEXT,
    skill_id TEXT,
    generation INTEGER,
    action TEXT,
    rationale TEXT,
    source_ids_added TEXT,
    content_snapshot TEXT,
    created_at INTEGER,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE TABLE IF NOT EXISTS okf_generations (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    project_id TEXT,
    generation INTEGER,
    run_id TEXT,
    status TEXT,
    plan TEXT,
    page_count INTEGER,
    log_summary TEXT,
    inputs_hash TEXT,
    last_run_ref TEXT,
    findings TEXT,
    created_at INTEGER,
    updated_at INTEGER,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE TABLE IF NOT EXISTS okf_pages (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    project_id TEXT,
    path TEXT,
    type TEXT,
    title TEXT,
    description TEXT,
    tags TEXT,
    status TEXT,
    generation INTEGER,
    created_at INTEGER,
    updated_at INTEGER,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE TABLE IF NOT EXISTS okf_page_revisions (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    project_id TEXT,
    page_id TEXT,
    page_generation INTEGER,
    bundle_generation_id TEXT,
    action TEXT,
    rationale TEXT,
    frontmatter TEXT,
    body TEXT,
    created_at INTEGER,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE INDEX IF NOT EXISTS idx_skill_lineage_project_id ON skill_lineage (project_id);
CREATE INDEX IF NOT EXISTS idx_skill_lineage_skill_id ON skill_lineage (skill_id);
CREATE INDEX IF NOT EXISTS idx_okf_generations_project_id ON okf_generations (project_id);
CREATE INDEX IF NOT EXISTS idx_okf_pages_project_id ON okf_pages (project_id);
CREATE INDEX IF NOT EXISTS idx_okf_page_revisions_project_id ON okf_page_revisions (project_id);
CREATE INDEX IF NOT EXISTS idx_okf_page_revisions_page_id ON okf_page_revisions (page_id);
