// Bench only (never deployed): upstream's way of storing a push, as the peer `invoke bench --only
// worker` measures hyphae's Worker against. Reference §3.3, §5.6 and §6 (goondocks-co/myco's Worker):
// - POST /enqueue checks the bearer key, reads the body, rejects unknown tables and bad project
//   ids, and writes each record with its own `INSERT OR REPLACE INTO <table> (<keys of data>)`
//   statement, all in one D1 batch (upstream's queue consumer; here inline, since there is no
//   queue locally); when the batch fails, every record is written again one by one;
// - records that carry a content_hash are looked up first (one SELECT per table), equal ones skipped;
// - each embedded text is one Workers AI call; each vector one Vectorize upsert.
// With `?read_body_first=1`, a refused request's body is read whole before the 401 (what hyphae's
// Worker did before issue 13), for the memory comparison.

const PROJECT_ID = /^proj_[0-9a-f]{32}$/;
const EMBEDDED = { sessions: "summary", spores: "content", plans: "content", artifacts: "content", skill_records: "description" };
const TABLES = new Set(["sessions", "prompt_batches", "spores", "entities", "graph_edges", "entity_mentions", "resolution_events",
  "plans", "artifacts", "digest_extracts", "skill_candidates", "skill_records", "skill_usage", "knowledge_release_state",
  "team_members", "skill_lineage", "okf_generations", "okf_pages", "okf_page_revisions"]);
const quote = (name) => `"${name.replaceAll('"', '""')}"`;

function insertFor(env, record) {
  const row = { ...record.data, id: record.id, machine_id: record.machine_id };
  delete row.embedded;
  const keys = Object.keys(row);
  return env.MYCO_TEAM_DB.prepare(`INSERT OR REPLACE INTO ${quote(record.table)} (${keys.map(quote).join(", ")}) VALUES (${keys.map(() => "?").join(", ")})`)
    .bind(...keys.map((key) => row[key]));
}

async function storedHashes(env, records) {
  const hashes = new Map();
  for (const table of new Set(records.filter((record) => record.content_hash).map((record) => record.table))) {
    const ids = records.filter((record) => record.table === table && record.content_hash).map((record) => record.id);
    const { results } = await env.MYCO_TEAM_DB.prepare(`SELECT id, machine_id, content_hash FROM ${quote(table)} WHERE id IN (SELECT value FROM json_each(?))`)
      .bind(JSON.stringify(ids)).all();
    for (const row of results) hashes.set(`${table}:${row.id}:${row.machine_id}`, row.content_hash);
  }
  return hashes;
}

async function embed(env, records) {
  for (const record of records) {
    const field = EMBEDDED[record.table];
    const text = field && record.data[field];
    if (!text) continue;
    try {
      const answer = await env.AI.run("@cf/baai/bge-m3", { text: [text] });
      await env.MYCO_TEAM_VECTORS.upsert([{ id: `${record.table}:${record.id}:${record.machine_id}`.slice(0, 64), values: answer.data[0],
        metadata: { table: record.table, id: record.id, machine_id: record.machine_id } }]);
    } catch {
      // upstream logs and counts embedding failures; the record stays written
    }
  }
}

async function enqueue(request, env) {
  const body = await request.json();
  const rejected = [];
  const valid = [];
  for (const record of body.records || []) {
    if (!TABLES.has(record.table)) rejected.push({ table: record.table, id: record.id, error: `Unknown table: ${record.table}` });
    else if (record.table !== "team_members" && !PROJECT_ID.test(record.data?.project_id)) {
      rejected.push({ table: record.table, id: record.id, error: "Invalid project_id" });
    } else valid.push({ ...record, machine_id: record.machine_id || body.machine_id });
  }
  const hashes = await storedHashes(env, valid);
  const changed = valid.filter((record) => !record.content_hash || hashes.get(`${record.table}:${record.id}:${record.machine_id}`) !== record.content_hash);
  try {
    if (changed.length) await env.MYCO_TEAM_DB.batch(changed.map((record) => insertFor(env, record)));
  } catch {
    for (const record of changed) {
      try {
        await insertFor(env, record).run();
      } catch {
        // upstream retries the message, then dead-letters it; the client was already answered
      }
    }
  }
  await embed(env, changed);
  return Response.json({ accepted: valid.length, rejected });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.headers.get("authorization") !== `Bearer ${env.MYCO_TEAM_API_KEY}`) {
      if (url.searchParams.get("read_body_first") === "1") await request.arrayBuffer();
      return Response.json({ error: "Invalid Team key" }, { status: 401 });
    }
    if (request.method === "POST" && url.pathname === "/enqueue") return enqueue(request, env);
    return Response.json({ error: "Not found" }, { status: 404 });
  },
};
