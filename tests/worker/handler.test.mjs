// handler.test.mjs — the handler in this process, where a test controls the clock and the sources: nothing
// throws out of fetch() (a request that breaks the handler gets a JSON 500 and a log line without its
// content), overlapping cold requests share one load, a failed load is retried only after its backoff
// (doubled per failure), and a missing ctx or env still gets answers.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { createHandler } from "../../worker/handler.js";
import { path } from "./harness.mjs";

const INTENT = readFileSync(path("models/intent-clinc.gguf"));
const post = (body) => new Request("http://x/v1/classify", { method: "POST", body: JSON.stringify(body) });

/** ctx.waitUntil that keeps the promises, and console.log captured while `body` runs. */
async function withLog(body) {
  const lines = [], original = console.log, pending = [];
  console.log = (line) => lines.push(line);
  try {
    await body({ waitUntil: (p) => pending.push(p) });
    await Promise.all(pending);
  } finally {
    console.log = original;
  }
  return lines;
}

test("a request that breaks the handler gets a JSON 500 'internal', and the log says so without its content", async () => {
  const handler = createHandler({ bundled: { "intent-clinc": INTENT }, runtime: "test" });
  let response;
  const lines = await withLog(async (ctx) => {
    const broken = { method: "POST", url: "not a url at all: SECRET-TEXT", headers: new Headers() };
    response = await handler.fetch(broken, {}, ctx);
  });
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: { code: "internal", message: "the service failed to answer this request; the log has the details" } });
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  assert.equal(line.event, "request_failed");
  assert.equal(line.code, "internal");
  assert.ok(!lines[0].includes("SECRET-TEXT"), lines[0]);
});

test("no ctx, no env: answers all the same (no EDGETAG_MODELS and nothing bundled is a configuration error)", async () => {
  const handler = createHandler({ runtime: "test" });
  const h = await handler.fetch(new Request("http://x/v1/health"), undefined, undefined);
  assert.equal(h.status, 503);
  assert.match((await h.json()).error.message, /EDGETAG_MODELS is not set and this entry point bundles no model/);
  assert.equal((await handler.fetch(post({ model: "a", text: "b" }))).status, 500);
});

test("24 overlapping requests on a cold isolate: one load; a failing source: remembered, retried after the backoff only", async () => {
  let clock = 1_000_000, loads = 0, fail = true;
  const bundled = {
    "intent-clinc": async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw new Error("the bucket is on fire");
      return INTENT;
    },
  };
  const handler = createHandler({ bundled, runtime: "test", now: () => clock });
  const env = { EDGETAG_LOAD_RETRY_MS: "1000", EDGETAG_LOG: "off" };
  const first = await Promise.all(Array.from({ length: 24 }, () => handler.fetch(post({ model: "intent-clinc", text: "hi" }), env)));
  assert.deepEqual([...new Set(first.map((r) => r.status))], [503]);
  assert.equal(loads, 1, "one load for all of them");
  const body = await first[0].json();
  assert.equal(body.error.code, "model_unavailable");
  assert.match(body.error.message, /the bucket is on fire/);
  assert.equal(first[0].headers.get("retry-after"), "1");

  clock += 999; // within the backoff: no new load
  assert.equal((await handler.fetch(post({ model: "intent-clinc", text: "hi" }), env)).status, 503);
  assert.equal(loads, 1);
  clock += 2; // past it: one more try, which fails again; the next backoff is twice as long
  assert.equal((await handler.fetch(post({ model: "intent-clinc", text: "hi" }), env)).status, 503);
  assert.equal(loads, 2);
  const health = await (await handler.fetch(new Request("http://x/v1/health"), env)).json();
  assert.equal(health.models[0].error.failures, 2);
  assert.equal(health.models[0].error.retryInMs, 2000);
  fail = false;
  clock += 1999;
  assert.equal((await handler.fetch(post({ model: "intent-clinc", text: "hi" }), env)).status, 503, "still within the doubled backoff");
  clock += 2;
  const ok = await Promise.all(Array.from({ length: 8 }, () => handler.fetch(post({ model: "intent-clinc", text: "book a table for two" }), env)));
  assert.deepEqual([...new Set(ok.map((r) => r.status))], [200]);
  assert.equal(loads, 3);
  const stats = await (await handler.fetch(new Request("http://x/v1/stats"), env)).json();
  assert.deepEqual(stats.models["intent-clinc"], { state: "ready", loads: 1, failedLoads: 2 });
});

test("EDGETAG_MAX_MEMORY: a model or a request that does not fit gets 503, the ones loaded keep serving, memory stays under it", async () => {
  const bundled = { "intent-clinc": INTENT, "maint-ner": readFileSync(path("models/maint-ner.gguf")),
    "pii-ner": readFileSync(path("models/pii-ner.gguf")) };
  const handler = createHandler({ bundled, runtime: "test" });
  const env = { EDGETAG_MAX_MEMORY: String(16 << 20), EDGETAG_LOG: "off" };
  const ok = await handler.fetch(post({ model: "intent-clinc", text: "book a table for two" }), env);
  assert.equal(ok.status, 200);
  const want = (await ok.json()).result;
  const extract = (model) => handler.fetch(new Request("http://x/v1/extract", { method: "POST", body: JSON.stringify({ model, text: "Anna Kowalski replaced the pump" }) }), env);
  const statuses = [];
  for (const model of ["maint-ner", "pii-ner"]) {
    const r = await extract(model);
    const body = await r.json();
    statuses.push(r.status);
    if (r.status !== 200) {
      assert.equal(r.status, 503);
      // Refused at load (model_unavailable), or loaded with no room left for its context (out_of_memory).
      assert.ok(["model_unavailable", "out_of_memory"].includes(body.error.code), body.error.code);
      assert.match(body.error.message, /maxMemory|EDGETAG_MAX_MEMORY/);
    }
  }
  assert.ok(statuses.includes(503), `three 6 MB models in 16 MiB: ${statuses}`);
  const again = await handler.fetch(post({ model: "intent-clinc", text: "book a table for two" }), env);
  assert.equal(again.status, 200);
  assert.deepEqual((await again.json()).result, want);
  const health = await (await handler.fetch(new Request("http://x/v1/health"), env)).json();
  assert.ok(health.memory.wasmBytes <= 16 << 20, `${health.memory.wasmBytes} bytes of wasm memory`);
});
