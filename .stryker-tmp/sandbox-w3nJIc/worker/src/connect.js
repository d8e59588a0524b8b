// @ts-nocheck
// POST /connect: a node (one teammate's daemon) registers or refreshes itself in `nodes` and gets
// the team config and the MCP token (created on the first /connect). Reference §3.2.

import { readTeamConfig } from "./config.js";
import { openDatabase, statement } from "./d1.js";
import { json, nowSeconds, readJsonBody, requireString } from "./http.js";
import { ensureMcpToken } from "./mcp_token.js";
import { advertisedVersions, requireProtocolWindow, requireSchema } from "./versions.js";

const UPSERT_NODE = `INSERT INTO nodes (machine_id, package_version, schema_version, sync_protocol_version, last_seen, registered_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (machine_id) DO UPDATE SET
  package_version = COALESCE(excluded.package_version, package_version),
  schema_version = COALESCE(excluded.schema_version, schema_version),
  sync_protocol_version = COALESCE(excluded.sync_protocol_version, sync_protocol_version),
  last_seen = excluded.last_seen`;

const optionalText = (value) => (typeof value === "string" && value.length ? value : null);
const optionalInteger = (value) => (Number.isInteger(value) ? value : null);

export async function handleConnect(request, env) {
  const body = await readJsonBody(request);
  requireProtocolWindow(env, body);
  const db = openDatabase(env);
  await requireSchema(env, db);
  const machineId = requireString(body.machine_id, "machine_id");
  const now = nowSeconds();
  // The current client sends `version` (its own); older tools sent `package_version`.
  const node = statement(UPSERT_NODE, machineId, optionalText(body.package_version) ?? optionalText(body.version),
    optionalInteger(body.schema_version), optionalInteger(body.sync_protocol_version), now, now);
  await db.batch([node]);
  const [config, token] = await Promise.all([readTeamConfig(db), ensureMcpToken(env)]);
  return json(200, {
    status: "connected",
    ...advertisedVersions(env),
    config,
    mcp_token: token,
    mcp_endpoint: "/mcp",
  });
}
