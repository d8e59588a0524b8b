// The versions the Worker compares: the client protocol window, and the migrations it was built
// with against the ones the database's ledger holds (the schema gate).
//
// Protocol window (reference §2): the Worker speaks SYNC_PROTOCOL_VERSION and accepts clients from
// MIN_COMPAT_CLIENT_VERSION up to it, both Worker variables read per request (a missing minimum
// equals the server version, upstream's historical rule). A body whose `sync_protocol_version` is
// missing passes, as upstream's does; outside the window the answer is upstream's 409 body.
//
// Schema gate: the Worker carries the list of migrations it was built with (schema.json: names and
// sha256, from migrations/). It reads the ledger (wrangler's d1_migrations joined to hyphae's
// checksums) on every request, never cached, so the gate opens after `invoke migrate` without a
// redeploy, and it is open only when
// - the ledger starts with exactly those migrations: same names, same checksums, none missing;
// - anything after them continues the numbering without a gap, each row with its checksum (a newer
//   database that `invoke migrate` applied: migrations are expand-only, lint CON001/CON002, so this
//   Worker still writes every column it knows; the deploy order is migrate, then Worker).
// A missing or edited migration, a stray row (`9999_bogus.sql`), a gap, or a row wrangler wrote
// without a checksum closes it. The Worker never migrates anything itself.

import SCHEMA from "./schema.json";
import { HttpError, describeType } from "./http.js";

const MIGRATION_NAME = /^(\d{4})_[a-z0-9]+(?:_[a-z0-9]+)*\.sql$/;
const BUILT_MIGRATIONS = SCHEMA.migrations;

const readInteger = (value) => {
  const parsed = Number.parseInt(String(value ?? ""), 10);
  return Number.isInteger(parsed) ? parsed : null;
};

export const builtSchemaVersion = (env) => readInteger(env.MYCO_SCHEMA_VERSION);

export function protocolWindow(env) {
  const server = readInteger(env.SYNC_PROTOCOL_VERSION);
  const minimum = readInteger(env.MIN_COMPAT_CLIENT_VERSION) ?? server;
  return { server, minimum };
}

export function advertisedVersions(env) {
  const { server, minimum } = protocolWindow(env);
  return { sync_protocol_version: server, min_compat_client_version: minimum };
}

// Throws 409 (upstream's body) when the body's version is outside the window; 400 when it is
// there but not an integer. A missing version passes.
export function requireProtocolWindow(env, body) {
  const received = body.sync_protocol_version;
  if (received === undefined || received === null) return;
  if (!Number.isSafeInteger(received)) {
    const shown = typeof received === "string" ? ` ${JSON.stringify(received.slice(0, 16))}` : "";
    throw new HttpError(400, `sync_protocol_version must be an integer (the client sends 3), not ${describeType(received)}${shown}`);
  }
  const { server, minimum } = protocolWindow(env);
  if (server === null) throw new HttpError(503, "SYNC_PROTOCOL_VERSION is not set on this Worker");
  if (received < minimum || received > server) {
    throw new HttpError(409, "protocol_version_unsupported", {
      message: `client sync protocol ${received} is outside the window this Worker accepts (${minimum} to ${server})`,
      sync_protocol_version: server,
      min_compat_client_version: minimum,
    });
  }
}

const shortName = (name) => (String(name).length > 64 ? `${String(name).slice(0, 64)}…` : String(name));

// The ledger, ordered by name (= by version): [{name, sha256 | null}]. An empty list when the
// database has no ledger; sha256 is null for rows wrangler wrote that hyphae never checksummed.
export async function readLedger(db) {
  try {
    return await db.all(`SELECT d.name AS name, h.sha256 AS sha256 FROM d1_migrations AS d
      LEFT JOIN hyphae_migrations AS h ON h.name = d.name ORDER BY d.name`);
  } catch (error) {
    const message = String(error && error.message);
    if (/no such table: d1_migrations/i.test(message)) return [];
    if (!/no such table: hyphae_migrations/i.test(message)) throw error;
  }
  return db.all("SELECT name, NULL AS sha256 FROM d1_migrations ORDER BY name");
}

const versionOf = (name) => {
  const match = MIGRATION_NAME.exec(String(name));
  return match ? Number.parseInt(match[1], 10) : null;
};

// The gate's verdict on a ledger: {state, open, applied, reason}. `state` is current, ahead (open),
// behind or mismatch (closed); `applied` is the highest version the ledger names.
export function judgeLedger(ledger, built = BUILT_MIGRATIONS) {
  const applied = Math.max(0, ...ledger.map((row) => versionOf(row.name) ?? 0));
  const verdict = (state, reason = null) => ({ state, open: state === "current" || state === "ahead", applied, reason });
  for (const [index, migration] of built.entries()) {
    const row = ledger[index];
    if (!row) {
      return verdict("behind", `the database has ${index} of the ${built.length} migrations this Worker was built with; `
        + `run the migrations (next: ${migration.name})`);
    }
    if (row.name !== migration.name) {
      const recorded = ledger.some((entry) => entry.name === migration.name);
      return verdict("mismatch", recorded
        ? `the ledger has ${shortName(row.name)} where this Worker expects ${migration.name}`
        : `the ledger lacks ${migration.name} but has ${shortName(row.name)} after it; run \`invoke status\``);
    }
    if (row.sha256 === null) {
      return verdict("mismatch", `${migration.name} was recorded without a checksum (applied by wrangler?); run \`invoke migrate --adopt\``);
    }
    if (row.sha256 !== migration.sha256) {
      return verdict("mismatch", `${migration.name} was applied with another checksum than this Worker was built with; run \`invoke status\``);
    }
  }
  let expected = built.length ? versionOf(built[built.length - 1].name) + 1 : 1;
  for (const row of ledger.slice(built.length)) {
    if (versionOf(row.name) !== expected || row.sha256 === null) {
      return verdict("mismatch", `the ledger has ${shortName(row.name)}, which is not migration ${String(expected).padStart(4, "0")} `
        + "applied by `invoke migrate` after the ones this Worker was built with; run `invoke status`");
    }
    expected += 1;
  }
  return verdict(ledger.length > built.length ? "ahead" : "current");
}

// Writes and reads of synced tables are refused (503, the client resends) unless the gate is open;
// returns nothing (the callers only need it not to throw).
export async function requireSchema(env, db) {
  const built = builtSchemaVersion(env);
  if (built === null) throw new HttpError(503, "MYCO_SCHEMA_VERSION is not set on this Worker");
  let ledger;
  try {
    ledger = await readLedger(db);
  } catch (error) {
    // A ledger the Worker cannot read is a gate that cannot say "open": refuse, and say why.
    throw new HttpError(503, `cannot read the migration ledger d1_migrations (${error.message}); check it with \`invoke status\``);
  }
  const verdict = judgeLedger(ledger);
  if (!verdict.open) {
    const headline = verdict.state === "behind"
      ? `database schema is at version ${verdict.applied}, this Worker needs version ${built}; run the migrations`
      : `the database's migrations are not the ones this Worker was built with: ${verdict.reason}`;
    throw new HttpError(503, headline, {
      schema_version_required: built,
      schema_version_applied: verdict.applied,
      schema_state: verdict.state,
      schema_reason: verdict.reason,
    });
  }
}
