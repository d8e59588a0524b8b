// @ts-nocheck
// The real workerd D1 (miniflare from node_modules) on a persisted database, for the backup tests.
// stdin: JSON {"persist": dir, "databaseId": id, "steps": [{"run": [sql, ...]} | {"export": true}]}
//   run:    each statement alone (prepare(sql).run()), in order; stops at the first refusal
//   export: D1's export as miniflare implements it (PRAGMA miniflare_d1_export, what
//           `wrangler d1 export --local` runs), statements as a list
// stdout: JSON {"steps": [{"ok": bool, "error": string, "ran": n} | {"statements": [...]}]}
// The database file is <persist>/v3/d1/miniflare-D1DatabaseObject/<id hash>.sqlite, as wrangler
// lays it out (infra/paths.py local_d1_file).
import { Miniflare } from "miniflare";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const mf = new Miniflare({
  modules: true,
  script: "export default {}",
  d1Persist: `${input.persist}/v3/d1`,
  d1Databases: { DB: input.databaseId },
});
try {
  const db = await mf.getD1Database("DB");
  const steps = [];
  for (const step of input.steps) {
    if (step.export) {
      const dump = await db.prepare("PRAGMA miniflare_d1_export(?,?,?);").bind(0, 0).raw();
      steps.push({ statements: dump[0] });
      continue;
    }
    let ran = 0;
    let error = "";
    for (const sql of step.run) {
      try {
        await db.prepare(sql).run();
        ran += 1;
      } catch (caught) {
        error = String(caught && caught.message ? caught.message : caught);
        break;
      }
    }
    steps.push({ ok: !error, error, ran });
  }
  process.stdout.write(JSON.stringify({ steps }));
} finally {
  await mf.dispose();
}
