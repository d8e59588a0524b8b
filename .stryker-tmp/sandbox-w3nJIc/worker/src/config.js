// @ts-nocheck
// team_config: the team's settings as string pairs, behind /connect's `config` and GET/PUT /config.
// The client joins a team only when `config.team_id` is a non-empty string (reference §3.2), which
// the installer or the first client's provisioning PUTs (§3.4).

import { openDatabase, statement } from "./d1.js";
import { HttpError, json, readJsonBody } from "./http.js";
import { advertisedVersions, requireSchema } from "./versions.js";

const UPSERT = "INSERT INTO team_config (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

export async function readTeamConfig(db) {
  const rows = await db.all("SELECT key, value FROM team_config ORDER BY key");
  return Object.fromEntries(rows.map((row) => [row.key, row.value]));
}

export function teamConfigStatements(entries) {
  return Object.entries(entries).map(([key, value]) => statement(UPSERT, key, value));
}

export async function handleGetConfig(request, env) {
  const db = openDatabase(env);
  await requireSchema(env, db);
  return json(200, { config: await readTeamConfig(db), sync_protocol_version: advertisedVersions(env).sync_protocol_version });
}

// PUT /config: a flat object of string values; each pair replaces the stored one.
export async function handlePutConfig(request, env) {
  const body = await readJsonBody(request);
  const entries = Object.entries(body);
  if (entries.length === 0) throw new HttpError(400, "Empty config body");
  const wrong = entries.filter(([, value]) => typeof value !== "string").map(([key]) => key);
  if (wrong.length) throw new HttpError(400, `config values must be strings; not: ${wrong.join(", ")}`);
  const db = openDatabase(env);
  await requireSchema(env, db);
  await db.batch(teamConfigStatements(body));
  return json(200, { updated: entries.length });
}
