// @ts-nocheck
// Runs the built Worker on the real workerd through miniflare's API, for `invoke local` and tests.
//
// Options arrive as JSON on stdin (never argv: the team API key must not show in `ps`; it comes
// from the MYCO_TEAM_API_KEY environment variable). Storage persists under `persistRoot`, laid out
// like `wrangler dev --persist-to <dir>` (`<dir>/v3/d1`, `<dir>/v3/kv`), so infra/paths.py can
// predict the D1 file. When workerd is listening, `{"url": ...}` is written to `readyFile`.
// SIGTERM or SIGINT disposes miniflare (which stops workerd) and exits 0.

import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { Log, LogLevel, Miniflare } from "miniflare";

const options = JSON.parse(readFileSync(0, "utf8"));

function workerOptions() {
  const bindings = { ...options.vars };
  if (process.env.MYCO_TEAM_API_KEY) bindings.MYCO_TEAM_API_KEY = process.env.MYCO_TEAM_API_KEY;
  const worker = {
    name: options.name,
    modules: true,
    scriptPath: options.scriptPath,
    ...strykerActivation(options.scriptPath),
    modulesRoot: options.modulesRoot,
    compatibilityDate: options.compatibilityDate,
    compatibilityFlags: options.compatibilityFlags,
    d1Databases: options.d1Databases,
    kvNamespaces: options.kvNamespaces,
    bindings,
  };
  // Stand-ins for the bindings workerd cannot emulate (Vectorize, Workers AI): extra workers,
  // reached through JS RPC service bindings with the same call shape as the real bindings.
  const extraWorkers = (options.serviceWorkers || []).map((service) => ({
    name: service.name,
    modules: true,
    scriptPath: service.scriptPath,
    modulesRoot: service.modulesRoot,
    compatibilityDate: options.compatibilityDate,
    bindings: service.bindings || {},
    ...(service.routes ? { routes: service.routes } : {}),
  }));
  if (options.serviceBindings && Object.keys(options.serviceBindings).length) {
    worker.serviceBindings = options.serviceBindings;
  }
  return [worker, ...extraWorkers];
}

// Mutation testing only (`invoke mutate --module worker`, infra/mutation/stryker_run.py): Stryker
// names the mutant under test in __STRYKER_ACTIVE_MUTANT__, but workerd has no process.env, so the
// id is set on globalThis before the bundle's first statement (the bundle imports nothing).
function strykerActivation(scriptPath) {
  const active = process.env.__STRYKER_ACTIVE_MUTANT__;
  if (!active) return {};
  const activation = `globalThis.__stryker__ = { activeMutant: ${JSON.stringify(active)} };\n`;
  return { script: activation + readFileSync(scriptPath, "utf8") };
}

const mf = new Miniflare({
  workers: workerOptions(),
  host: options.host,
  port: options.port,
  defaultPersistRoot: `${options.persistRoot}/v3`,
  // Never fetch the Request.cf placeholder from workers.cloudflare.com: local means no network.
  cf: false,
  // Lets `/cdn-cgi/handler/scheduled` run the Worker's cron handler on demand (local only: the
  // runtime has no clock-driven cron).
  unsafeTriggerHandlers: Boolean(options.unsafeTriggerHandlers),
  log: new Log(LogLevel.WARN),
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

const url = await mf.ready;
for (const [namespace, entries] of Object.entries(options.kvSeed || {})) {
  const kv = await mf.getKVNamespace(namespace);
  for (const [key, value] of Object.entries(entries)) await kv.put(key, value);
}
writeFileSync(`${options.readyFile}.tmp`, JSON.stringify({ url: url.href }));
renameSync(`${options.readyFile}.tmp`, options.readyFile);
