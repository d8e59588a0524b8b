// The two versions the Worker compares: the schema it was built for and the one the database has.
//
// The applied version is read from the wrangler-compatible ledger `d1_migrations` (id, name,
// applied_at; hyphae adds columns) on every request, never cached: after `invoke migrate` the
// gate opens without a redeploy. The Worker never migrates anything itself (upstream's lazy
// migration on first request is what let in-flight requests hit half-migrated schemas).

import { HttpError } from "./http.js";

const LEDGER_NAME = /^(\d{4})_/;

export function builtSchemaVersion(env) {
  const version = Number.parseInt(String(env.MYCO_SCHEMA_VERSION ?? ""), 10);
  return Number.isInteger(version) ? version : null;
}

export function protocolVersion(env) {
  const version = Number.parseInt(String(env.SYNC_PROTOCOL_VERSION ?? ""), 10);
  return Number.isInteger(version) ? version : null;
}

export async function readAppliedSchemaVersion(db) {
  let rows;
  try {
    ({ results: rows } = await db.prepare("SELECT name FROM d1_migrations").all());
  } catch (error) {
    if (/no such table/i.test(String(error && error.message))) return 0;
    throw error;
  }
  let applied = 0;
  for (const row of rows) {
    const match = LEDGER_NAME.exec(String(row.name));
    if (match) applied = Math.max(applied, Number.parseInt(match[1], 10));
  }
  return applied;
}

// Writes are refused (503) until the database has at least the schema this Worker was built for.
// A newer database is fine: migrations are additive while old and new Workers overlap.
export async function requireSchema(env) {
  if (!env.MYCO_TEAM_DB) throw new HttpError(503, "the D1 binding MYCO_TEAM_DB is missing");
  const built = builtSchemaVersion(env);
  let applied;
  try {
    applied = await readAppliedSchemaVersion(env.MYCO_TEAM_DB);
  } catch (error) {
    // A ledger the Worker cannot read is a gate that cannot say "open": refuse writes, and say why.
    throw new HttpError(503, `cannot read the migration ledger d1_migrations (${error.message}); check it with \`invoke status\``);
  }
  if (built === null) throw new HttpError(503, "MYCO_SCHEMA_VERSION is not set on this Worker");
  if (applied < built) {
    throw new HttpError(
      503,
      `database schema is at version ${applied}, this Worker needs version ${built}; run the migrations`,
      { schema_version_required: built, schema_version_applied: applied },
    );
  }
  return { built, applied };
}

export function requireProtocol(env, body) {
  const expected = protocolVersion(env);
  const received = body.sync_protocol_version ?? null;
  if (received !== expected) {
    throw new HttpError(409, `sync protocol mismatch: the Worker speaks ${expected}, the client sent ${received}`, {
      expected,
      received,
    });
  }
}
