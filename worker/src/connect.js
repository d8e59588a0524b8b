// POST /connect: a node (one teammate's daemon) registers or refreshes itself in `nodes` (with the
// generation of the team key it used, never the key) and gets the team config and the MCP token
// (created on the first /connect). Reference §3.2.
//
// Every field is checked before D1 sees it: a field of the wrong type is 400, one D1 could not
// store is 413 (never a 500 from the database).

import { keyGenerationOf } from "./auth.js";
import { readTeamConfig } from "./config.js";
import { openDatabase, statement } from "./d1.js";
import { HttpError, describeType, json, nowSeconds, optionalString, readJsonBody, requireString } from "./http.js";
import { ensureMcpToken } from "./mcp_token.js";
import { advertisedVersions, requireProtocolWindow, requireSchema } from "./versions.js";

const UPSERT_NODE = `INSERT INTO nodes (machine_id, package_version, schema_version, sync_protocol_version, last_seen, registered_at, team_key_generation)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (machine_id) DO UPDATE SET
  package_version = COALESCE(excluded.package_version, package_version),
  schema_version = COALESCE(excluded.schema_version, schema_version),
  sync_protocol_version = COALESCE(excluded.sync_protocol_version, sync_protocol_version),
  last_seen = excluded.last_seen,
  team_key_generation = COALESCE(excluded.team_key_generation, team_key_generation)`;
const MAX_MACHINE_ID_BYTES = 1024; // as for records (records.js MAX_KEY_BYTES)

const nonEmpty = (value) => (value === null || value.length === 0 ? null : value);

function optionalInteger(value, name) {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value)) throw new HttpError(400, `${name} must be an integer, not ${describeType(value)}`);
  return value;
}

function readNode(body) {
  const machineId = requireString(body.machine_id, "machine_id");
  if (new TextEncoder().encode(machineId).length > MAX_MACHINE_ID_BYTES) {
    throw new HttpError(413, `machine_id is over ${MAX_MACHINE_ID_BYTES} bytes`);
  }
  // vault_name and agent are sent by the client and not stored; they are checked all the same.
  optionalString(body.vault_name, "vault_name");
  optionalString(body.agent, "agent");
  // The current client sends `version` (its own); older tools sent `package_version`.
  const packageVersion = nonEmpty(optionalString(body.package_version, "package_version")) ?? nonEmpty(optionalString(body.version, "version"));
  return {
    machineId,
    packageVersion,
    schemaVersion: optionalInteger(body.schema_version, "schema_version"),
    protocol: optionalInteger(body.sync_protocol_version, "sync_protocol_version"),
  };
}

export async function handleConnect(request, env) {
  const body = await readJsonBody(request, env);
  requireProtocolWindow(env, body);
  const node = readNode(body);
  const db = openDatabase(env);
  await requireSchema(env, db);
  const now = nowSeconds();
  await db.batch([statement(UPSERT_NODE, node.machineId, node.packageVersion, node.schemaVersion, node.protocol, now, now,
    keyGenerationOf(request))]);
  const [config, token] = await Promise.all([readTeamConfig(db), ensureMcpToken(request, env, db)]);
  return json(200, {
    status: "connected",
    ...advertisedVersions(env),
    config,
    mcp_token: token,
    mcp_endpoint: "/mcp",
  });
}
