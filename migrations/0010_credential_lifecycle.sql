-- 0010 credential lifecycle (docs/credentials.md). Expand-only: one nullable column, one new table.
-- nodes.team_key_generation: the generation of the team key each machine last authenticated
-- with (never the key itself), so an operator sees who still uses the previous key during a
-- rotation's overlap window (`invoke credentials`, `invoke rotate --finish`).
-- team_credential_events: the Worker's audit of the MCP token: when it was created (first
-- /connect) and each rotation (/mcp/rotate), with the client's 8-hex fingerprint of the new token
-- (the hash /health shows; never the token), the team key generation that asked and who says
-- they asked. Written by the Worker, so a rotation from CI, a laptop or the daemon's UI is
-- recorded in one place; drift and `invoke credentials` read the newest row for the token's age.

ALTER TABLE nodes ADD COLUMN team_key_generation INTEGER;

CREATE TABLE IF NOT EXISTS team_credential_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    credential TEXT NOT NULL,
    action TEXT NOT NULL,
    fingerprint TEXT,
    team_key_generation INTEGER,
    actor TEXT,
    at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_team_credential_events_credential ON team_credential_events (credential, id);
