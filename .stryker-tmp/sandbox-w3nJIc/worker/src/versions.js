// @ts-nocheck
// The versions the Worker compares: the client protocol window, and the schema it was built for
// against the one the database has.
//
// Protocol window (reference §2): the Worker speaks SYNC_PROTOCOL_VERSION and accepts clients from
// MIN_COMPAT_CLIENT_VERSION up to it, both Worker variables read per request (a missing minimum
// equals the server version, upstream's historical rule). A body whose `sync_protocol_version` is
// missing passes, as upstream's does; outside the window the answer is upstream's 409 body.
//
// Schema: the applied version is read from the wrangler-compatible ledger `d1_migrations` on every
// request, never cached, so the gate opens after `invoke migrate` without a redeploy. The Worker
// never migrates anything itself (upstream's lazy migration on first request is what let
// in-flight requests hit half-migrated schemas).

import { HttpError } from "./http.js";

const LEDGER_NAME = /^(\d{4})_/;

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
// there but not a number. A missing version passes.
export function requireProtocolWindow(env, body) {
  const received = body.sync_protocol_version;
  if (received === undefined || received === null) return;
  if (typeof received !== "number" || !Number.isFinite(received)) {
    throw new HttpError(400, "sync_protocol_version must be a number");
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

export async function readAppliedSchemaVersion(db) {
  let rows;
  try {
    rows = await db.all("SELECT name FROM d1_migrations");
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

// Writes and reads of synced tables are refused (503) until the database has at least the schema
// this Worker was built for. A newer database is fine: migrations are expand-only (lint CON001,
// CON002), so old and new Workers overlap safely.
export async function requireSchema(env, db) {
  const built = builtSchemaVersion(env);
  let applied;
  try {
    applied = await readAppliedSchemaVersion(db);
  } catch (error) {
    // A ledger the Worker cannot read is a gate that cannot say "open": refuse, and say why.
    throw new HttpError(503, `cannot read the migration ledger d1_migrations (${error.message}); check it with \`invoke status\``);
  }
  if (built === null) throw new HttpError(503, "MYCO_SCHEMA_VERSION is not set on this Worker");
  if (applied < built) {
    throw new HttpError(503, `database schema is at version ${applied}, this Worker needs version ${built}; run the migrations`, {
      schema_version_required: built,
      schema_version_applied: applied,
    });
  }
  return { built, applied };
}
