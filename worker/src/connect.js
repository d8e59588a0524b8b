// POST /connect: a node (one teammate's daemon) registers or refreshes itself in `nodes`.

import { HttpError, json, readJsonBody } from "./http.js";
import { requireProtocol, requireSchema } from "./versions.js";

const UPSERT_NODE = `INSERT INTO nodes (machine_id, package_version, schema_version, sync_protocol_version, last_seen, registered_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (machine_id) DO UPDATE SET
  package_version = excluded.package_version,
  schema_version = excluded.schema_version,
  sync_protocol_version = excluded.sync_protocol_version,
  last_seen = excluded.last_seen`;

function optionalInteger(body, key) {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value)) throw new HttpError(400, `${key} must be an integer`);
  return value;
}

export async function handleConnect(request, env) {
  const body = await readJsonBody(request);
  requireProtocol(env, body);
  const versions = await requireSchema(env);
  if (typeof body.machine_id !== "string" || body.machine_id.length === 0) {
    throw new HttpError(400, "machine_id (a non-empty string) is required");
  }
  const packageVersion = body.package_version == null ? null : String(body.package_version);
  const now = Math.floor(Date.now() / 1000);
  await env.MYCO_TEAM_DB.prepare(UPSERT_NODE)
    .bind(body.machine_id, packageVersion, optionalInteger(body, "schema_version"), body.sync_protocol_version, now, now)
    .run();
  return json(200, {
    ok: true,
    machine_id: body.machine_id,
    sync_protocol_version: body.sync_protocol_version,
    schema_version: versions.built,
    vectorize: env.MYCO_TEAM_VECTORS ? "bound" : "unbound",
  });
}
