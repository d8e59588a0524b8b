-- 0003 project scoping: project_id (format proj_ + 32 hex) on every synced table, with its index;
-- prompt_batches.origin; skill candidate reconciliation columns; knowledge_release_state.
-- Additive only: Workers built for 0002 keep working while this deploy rolls out.

ALTER TABLE sessions ADD COLUMN project_id TEXT;
ALTER TABLE prompt_batches ADD COLUMN project_id TEXT;
ALTER TABLE spores ADD COLUMN project_id TEXT;
ALTER TABLE entities ADD COLUMN project_id TEXT;
ALTER TABLE graph_edges ADD COLUMN project_id TEXT;
ALTER TABLE plans ADD COLUMN project_id TEXT;
ALTER TABLE artifacts ADD COLUMN project_id TEXT;
ALTER TABLE entity_mentions ADD COLUMN project_id TEXT;
ALTER TABLE resolution_events ADD COLUMN project_id TEXT;
ALTER TABLE digest_extracts ADD COLUMN project_id TEXT;
ALTER TABLE skill_candidates ADD COLUMN project_id TEXT;
ALTER TABLE skill_records ADD COLUMN project_id TEXT;
ALTER TABLE skill_usage ADD COLUMN project_id TEXT;

ALTER TABLE prompt_batches ADD COLUMN origin TEXT NOT NULL DEFAULT 'human';

ALTER TABLE skill_candidates ADD COLUMN evidence_bundle_id TEXT;
ALTER TABLE skill_candidates ADD COLUMN quality_score REAL;
ALTER TABLE skill_candidates ADD COLUMN quality_failures TEXT NOT NULL DEFAULT '[]';
ALTER TABLE skill_candidates ADD COLUMN coverage_matches TEXT NOT NULL DEFAULT '[]';
ALTER TABLE skill_candidates ADD COLUMN last_reconciled_at INTEGER;
ALTER TABLE skill_candidates ADD COLUMN reconciliation_reason TEXT;

CREATE TABLE IF NOT EXISTS knowledge_release_state (
    id INTEGER NOT NULL,
    machine_id TEXT NOT NULL,
    project_id TEXT,
    identity_key TEXT NOT NULL,
    namespace TEXT NOT NULL,
    record_id TEXT NOT NULL,
    source_session_id TEXT,
    source_prompt_batch_id INTEGER,
    state TEXT NOT NULL,
    confidence TEXT NOT NULL,
    basis_kind TEXT,
    basis_ref TEXT,
    basis_sha TEXT,
    release_pr_number INTEGER,
    reason TEXT,
    checked_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER,
    synced_at INTEGER,
    PRIMARY KEY (id, machine_id)
);

CREATE INDEX IF NOT EXISTS idx_sessions_project_id ON sessions (project_id);
CREATE INDEX IF NOT EXISTS idx_prompt_batches_project_id ON prompt_batches (project_id);
CREATE INDEX IF NOT EXISTS idx_spores_project_id ON spores (project_id);
CREATE INDEX IF NOT EXISTS idx_entities_project_id ON entities (project_id);
CREATE INDEX IF NOT EXISTS idx_graph_edges_project_id ON graph_edges (project_id);
CREATE INDEX IF NOT EXISTS idx_plans_project_id ON plans (project_id);
CREATE INDEX IF NOT EXISTS idx_artifacts_project_id ON artifacts (project_id);
CREATE INDEX IF NOT EXISTS idx_entity_mentions_project_id ON entity_mentions (project_id);
CREATE INDEX IF NOT EXISTS idx_resolution_events_project_id ON resolution_events (project_id);
CREATE INDEX IF NOT EXISTS idx_digest_extracts_project_id ON digest_extracts (project_id);
CREATE INDEX IF NOT EXISTS idx_skill_candidates_project_id ON skill_candidates (project_id);
CREATE INDEX IF NOT EXISTS idx_skill_records_project_id ON skill_records (project_id);
CREATE INDEX IF NOT EXISTS idx_skill_usage_project_id ON skill_usage (project_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_release_state_project_id ON knowledge_release_state (project_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_release_state_record ON knowledge_release_state (namespace, record_id, machine_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_release_state_state ON knowledge_release_state (state, confidence);
CREATE INDEX IF NOT EXISTS idx_sessions_project_created ON sessions (project_id, created_at);
CREATE INDEX IF NOT EXISTS idx_prompt_batches_project_created ON prompt_batches (project_id, created_at);
CREATE INDEX IF NOT EXISTS idx_prompt_batches_project_origin_created ON prompt_batches (project_id, origin, created_at);
