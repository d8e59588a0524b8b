// @ts-nocheck
// Local stand-ins for the two bindings workerd cannot emulate: Workers AI and Vectorize.
//
// `invoke local` and the tests serve this module as the worker `hyphae-stand-ins` and bind its
// entrypoints to the Worker under test through JS RPC service bindings, so the production bundle
// calls them exactly as it calls the real bindings (`env.AI.run(model, {text})`,
// `env.MYCO_TEAM_VECTORS.upsert([...])`). What they do NOT show is in docs/worker.md ("Local
// stand-ins"): real model quality, latency, rate limits, Vectorize's eventual consistency.
//
// StandInAi: a deterministic embedding (hashed bag of words, L2-normalised) of DIMENSIONS values
// per text, in Workers AI's answer shape `{shape, data}`. Texts sharing words get similar vectors,
// so /search ranks sensibly. A text containing FAIL_MARKER (tests set it) fails its first
// FAIL_ATTEMPTS embeddings (default 2: a batched call and its one-by-one retry), like a transient
// Workers AI error, and succeeds afterwards.
// StandInVectorize: an in-memory index with Vectorize's limits (dimensions, 64-byte ids, 1000
// vectors per upsert, topK 20 with metadata or values and 100 without) and cosine/euclidean/
// dot-product scoring with metadata filters ($eq, $ne, $in, $nin and plain equality).

import { WorkerEntrypoint } from "cloudflare:workers";

const vectors = new Map(); // id -> {id, values, metadata}
const failures = new Map(); // text -> embeddings of it that failed so far
let mutations = 0;

const encoder = new TextEncoder();

function fnv1a(text, seed) {
  let hash = seed >>> 0;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash;
}

function embed(text, dimensions) {
  const values = new Array(dimensions).fill(0);
  const words = String(text).toLowerCase().match(/[\p{L}\p{N}_]+/gu) || [];
  for (const word of words) {
    const slot = fnv1a(word, 2166136261) % dimensions;
    const sign = fnv1a(word, 16777619) & 1 ? 1 : -1;
    values[slot] += sign;
  }
  values[dimensions - 1] += 0.01; // never the zero vector, whose cosine is undefined
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
  return values.map((value) => value / norm);
}

export class StandInAi extends WorkerEntrypoint {
  async run(model, inputs) {
    if (typeof model !== "string" || !model.startsWith("@cf/")) throw new Error(`AiError: unknown model ${model}`);
    const texts = Array.isArray(inputs?.text) ? inputs.text : [inputs?.text];
    if (texts.some((text) => typeof text !== "string")) throw new Error("AiError: 5006: text must be a string or an array of strings");
    const marker = this.env.FAIL_MARKER;
    const attempts = Number(this.env.FAIL_ATTEMPTS || 2);
    for (const text of texts) {
      if (marker && text.includes(marker) && (failures.get(text) ?? 0) < attempts) {
        failures.set(text, (failures.get(text) ?? 0) + 1);
        throw new Error("InferenceUpstreamError: 3030: the stand-in model failed for this text (FAIL_MARKER)");
      }
    }
    const dimensions = Number(this.env.DIMENSIONS);
    return { shape: [texts.length, dimensions], data: texts.map((text) => embed(text, dimensions)), pooling: "cls" };
  }
}

function score(metric, left, right) {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  let distance = 0;
  for (let index = 0; index < left.length; index += 1) {
    dot += left[index] * right[index];
    leftNorm += left[index] * left[index];
    rightNorm += right[index] * right[index];
    distance += (left[index] - right[index]) ** 2;
  }
  if (metric === "euclidean") return Math.sqrt(distance);
  if (metric === "dot-product") return dot;
  return dot / (Math.sqrt(leftNorm) * Math.sqrt(rightNorm) || 1);
}

