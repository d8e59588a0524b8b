// Runs the built Worker on the real workerd through miniflare's API, for `invoke local` and tests.
//
// Options arrive as one line of JSON on stdin (never argv: the team keys must not show in `ps`; the
// secret bindings named in `secretNames` come from environment variables of the same names).
// Storage persists under `persistRoot`, laid out like `wrangler dev --persist-to <dir>`
// (`<dir>/v3/d1`, `<dir>/v3/kv`), so infra/paths.py can predict the D1 file. When workerd is
// listening, `{"url": ...}` is written to `readyFile`.
//
// Stopping: SIGTERM, SIGINT or SIGHUP, or the end of stdin, disposes miniflare (which stops workerd)
// and exits 0. stdin is the lifeline: the parent (infra/local/runtime.py) keeps it open while it
// wants the Worker, and the system closes it when the parent ends in any way (a signal it could not
// handle, SIGKILL, its terminal closing), so workerd never outlives the command that started it.
//
// `reloadable`: a redeploy with new bindings (a rotated team key) without failing a request.
// miniflare replaces bindings by restarting workerd, which refuses connections meanwhile and
// cuts requests in flight; Cloudflare switches versions without either. So this process then
// serves `port` itself and forwards each request to workerd (on a port of its own): on a `reload`
// line on stdin it reads the new bindings from `reloadFile` (and deletes it), holds new requests,
// waits for the ones in flight, restarts workerd with the new bindings, releases the held
// requests, and writes `<reloadFile>.done`.

import { readdirSync, readFileSync, writeFileSync, renameSync, rmSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";

// The first line of stdin is the options; every later line is a command (`reload`).
const lines = [];
let waiter = null; // {resolve, reject} of the pending nextLine()
let ended = false;
let stdinBuffer = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  stdinBuffer += chunk;
  let end;
  while ((end = stdinBuffer.indexOf("\n")) !== -1) {
    lines.push(stdinBuffer.slice(0, end));
    stdinBuffer = stdinBuffer.slice(end + 1);
  }
  if (waiter && lines.length) {
    const { resolve } = waiter;
    waiter = null;
    resolve(lines.shift());
  }
});
process.stdin.on("end", () => {
  ended = true;
  if (waiter) waiter.reject(new Error("stdin ended"));
  waiter = null;
});

function nextLine() {
  if (lines.length) return Promise.resolve(lines.shift());
  if (ended) return Promise.reject(new Error("stdin ended"));
  return new Promise((resolve, reject) => (waiter = { resolve, reject }));
}

const options = JSON.parse(await nextLine());
const secretNames = options.secretNames || ["MYCO_TEAM_API_KEY"];
let secrets = Object.fromEntries(secretNames.filter((name) => process.env[name]).map((name) => [name, process.env[name]]));

