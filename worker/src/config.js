// team_config: the team's settings as string pairs, behind /connect's `config` and GET/PUT /config.
// The client joins a team only when `config.team_id` is a non-empty string (reference §3.2), which
// the installer or the first client's provisioning PUTs (§3.4).

import { MAX_VALUE_BYTES, chunkJson, jsonColumns, openDatabase, statement, utf8Bytes } from "./d1.js";
import { HttpError, describeType, json, readJsonBody } from "./http.js";
import { advertisedVersions, requireSchema } from "./versions.js";

// Every pair in one statement: a JSON list of [key, value].
const UPSERT = `INSERT INTO team_config (key, value) SELECT ${jsonColumns(2)} FROM json_each(?) WHERE true
ON CONFLICT (key) DO UPDATE SET value = excluded.value`;

export async function readTeamConfig(db) {
  const rows = await db.all("SELECT key, value FROM team_config ORDER BY key");
  return Object.fromEntries(rows.map((row) => [row.key, row.value]));
}

export function teamConfigStatements(entries) {
  return chunkJson(Object.entries(entries)).map((pairs) => statement(UPSERT, JSON.stringify(pairs)));
}

export async function handleGetConfig(request, env) {
  const db = openDatabase(env);
  await requireSchema(env, db);
  return json(200, { config: await readTeamConfig(db), sync_protocol_version: advertisedVersions(env).sync_protocol_version });
}

// PUT /config: a flat object of string values; each pair replaces the stored one.
export async function handlePutConfig(request, env) {
  const body = await readJsonBody(request, env);
  const entries = Object.entries(body);
  if (entries.length === 0) throw new HttpError(400, "Empty config body");
  const wrong = entries.filter(([, value]) => typeof value !== "string");
  if (wrong.length) {
    throw new HttpError(400, `config values must be strings; not: ${wrong.slice(0, 5).map(([key, value]) => `${key.slice(0, 64)} (${describeType(value)})`).join(", ")}`);
  }
  const large = entries.find(([key, value]) => utf8Bytes(key) + utf8Bytes(value) > MAX_VALUE_BYTES - 16);
  if (large) throw new HttpError(413, `config key ${large[0].slice(0, 64)}: over D1's ${MAX_VALUE_BYTES} bytes per value`);
  const db = openDatabase(env);
  await requireSchema(env, db);
  await db.batch(teamConfigStatements(body));
  return json(200, { updated: entries.length });
}
