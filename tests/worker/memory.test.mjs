// memory.test.mjs — the isolate stays inside Cloudflare's 128 MB (wasm memory plus JS heap, Data modules
// included) with all three shipped int8 models loaded and in use at the service's default limits, and its
// wasm memory does not grow across 10,000 requests once warm.
//
// workerd enforces no limit locally, so the test measures: wasm memory from /v1/health (the engine's
// memory.buffer.byteLength) and the heap through the inspector (inspector.mjs). Warm-up drives every model
// to the largest context the limits allow — the longest texts of one token per character, the biggest
// batches — and runs enough requests for the relaxed build's kernel tuning to settle; then the 10,000
// requests mix every endpoint (small batches, so it runs in reasonable time), with a worst-case request now
// and then, on 8 connections.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectInspector, rss } from "./inspector.mjs";
import { call, path, startWorkerd } from "./harness.mjs";

const MB = 2 ** 20;
const LIMIT = 128 * MB;
const REQUESTS = Number(process.env.EDGETAG_MEMORY_REQUESTS ?? 10000);
/** The service's default limits (worker/config.js): the worst case is measured at them. */
const MAX_TEXTS = 32, MAX_CHARS = 1000;
const DENSE = "a.".repeat(MAX_CHARS / 2); // one token per character: the most tokens a text of MAX_CHARS can have
const WORDS = "the hydraulic pump seal on excavator twelve leaked oil so the crew replaced it and checked hoses ".repeat(12).slice(0, MAX_CHARS);
const SMALL = ["book a table for two at 7pm", "what's my balance", "set an alarm for 6am", "how tall is the eiffel tower"];

describe("memory of one workerd isolate serving intent-clinc, maint-ner and pii-ner", () => {
  let server, inspector;
  const worst = [
    ["/v1/classify", { model: "intent-clinc", texts: Array(MAX_TEXTS).fill(DENSE) }],
    ["/v1/classify", { model: "intent-clinc", texts: Array(MAX_TEXTS).fill(WORDS) }],
    ["/v1/extract", { model: "maint-ner", texts: [DENSE, WORDS] }],
    ["/v1/extract", { model: "pii-ner", texts: [DENSE, WORDS] }],
  ];
  const post = async (route, body) => {
    const r = await call(server.base, route, { body });
    assert.equal(r.status, 200, `${route}: ${r.text.slice(0, 200)}`);
    return r;
  };
  const measure = async () => {
    const h = await call(server.base, "/v1/health");
    assert.equal(h.status, 200);
    const heap = await inspector.heap();
    const wasm = h.body.memory.wasmBytes;
    return { wasm, used: heap.usedSize, backing: heap.backingStorageSize, total: wasm + heap.usedSize + heap.backingStorageSize, ...rss(server.pid) };
  };
  const show = (m) => `wasm ${(m.wasm / MB).toFixed(1)} MB + heap ${(m.used / MB).toFixed(1)} MB + array buffers ` +
    `${(m.backing / MB).toFixed(1)} MB = ${(m.total / MB).toFixed(1)} MB (workerd process RSS ${(m.rss / MB).toFixed(0)} MB)`;

  before(async () => {
    server = await startWorkerd(path("worker/config.capnp"), { inspector: true, env: { EDGETAG_STATS_FLUSH_SECONDS: "-1", EDGETAG_LOG: "warn" } });
    inspector = await connectInspector(server.ports.inspector);
  });
  after(async () => {
    await inspector?.close();
    await server?.stop();
  });

  let warm;
  test("warm, at the largest requests the limits allow: wasm memory + JS heap ≤ 128 MB", async () => {
    for (const [route, body] of worst) await post(route, body);
    for (let i = 0; i < 300; i++) // the relaxed build times its kernels over its first runs (web/engine.js tune())
      await post(i % 3 ? "/v1/classify" : "/v1/extract", i % 3 ? { model: "intent-clinc", texts: SMALL } : { model: i % 2 ? "maint-ner" : "pii-ner", text: SMALL[i % 4] });
    for (const [route, body] of worst) await post(route, body);
    warm = await measure();
    console.log(`# warm: ${show(warm)}`);
    const health = (await call(server.base, "/v1/health")).body;
    assert.ok(health.engine.tuned, "the kernel choice has settled");
    assert.ok(warm.total <= LIMIT, show(warm));
  });

  test(`${REQUESTS} requests later, wasm memory has not grown and the total is still ≤ 128 MB`, { timeout: 600_000 }, async () => {
    assert.ok(warm, "the warm measurement ran");
    let next = 0, errors = 0;
    const t0 = performance.now();
    const one = async (i) => {
      const k = i % 20;
      let r;
      if (i % 1000 === 999) r = await call(server.base, worst[(i / 1000) % worst.length | 0][0], { body: worst[(i / 1000) % worst.length | 0][1] });
      else if (k < 9) r = await call(server.base, "/v1/classify", { body: { model: "intent-clinc", texts: SMALL } });
      else if (k < 14) r = await call(server.base, "/v1/extract", { body: { model: "maint-ner", text: WORDS.slice(0, 80 + (i % 7) * 10) } });
      else if (k < 18) r = await call(server.base, "/v1/extract", { body: { model: "pii-ner", text: `Call Anna Kowalski on 555-${String(1000 + (i % 9000))}` } });
      else if (k === 18) r = await call(server.base, ["/v1/health", "/v1/models", "/v1/stats"][i % 3]);
      else r = await call(server.base, "/v1/classify", { body: "{broken", headers: { "content-type": "application/json" } }); // an error path too
      if (r.status !== (k === 19 && i % 1000 !== 999 ? 400 : 200)) errors++;
    };
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < REQUESTS) await one(next++);
    }));
    const seconds = (performance.now() - t0) / 1000;
    const end = await measure();
    console.log(`# after ${REQUESTS} requests in ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(0)}/s): ${show(end)}`);
    assert.equal(errors, 0);
    assert.equal(end.wasm, warm.wasm, `wasm memory grew from ${warm.wasm} to ${end.wasm} bytes`);
    assert.ok(end.total <= LIMIT, show(end));
    const stats = (await call(server.base, "/v1/stats")).body;
    assert.ok(stats.requests.total >= REQUESTS);
  });
});