function workerOptions() {
  const bindings = { ...options.vars, ...secrets };
  const worker = {
    name: options.name,
    modules: true,
    scriptPath: options.scriptPath,
    modulesRoot: options.modulesRoot,
    ...strykerActivation(options.scriptPath, options.modulesRoot),
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

// Mutation testing only (`invoke mutate --module worker-auth`, infra/mutation/stryker_run.py):
// Stryker names the mutant under test in __STRYKER_ACTIVE_MUTANT__, but workerd has no process.env.
// So every module of the Worker starts by naming it on globalThis, on the object Stryker's code
// keeps: behind worker/dev/counting.mjs the bundle is an import, evaluated before the entry's
// first statement, so the entry alone naming it would come too late (every mutant inactive).
function strykerActivation(scriptPath, modulesRoot) {
  const active = process.env.__STRYKER_ACTIVE_MUTANT__;
  if (!active) return {};
  const activation = `(globalThis.__stryker__ ??= {}).activeMutant = ${JSON.stringify(active)};\n`;
  const others = readdirSync(modulesRoot).map((name) => path.join(modulesRoot, name))
    .filter((file) => /\.m?js$/.test(file) && path.resolve(file) !== path.resolve(scriptPath));
  const modules = [scriptPath, ...others].map((file) => ({ type: "ESModule", path: file, contents: activation + readFileSync(file, "utf8") }));
  return { modules, scriptPath: undefined };
}

function miniflareOptions() {
  return {
    workers: workerOptions(),
    host: options.host,
    // Reloadable: workerd listens on a port of its own, this process serves `port`.
    port: options.reloadable ? 0 : options.port,
    defaultPersistRoot: `${options.persistRoot}/v3`,
    // Never fetch the Request.cf placeholder from workers.cloudflare.com: local means no network.
    cf: false,
    // Lets `/cdn-cgi/handler/scheduled` run the Worker's cron handler on demand (local only: the
    // runtime has no clock-driven cron).
    unsafeTriggerHandlers: Boolean(options.unsafeTriggerHandlers),
    log: new Log(LogLevel.WARN),
  };
}

const mf = new Miniflare(miniflareOptions());

// The front of a reloadable runtime: forwards each request to workerd, holds them during a redeploy.
let upstream = null;
let agent = new http.Agent({ keepAlive: true });
let held = null; // a promise while a redeploy runs
let inFlight = 0;
let drained = null;

function forward(request, response) {
  inFlight += 1;
  let finished = false;
  response.on("close", () => {
    if (finished) return;
    finished = true;
    inFlight -= 1;
    if (inFlight === 0 && drained) drained();
  });
  const outgoing = http.request(
    { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers, agent },
    (answer) => {
      response.writeHead(answer.statusCode, answer.rawHeaders);
      answer.pipe(response);
    },
  );
  outgoing.on("error", (error) => {
    if (!response.headersSent) response.writeHead(502, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: `local runtime: workerd did not answer (${error.message})` }));
  });
  request.pipe(outgoing);
}

async function serveFront() {
  upstream = await mf.ready;
  const front = http.createServer(async (request, response) => {
    while (held) await held;
    forward(request, response);
  });
  await new Promise((resolve) => front.listen(options.port, options.host, resolve));
  return new URL(`http://${options.host}:${front.address().port}/`);
}

async function redeploy() {
  const update = JSON.parse(readFileSync(options.reloadFile, "utf8"));
  rmSync(options.reloadFile, { force: true });
  let release;
  held = new Promise((resolve) => (release = resolve));
  if (inFlight > 0) await new Promise((resolve) => (drained = resolve));
  drained = null;
  options.vars = { ...options.vars, ...update.vars };
  for (const name of update.removeVars || []) delete options.vars[name];
  secrets = update.secrets || {};
  try {
    await mf.setOptions(miniflareOptions());
    upstream = await mf.ready;
    agent.destroy();
    agent = new http.Agent({ keepAlive: true });
  } finally {
    held = null;
    release();
  }
  writeFileSync(`${options.reloadFile}.done.tmp`, JSON.stringify({ redeployed: update.id }));
  renameSync(`${options.reloadFile}.done.tmp`, `${options.reloadFile}.done`);
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("SIGHUP", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);

let redeploys = Promise.resolve();
async function readCommands() {
  for (;;) {
    const command = await nextLine().catch(() => null);
    if (command === null) return; // stdin ended: `stop` runs
    if (command === "reload" && options.reloadable) {
      redeploys = redeploys.then(redeploy).catch((error) => console.error("redeploy failed", error));
    }
  }
}
readCommands();

const url = options.reloadable ? await serveFront() : await mf.ready;
for (const [namespace, entries] of Object.entries(options.kvSeed || {})) {
  const kv = await mf.getKVNamespace(namespace);
  for (const [key, value] of Object.entries(entries)) await kv.put(key, value);
}
writeFileSync(`${options.readyFile}.tmp`, JSON.stringify({ url: url.href }));
renameSync(`${options.readyFile}.tmp`, options.readyFile);
