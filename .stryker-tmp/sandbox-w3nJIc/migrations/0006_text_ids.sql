-- 0006 text ids: prompt_batches, digest_extracts and knowledge_release_state get TEXT ids.
-- Since local schema v73 the Myco client sends text ids for these tables (pbat_…, digest_…,
-- krel_…) and older vaults send their integer ids as digit strings ("123"). The INTEGER columns
-- of 0001/0003 keep "pbat_…" as text but turn "123" into the integer 123, so a manifest would
-- list an id the client does not string-compare as its own, and the client would delete its row
-- (reference §3.7, §7.8). As TEXT columns they keep exactly the string the client sent; the copy
-- below turns the integer ids already stored into the same digit strings.
-- Each table is rebuilt the SQLite way: create the new shape, copy every row, drop the old table,
-- rename the new one and recreate its indexes. The migration is one D1 batch, so no Worker ever
-- sees a state between those steps.

CREATE TABLE IF NOT EXISTS prompt_batches_text_ids (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    prompt_number INTEGER,
    user_prompt TEXT,
    response_summary TEXT,
    classification TEXT,
    started_at INTEGER,
    ended_at INTEGER,
    status TEXT DEFAULT 'active',
    activity_count INTEGER DEFAULT 0,
    processed INTEGER DEFAULT 0,
    content_hash TEXT,
    created_at INTEGER NOT NULL,
    synced_at INTEGER,
    parent_prompt_batch_id TEXT,
    kind TEXT NOT NULL DEFAULT 'initial',
    project_id TEXT,
    origin TEXT NOT NULL DEFAULT 'human',
    PRIMARY KEY (id, machine_id)
);
INSERT INTO prompt_batches_text_ids (id, machine_id, session_id, prompt_number, user_prompt, response_summary,
    classification, started_at, ended_at, status, activity_count, processed, content_hash, created_at, synced_at,
    parent_prompt_batch_id, kind, project_id, origin)
SELECT id, machine_id, session_id, prompt_number, user_prompt, response_summary,
    classification, started_at, ended_at, status, activity_count, processed, content_hash, created_at, synced_at,
    parent_prompt_batch_id, kind, project_id, origin
FROM prompt_batches;
-- hyphae: allow SAFE001 table rebuild: every row was copied into prompt_batches_text_ids by the INSERT above, in the same batch
DROP TABLE prompt_batches;
ALTER TABLE prompt_batches_text_ids RENAME TO prompt_batches;
CREATE INDEX IF NOT EXISTS idx_prompt_batches_parent ON prompt_batches (parent_prompt_batch_id);
CREATE INDEX IF NOT EXISTS idx_prompt_batches_project_id ON prompt_batches (project_id);
CREATE INDEX IF NOT EXISTS idx_prompt_batches_project_created ON prompt_batches (project_id, created_at);
CREATE INDEX IF NOT EXISTS idx_prompt_batches_project_origin_created ON prompt_batches (project_id, origin, created_at);

CREATE TABLE IF NOT EXISTS digest_extracts_text_ids (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    tier INTEGER NOT NULL,
    content TEXT NOT NULL,
    substrate_hash TEXT,
    generated_at INTEGER NOT NULL,
    synced_at INTEGER,
    project_id TEXT,
    PRIMARY KEY (id, machine_id)
);
INSERT INTO digest_extracts_text_ids (id, machine_id, agent_id, tier, content, substrate_hash, generated_at, synced_at, project_id)
SELECT id, machine_id, agent_id, tier, content, substrate_hash, generated_at, synced_at, project_id
FROM digest_extracts;
-- hyphae: allow SAFE001 table rebuild: every row was copied into digest_extracts_text_ids by the INSERT above, in the same batch
DROP TABLE digest_extracts;
ALTER TABLE digest_extracts_text_ids RENAME TO digest_extracts;
CREATE INDEX IF NOT EXISTS idx_digest_extracts_project_id ON digest_extracts (project_id);

CREATE TABLE IF NOT EXISTS knowledge_release_state_text_ids (
    id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    project_id TEXT,
    identity_key TEXT NOT NULL,
    namespace TEXT NOT NULL,
    record_id TEXT NOT NULL,
    source_session_id TEXT,
    source_prompt_batch_id TEXT,
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
INSERT INTO knowledge_release_state_text_ids (id, machine_id, project_id, identity_key, namespace, record_id,
    source_session_id, source_prompt_batch_id, state, confidence, basis_kind, basis_ref, basis_sha,
    release_pr_number, reason, checked_at, created_at, updated_at, synced_at)
SELECT id, machine_id, project_id, identity_key, namespace, record_id,
    source_session_id, source_prompt_batch_id, state, confidence, basis_kind, basis_ref, basis_sha,
    release_pr_number, reason, checked_at, created_at, updated_at, synced_at
FROM knowledge_release_state;
-- hyphae: allow SAFE001 table rebuild: every row was copied into knowledge_release_state_text_ids by the INSERT above, in the same batch
DROP TABLE knowledge_release_state;
ALTER TABLE knowledge_release_state_text_ids RENAME TO knowledge_release_state;
CREATE INDEX IF NOT EXISTS idx_knowledge_release_state_project_id ON knowledge_release_state (project_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_release_state_record ON knowledge_release_state (namespace, record_id, machine_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_release_state_state ON knowledge_release_state (state, confidence);