function matchesFilter(metadata, filter) {
  for (const [key, condition] of Object.entries(filter || {})) {
    const value = metadata?.[key];
    if (condition !== null && typeof condition === "object" && !Array.isArray(condition)) {
      if ("$eq" in condition && value !== condition.$eq) return false;
      if ("$ne" in condition && value === condition.$ne) return false;
      if ("$in" in condition && !condition.$in.includes(value)) return false;
      if ("$nin" in condition && condition.$nin.includes(value)) return false;
    } else if (value !== condition) {
      return false;
    }
  }
  return true;
}

function checkId(id) {
  if (typeof id !== "string" || id.length === 0 || encoder.encode(id).length > 64) {
    throw new Error(`VECTOR_INVALID_ID (code = 40007): id must be 1 to 64 bytes, got ${JSON.stringify(id)}`);
  }
}

export class StandInVectorize extends WorkerEntrypoint {
  async upsert(items) {
    const dimensions = Number(this.env.DIMENSIONS);
    if (items.length > 1000) throw new Error("VECTOR_UPSERT_ERROR (code = 40006): at most 1000 vectors per upsert");
    for (const vector of items) {
      checkId(vector.id);
      if (!Array.isArray(vector.values) || vector.values.length !== dimensions) {
        throw new Error(`VECTOR_UPSERT_ERROR (code = 40008): invalid vector for id="${vector.id}", expected ${dimensions} dimensions, and got ${vector.values?.length} dimensions`);
      }
      if (encoder.encode(JSON.stringify(vector.metadata || {})).length > 10240) {
        throw new Error(`VECTOR_UPSERT_ERROR (code = 40009): metadata of id="${vector.id}" is above 10 KiB`);
      }
    }
    for (const vector of items) vectors.set(vector.id, { id: vector.id, values: vector.values, metadata: vector.metadata || {} });
    mutations += 1;
    return { mutationId: `stand-in-${mutations}`, count: items.length, ids: items.map((vector) => vector.id) };
  }

  async deleteByIds(ids) {
    ids.forEach(checkId);
    for (const id of ids) vectors.delete(id);
    mutations += 1;
    return { mutationId: `stand-in-${mutations}`, count: ids.length, ids };
  }

  async getByIds(ids) {
    return ids.filter((id) => vectors.has(id)).map((id) => vectors.get(id));
  }

  async query(vector, options = {}) {
    const topK = options.topK ?? 5;
    const returnMetadata = options.returnMetadata === true ? "all" : options.returnMetadata || "none";
    const limit = options.returnValues || returnMetadata === "all" ? 20 : 100;
    if (topK < 1 || topK > limit) throw new Error(`VECTOR_QUERY_ERROR (code = 40025): topK must be 1 to ${limit} with these options, got ${topK}`);
    const metric = this.env.METRIC || "cosine";
    const ranked = [...vectors.values()]
      .filter((stored) => matchesFilter(stored.metadata, options.filter))
      .map((stored) => ({ stored, score: score(metric, vector, stored.values) }))
      .sort((left, right) => (metric === "euclidean" ? left.score - right.score : right.score - left.score))
      .slice(0, topK);
    const matches = ranked.map(({ stored, score: value }) => ({
      id: stored.id,
      score: value,
      ...(returnMetadata !== "none" ? { metadata: stored.metadata } : {}),
      ...(options.returnValues ? { values: stored.values } : {}),
    }));
    return { count: matches.length, matches };
  }

  async describe() {
    return { dimensions: Number(this.env.DIMENSIONS), vectorCount: vectors.size, processedUpToMutation: `stand-in-${mutations}` };
  }
}

// Local inspection only (the runtime routes Host: stand-ins.hyphae.localhost here): GET /vectors
// lists the stored vectors' ids and metadata, without values.
export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" && pathname === "/vectors") {
      const listed = [...vectors.values()].map(({ id, metadata }) => ({ id, metadata }));
      return Response.json({ count: listed.length, vectors: listed });
    }
    return new Response("hyphae stand-ins: GET /vectors lists the index; the rest is reached through RPC entrypoints", { status: 404 });
  },
};
