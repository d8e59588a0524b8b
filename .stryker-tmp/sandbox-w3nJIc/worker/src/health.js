// @ts-nocheck
// GET /health (no auth): status, the protocol window, both schema versions, which bindings are
// present, the node count and `mcp_token_hash` (reference §3.1, §3.6; null when no token exists).
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { openDatabase } from "./d1.js";
import { json } from "./http.js";
import { mcpTokenHash, readMcpToken } from "./mcp_token.js";
import { advertisedVersions, builtSchemaVersion, readAppliedSchemaVersion } from "./versions.js";
async function readDatabase(env) {
  if (stryMutAct_9fa48("0")) {
    {}
  } else {
    stryCov_9fa48("0");
    if (stryMutAct_9fa48("3") ? false : stryMutAct_9fa48("2") ? true : stryMutAct_9fa48("1") ? env.MYCO_TEAM_DB : (stryCov_9fa48("1", "2", "3"), !env.MYCO_TEAM_DB)) return stryMutAct_9fa48("4") ? {} : (stryCov_9fa48("4"), {
      applied: null,
      nodes: null,
      error: stryMutAct_9fa48("5") ? "" : (stryCov_9fa48("5"), "D1 binding MYCO_TEAM_DB is missing")
    });
    const db = openDatabase(env);
    try {
      if (stryMutAct_9fa48("6")) {
        {}
      } else {
        stryCov_9fa48("6");
        const applied = await readAppliedSchemaVersion(db);
        const nodes = await db.first(stryMutAct_9fa48("7") ? "" : (stryCov_9fa48("7"), "SELECT count(*) AS count FROM nodes")).catch(stryMutAct_9fa48("8") ? () => undefined : (stryCov_9fa48("8"), () => null));
        return stryMutAct_9fa48("9") ? {} : (stryCov_9fa48("9"), {
          applied,
          nodes: nodes ? nodes.count : null,
          error: null
        });
      }
    } catch (error) {
      if (stryMutAct_9fa48("10")) {
        {}
      } else {
        stryCov_9fa48("10");
        return stryMutAct_9fa48("11") ? {} : (stryCov_9fa48("11"), {
          applied: null,
          nodes: null,
          error: stryMutAct_9fa48("12") ? `` : (stryCov_9fa48("12"), `cannot read the ledger: ${error.message}`)
        });
      }
    }
  }
}
export async function handleHealth(request, env) {
  if (stryMutAct_9fa48("13")) {
    {}
  } else {
    stryCov_9fa48("13");
    const built = builtSchemaVersion(env);
    const [{
      applied,
      nodes,
      error
    }, token] = await Promise.all(stryMutAct_9fa48("14") ? [] : (stryCov_9fa48("14"), [readDatabase(env), readMcpToken(env)]));
    let status = stryMutAct_9fa48("15") ? "" : (stryCov_9fa48("15"), "ok");
    if (stryMutAct_9fa48("17") ? false : stryMutAct_9fa48("16") ? true : (stryCov_9fa48("16", "17"), error)) status = stryMutAct_9fa48("18") ? "" : (stryCov_9fa48("18"), "database_unavailable");else if (stryMutAct_9fa48("21") ? built === null && applied < built : stryMutAct_9fa48("20") ? false : stryMutAct_9fa48("19") ? true : (stryCov_9fa48("19", "20", "21"), (stryMutAct_9fa48("23") ? built !== null : stryMutAct_9fa48("22") ? false : (stryCov_9fa48("22", "23"), built === null)) || (stryMutAct_9fa48("26") ? applied >= built : stryMutAct_9fa48("25") ? applied <= built : stryMutAct_9fa48("24") ? false : (stryCov_9fa48("24", "25", "26"), applied < built)))) status = stryMutAct_9fa48("27") ? "" : (stryCov_9fa48("27"), "schema_behind");
    const body = stryMutAct_9fa48("28") ? {} : (stryCov_9fa48("28"), {
      status,
      ...advertisedVersions(env),
      schema_version: built,
      schema_version_applied: applied,
      node_count: nodes,
      mcp_token_hash: (stryMutAct_9fa48("31") ? token !== null : stryMutAct_9fa48("30") ? false : stryMutAct_9fa48("29") ? true : (stryCov_9fa48("29", "30", "31"), token === null)) ? null : mcpTokenHash(token),
      bindings: stryMutAct_9fa48("32") ? {} : (stryCov_9fa48("32"), {
        d1: Boolean(env.MYCO_TEAM_DB),
        kv: Boolean(env.MYCO_SECRETS),
        vectorize: Boolean(env.MYCO_TEAM_VECTORS),
        ai: Boolean(env.AI),
        api_key: stryMutAct_9fa48("35") ? typeof env.MYCO_TEAM_API_KEY === "string" || env.MYCO_TEAM_API_KEY.length > 0 : stryMutAct_9fa48("34") ? false : stryMutAct_9fa48("33") ? true : (stryCov_9fa48("33", "34", "35"), (stryMutAct_9fa48("37") ? typeof env.MYCO_TEAM_API_KEY !== "string" : stryMutAct_9fa48("36") ? true : (stryCov_9fa48("36", "37"), typeof env.MYCO_TEAM_API_KEY === (stryMutAct_9fa48("38") ? "" : (stryCov_9fa48("38"), "string")))) && (stryMutAct_9fa48("41") ? env.MYCO_TEAM_API_KEY.length <= 0 : stryMutAct_9fa48("40") ? env.MYCO_TEAM_API_KEY.length >= 0 : stryMutAct_9fa48("39") ? true : (stryCov_9fa48("39", "40", "41"), env.MYCO_TEAM_API_KEY.length > 0)))
      })
    });
    if (stryMutAct_9fa48("43") ? false : stryMutAct_9fa48("42") ? true : (stryCov_9fa48("42", "43"), error)) body.error = error;
    return json((stryMutAct_9fa48("46") ? status !== "ok" : stryMutAct_9fa48("45") ? false : stryMutAct_9fa48("44") ? true : (stryCov_9fa48("44", "45", "46"), status === (stryMutAct_9fa48("47") ? "" : (stryCov_9fa48("47"), "ok")))) ? 200 : 503, body);
  }
}