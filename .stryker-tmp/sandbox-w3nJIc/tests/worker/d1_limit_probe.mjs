// @ts-nocheck
// Test-only: asks the pinned workerd's local D1 to bind N parameters in one statement, for each N
// given as an argument, and prints {"N": "ok" | "<D1 error>"} as JSON. In-memory, no network.

import { Miniflare } from "miniflare";

const script = `export default {
  async fetch(request, env) {
    const count = Number(new URL(request.url).searchParams.get("n"));
    const sql = "SELECT count(*) AS n FROM (VALUES " + Array(count).fill("(?)").join(", ") + ")";
    try {
      await env.DB.prepare(sql).bind(...Array(count).fill(1)).first();
      return new Response("ok");
    } catch (error) {
      return new Response(String(error.message));
    }
  },
};`;

const mf = new Miniflare({ modules: true, script, d1Databases: ["DB"], cf: false, compatibilityDate: "2026-04-01" });
const answers = {};
for (const count of process.argv.slice(2)) {
  answers[count] = await (await mf.dispatchFetch(`http://probe/?n=${count}`)).text();
}
await mf.dispose();
console.log(JSON.stringify(answers));
