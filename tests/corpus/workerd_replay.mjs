// Replays each corpus history in the real workerd D1 (miniflare from node_modules), one database
// per history, every statement alone (prepare(sql).run()) in order, a failing one skipped.
// stdin: JSON {"histories": {"<name>": ["sql", ...]}}   stdout: JSON {"<name>": [{"ok", "error"}]}
import { Miniflare } from "miniflare";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const names = Object.keys(input.histories);
const bindings = Object.fromEntries(names.map((name, index) => [`DB${index}`, `corpus-${index}`]));
const script = "export default { async fetch() { return new Response('ok'); } }";
const mf = new Miniflare({ modules: true, script, d1Databases: bindings });
try {
  const verdicts = {};
  for (const [index, name] of names.entries()) {
    const db = await mf.getD1Database(`DB${index}`);
    verdicts[name] = [];
    for (const sql of input.histories[name]) {
      try {
        await db.prepare(sql).run();
        verdicts[name].push({ ok: true, error: "" });
      } catch (error) {
        verdicts[name].push({ ok: false, error: String(error && error.message ? error.message : error) });
      }
    }
  }
  process.stdout.write(JSON.stringify(verdicts));
} finally {
  await mf.dispose();
}
