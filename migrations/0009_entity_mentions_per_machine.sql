-- 0009 entity mentions per machine: the key of entity_mentions gains machine_id.
-- Every other synced table is keyed (id, machine_id), so one teammate's push can only touch its
-- own rows. entity_mentions was unique on (entity_id, note_id, note_type, agent_id) alone: an
-- upsert from a second machine took the first one's row over (its machine_id rewritten) and a
-- delete from any machine removed it. Keyed with machine_id, each machine has its own row.
-- The table is rebuilt the SQLite way (a UNIQUE constraint cannot be altered): create the new
-- shape, copy every row, drop the old table, rename the new one and recreate its index, in one
-- D1 batch, so no Worker ever sees a state between those steps. Existing rows are unique on the
-- old key, so they are unique on the new one too.

CREATE TABLE IF NOT EXISTS entity_mentions_per_machine (
    entity_id TEXT NOT NULL,
    note_id TEXT NOT NULL,
    note_type TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    synced_at INTEGER,
    project_id TEXT,
    UNIQUE (entity_id, note_id, note_type, agent_id, machine_id)
);
INSERT INTO entity_mentions_per_machine (entity_id, note_id, note_type, agent_id, machine_id, synced_at, project_id)
SELECT entity_id, note_id, note_type, agent_id, machine_id, synced_at, project_id
FROM entity_mentions;
DROP TABLE entity_mentions;
ALTER TABLE entity_mentions_per_machine RENAME TO entity_mentions;
CREATE INDEX IF NOT EXISTS idx_entity_mentions_project_id ON entity_mentions (project_id);
