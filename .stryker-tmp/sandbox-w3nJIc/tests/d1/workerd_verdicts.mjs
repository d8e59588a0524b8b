// @ts-nocheck
// Runs statements in the real workerd D1 (miniflare from node_modules) and prints each verdict.
// stdin: JSON {"setup": [sql, ...], "statements": [sql, ...], "functions": [[name, nargs], ...]}
// stdout: JSON {"statements": [{"ok": bool, "error": string}], "functions": {name: "allowed"|"denied"}}
// One Miniflare for the whole corpus; each statement runs alone (prepare(sql).run()), in order.
import { Miniflare } from "miniflare";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const script = "export default { async fetch() { return new Response('ok'); } }";
const mf = new Miniflare({ modules: true, script, d1Databases: ["DB"] });
try {
  const db = await mf.getD1Database("DB");
  for (const sql of input.setup) await db.prepare(sql).run();
  const statements = [];
  for (const sql of input.statements) {
    try {
      await db.prepare(sql).run();
      statements.push({ ok: true, error: "" });
    } catch (error) {
      statements.push({ ok: false, error: String(error && error.message ? error.message : error) });
    }
  }
  const functions = {};
  for (const [name, nargs] of input.functions || []) {
    const args = Array.from({ length: Math.max(nargs, 0) }, () => "1").join(", ");
    try {
      await db.prepare(`SELECT ${name}(${args})`).run();
      functions[name] = functions[name] === "denied" ? "denied" : "allowed";
    } catch (error) {
      const message = String(error && error.message ? error.message : error);
      functions[name] = /not authorized/i.test(message) ? "denied" : (functions[name] || "allowed");
    }
  }
  process.stdout.write(JSON.stringify({ statements, functions }));
} finally {
  await mf.dispose();
}
