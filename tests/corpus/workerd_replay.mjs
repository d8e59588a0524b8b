// Replays each corpus history in the real workerd D1 (miniflare from node_modules), one database
// per history and run. Each migration file runs as D1 runs it, one batch (one transaction: deferred
// foreign keys are checked when it commits); a statement that fails is skipped, as hyphae's linter
// skips it to report every problem. Which statement failed: the batch is tried with a sentinel
// statement after each prefix (the sentinel always fails, so nothing of a try is kept), and the
// first prefix whose error is not the sentinel's ends at the failing statement. When every
// statement passes and the commit itself fails, the failure is the last statement's and the file
// is rolled back (D1 rolls back a failed batch).
// Runs: "empty" (tables never seeded, a fresh database) and, for "rows:<text sample>", before each
// migration file one representative row in every empty table, chosen as hyphae's linter chooses it
// (infra/lint/seeding.py): NULL where a column allows it, its default where it has one, else a value
// of its type (1, 1.0, x'00', the text sample); the variants the linter tries when a CHECK refuses
// the row. workerd enforces foreign keys, so rows a child needs are written in rounds (parents first).
// stdin: JSON {"runs": ["empty", "rows:hyphae", ...], "histories": {"<name>": [["sql", ...] per file]}}
// stdout: JSON {"<run>": {"<name>": [null (accepted) | "error message", ... per statement]}}
import { Miniflare } from "miniflare";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const SECOND_TEXT_SAMPLE = "{}";
const names = Object.keys(input.histories);
const databases = input.runs.flatMap((run, r) => names.map((name, h) => `DB_${r}_${h}`));
const script = "export default { async fetch() { return new Response('ok'); } }";
const mf = new Miniflare({ modules: true, script, d1Databases: Object.fromEntries(databases.map((d) => [d, d])) });

function quoted(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

function sampleFor(declared, text) {
  // SQLite's affinity rules, as infra/lint/seeding.py's _seed_value applies them.
  const type = (declared || "").toUpperCase();
  if (type.includes("INT")) return "1";
  if (["CHAR", "CLOB", "TEXT"].some((part) => type.includes(part))) return `'${text.replaceAll("'", "''")}'`;
  if (type.includes("BLOB") || !type) return type ? "x'00'" : "1";
  if (["REAL", "FLOA", "DOUB"].some((part) => type.includes(part))) return "1.0";
  return "1";
}

function isUserTable(name) {
  const lower = name.toLowerCase();
  return !lower.startsWith("sqlite_") && !lower.startsWith("_cf_") && lower !== "d1_migrations" && !lower.startsWith("hyphae_");
}

async function emptyUserTables(db) {
  const tables = (await db.prepare("PRAGMA table_list").all()).results
    .filter((row) => row.schema === "main" && row.type === "table" && isUserTable(row.name));
  const empty = [];
  for (const table of tables) {
    const row = await db.prepare(`SELECT 1 AS one FROM ${quoted(table.name)} LIMIT 1`).first();
    if (row === null) empty.push(table.name);
  }
  return empty;
}

async function insertRepresentativeRow(db, table, text) {
  const columns = (await db.prepare(`PRAGMA table_xinfo(${quoted(table)})`).all()).results;
  const variants = [[false, text], [false, SECOND_TEXT_SAMPLE], [true, text], [true, SECOND_TEXT_SAMPLE]];
  for (const [fillEverything, sample] of variants) {
    const names = [];
    const values = [];
    for (const column of columns) {
      if (column.hidden !== 0 || (column.dflt_value !== null && !fillEverything)) continue;
      if (!column.notnull && !column.pk && !fillEverything) continue; // NULL
      names.push(quoted(column.name));
      values.push(sampleFor(column.type, sample));
    }
    const body = names.length ? `(${names.join(", ")}) VALUES (${values.join(", ")})` : "DEFAULT VALUES";
    try {
      await db.prepare(`INSERT INTO ${quoted(table)} ${body}`).run();
      return true;
    } catch {
      // a CHECK, NOT NULL or foreign key refused this variant: try the next
    }
  }
  return false;
}

async function seed(db, text) {
  let pending = await emptyUserTables(db);
  while (pending.length) { // a child's row may need its parent's row first
    const left = [];
    for (const table of pending) if (!(await insertRepresentativeRow(db, table, text))) left.push(table);
    if (left.length === pending.length) return;
    pending = left;
  }
}

const SENTINEL = "SELECT * FROM hyphae_corpus_sentinel_no_such_table";

function message(error) {
  return String(error && error.message ? error.message : error);
}

// The error of running `statements` as one batch followed by the sentinel (so it is rolled back):
// null when only the sentinel failed.
async function tryBatch(db, statements) {
  try {
    await db.batch([...statements, SENTINEL].map((sql) => db.prepare(sql)));
  } catch (error) {
    return message(error).includes("hyphae_corpus_sentinel_no_such_table") ? null : message(error);
  }
  throw new Error("the sentinel statement did not fail");
}

async function runFile(db, statements) {
  const verdicts = statements.map(() => null);
  let kept = statements.map((sql, index) => ({ sql, index }));
  while (kept.length && (await tryBatch(db, kept.map((s) => s.sql))) !== null) {
    for (let end = 1; end <= kept.length; end++) { // the first prefix that fails ends at the culprit
      const error = await tryBatch(db, kept.slice(0, end).map((s) => s.sql));
      if (error !== null) {
        verdicts[kept[end - 1].index] = error;
        kept = kept.filter((_, position) => position !== end - 1);
        break;
      }
    }
  }
  if (kept.length) {
    try {
      await db.batch(kept.map((s) => db.prepare(s.sql)));
    } catch (error) { // the commit failed (deferred foreign keys): the whole file is rolled back
      verdicts[statements.length - 1] ??= `${message(error)} (when the batch commits)`;
    }
  }
  return verdicts;
}

async function replay(db, files, run) {
  const verdicts = [];
  for (const statements of files) {
    if (run.startsWith("rows:")) await seed(db, run.slice("rows:".length));
    verdicts.push(...(await runFile(db, statements)));
  }
  return verdicts;
}

try {
  const output = {};
  for (const [r, run] of input.runs.entries()) {
    output[run] = {};
    for (const [h, name] of names.entries()) {
      output[run][name] = await replay(await mf.getD1Database(`DB_${r}_${h}`), input.histories[name], run);
    }
  }
  process.stdout.write(JSON.stringify(output));
} finally {
  await mf.dispose();
}
