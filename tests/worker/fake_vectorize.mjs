// Test-only stand-in for the Vectorize binding, which workerd cannot emulate locally.
//
// Bound to the Worker under test as MYCO_TEAM_VECTORS through a JS RPC service binding, so the
// production bundle calls it exactly as it calls Vectorize (`await env.MYCO_TEAM_VECTORS.upsert([...])`).
// Like the real index it refuses a vector whose length is not the index's dimensions, with
// Vectorize's error text; that is how tests provoke a failure, with no switch in the Worker.

import { WorkerEntrypoint } from "cloudflare:workers";

const stored = new Map();

export class FakeVectorize extends WorkerEntrypoint {
  async upsert(vectors) {
    const dimensions = Number(this.env.DIMENSIONS);
    for (const vector of vectors) {
      if (!Array.isArray(vector.values) || vector.values.length !== dimensions) {
        throw new Error(
          `VECTOR_UPSERT_ERROR (code = 40008): invalid vector for id="${vector.id}", expected ${dimensions} dimensions, and got ${vector.values.length} dimensions`,
        );
      }
    }
    for (const vector of vectors) stored.set(vector.id, vector);
    return { mutationId: crypto.randomUUID() };
  }

  async deleteByIds(ids) {
    for (const id of ids) stored.delete(id);
    return { mutationId: crypto.randomUUID() };
  }

  async getByIds(ids) {
    return ids.filter((id) => stored.has(id)).map((id) => stored.get(id));
  }
}

export default {
  async fetch() {
    return new Response("fake Vectorize: reached only through its RPC entrypoint", { status: 404 });
  },
};
