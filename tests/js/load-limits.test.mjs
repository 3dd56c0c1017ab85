// load-limits.test.mjs — loading from sources that lie, stall or never end, and caches that break: limits are
// checked before anything is allocated, bodies that stall fail, and a cache heals (a bad entry is dropped and the
// model fetched again) and cannot be confused (entries answer only the key and integrity they were stored under).
// Each case failed before issue 15; the comment says how.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { EdgetagError, load } from "../../web/edgetag.js";
import { path, simd } from "./helpers.mjs";

const MiB = 2 ** 20;
const bytes = readFileSync(path("models/intent-clinc.gguf"));
const hex = createHash("sha256").update(bytes).digest("hex");
const wasmBytes = readFileSync(path(simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm"));
const fresh = () => new WebAssembly.Module(wasmBytes);

function server() {
  const hits = new Map(), open = new Set();
  const srv = createServer((req, res) => {
    const p = new URL(req.url, "http://x").pathname;
    hits.set(p, (hits.get(p) ?? 0) + 1);
    open.add(res);
    res.on("close", () => open.delete(res));
    switch (p) {
      case "/model.gguf":
      case "/other.gguf":
        res.writeHead(200, { "content-length": bytes.length }).end(bytes);
        break;
      case "/huge.gguf": // announces 2 GB, sends the start of a model
        res.writeHead(200, { "content-length": String(2 ** 31) });
        res.write(bytes.subarray(0, 65536));
        break;
      case "/endless.gguf": { // chunked, never ends
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const chunk = Buffer.alloc(1 << 20, 1);
        const pump = () => { while (!res.destroyed && res.write(chunk)); };
        res.on("drain", pump);
        pump();
        break;
      }
      case "/stall.gguf": // headers and a first chunk, then nothing, ever
        res.writeHead(200, { "content-length": bytes.length });
        res.write(bytes.subarray(0, 1000));
        break;
      case "/silent.gguf": // no answer at all
        break;
      default:
        res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve({
    base: `http://127.0.0.1:${srv.address().port}`, count: (p) => hits.get(p) ?? 0,
    close: () => { for (const r of open) r.destroy(); srv.close(); },
  })));
}

/** A cache adapter over a Map, which (like many simple adapters) also answers a key by the stored model's name. */
function mapCache() {
  const entries = new Map();
  return {
    entries,
    get: async (key) => entries.get(key) ?? [...entries.values()].find((e) => e.manifest.name === key),
    put: async (key, data, manifest) => { entries.set(key, { data, manifest }); },
    delete: async (key) => { entries.delete(key); },
  };
}

describe("limits before allocation", () => {
  let s;
  before(async () => { s = await server(); });
  after(() => s.close());

  test("Content-Length: 2 GB is refused with TOO_LARGE before any memory is reserved (2 GiB were, for good)", async () => {
    const wasmModule = fresh();
    const t0 = performance.now();
    await assert.rejects(load(`${s.base}/huge.gguf`, { cache: "none", wasmModule }), (e) =>
      e instanceof EdgetagError && e.code === "TOO_LARGE" && /2147483648/.test(e.message));
    assert.ok(performance.now() - t0 < 2000);
    const m = await load(bytes, { cache: "none", wasmModule });
    assert.ok(m.wasmMemoryBytes < bytes.length + 16 * MiB, `${m.wasmMemoryBytes} bytes of wasm memory after the refusal`);
    m.dispose();
  });

  test("an endless chunked body stops at maxBytes (2.1 GB were buffered in JavaScript)", async () => {
    const heap0 = process.memoryUsage().arrayBuffers;
    await assert.rejects(load(`${s.base}/endless.gguf`, { cache: "none", maxBytes: 32 * MiB, simd }), (e) =>
      e.code === "TOO_LARGE" && /33554432/.test(e.message));
    assert.ok(process.memoryUsage().arrayBuffers - heap0 < 128 * MiB);
  });

  test("a body that stalls fails with IO after stallTimeoutMs; a server that never answers too (both waited forever)", async () => {
    const t0 = performance.now();
    await assert.rejects(load(`${s.base}/stall.gguf`, { cache: "none", stallTimeoutMs: 300, simd }), (e) =>
      e.code === "IO" && /stallTimeoutMs/.test(e.message));
    await assert.rejects(load(`${s.base}/silent.gguf`, { cache: "none", stallTimeoutMs: 300, simd }), (e) =>
      e.code === "IO" && /stallTimeoutMs/.test(e.message));
    assert.ok(performance.now() - t0 < 3000);
    const m = await load(`${s.base}/model.gguf`, { cache: "none", stallTimeoutMs: 300, simd });
    assert.equal(m.info.name, "intent-clinc");
    m.dispose();
  });

  test("maxBytes against bytes in memory, Blobs and file: URLs; out of range is INVALID_ARGUMENT", async () => {
    await assert.rejects(load(bytes, { cache: "none", maxBytes: 1000, simd }), { code: "TOO_LARGE" });
    await assert.rejects(load(new Blob([bytes]), { cache: "none", maxBytes: 1000, simd }), { code: "TOO_LARGE" });
    await assert.rejects(load(new URL("file://" + path("models/intent-clinc.gguf")), { cache: "none", maxBytes: 1000, simd }),
      { code: "TOO_LARGE" });
    for (const maxBytes of [0, -1, 2 ** 40, "1"]) await assert.rejects(load(bytes, { cache: "none", maxBytes, simd }), { code: "INVALID_ARGUMENT" });
  });
});

describe("caches that heal", () => {
  let s;
  before(async () => { s = await server(); });
  after(() => s.close());

  test("an unreadable entry is dropped and the model fetched again (every later load failed with IO)", async () => {
    const cache = mapCache(), url = `${s.base}/model.gguf`;
    await (await load(url, { cache, simd })).cached;
    const entry = cache.entries.get(url);
    entry.data = { size: bytes.length, stream: () => new ReadableStream({ pull(c) { c.error(new Error("disk read failed")); } }) };
    const n = s.count("/model.gguf");
    const m = await load(url, { cache, simd });
    assert.deepEqual([m.origin.kind, s.count("/model.gguf")], ["network", n + 1]);
    assert.match(m.origin.cacheError, /disk read failed; the entry was dropped/);
    assert.equal((await m.cached).cache, "stored");
    const again = await load(url, { cache, simd });
    assert.equal(again.origin.kind, "cache", "healed: the next load is a hit");
    m.dispose();
    again.dispose();
  });

  test("an entry larger than maxBytes, or not the size its manifest says, is dropped (it failed for good)", async () => {
    const cache = mapCache(), url = `${s.base}/model.gguf`;
    await (await load(url, { cache, simd })).cached;
    const m = await load(url, { cache, simd, maxBytes: bytes.length - 1 }).catch((e) => e);
    assert.equal(m.code, "TOO_LARGE", "the network copy is too large too");
    assert.equal(cache.entries.size, 0, "the entry was dropped");
    await (await load(url, { cache, simd })).cached;
    cache.entries.get(url).manifest.size = 5;
    const healed = await load(url, { cache, simd });
    assert.equal(healed.origin.kind, "network");
    healed.dispose();
  });

  test("an adapter whose get or put never settles: cacheTimeoutMs, and the AbortSignal (load() hung)", async () => {
    const url = `${s.base}/model.gguf`;
    const never = () => new Promise(() => {});
    const hanging = { get: never, put: never, delete: never };
    const t0 = performance.now();
    const m = await load(url, { cache: hanging, cacheTimeoutMs: 200, simd });
    assert.equal(m.origin.kind, "network");
    assert.match(m.origin.cacheError, /did not settle within 200 ms/);
    assert.match((await m.cached).cache, /not stored: .*did not settle within 200 ms/);
    assert.ok(performance.now() - t0 < 2000);
    m.dispose();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user left")), 100);
    const t1 = performance.now();
    await assert.rejects(load(url, { cache: hanging, signal: controller.signal, simd }), { message: "user left" });
    assert.ok(performance.now() - t1 < 1000);
  });

  test("an entry whose bytes and stored SHA-256 were both replaced does not pass the integrity asked for", async () => {
    const cache = mapCache(), url = `${s.base}/model.gguf`;
    await (await load(url, { cache, integrity: hex, simd })).cached;
    const forged = new Uint8Array(readFileSync(path("models/maint-ner.gguf")));
    const entry = cache.entries.get(url);
    entry.data = new Blob([forged]);
    entry.manifest = { ...entry.manifest, sha256: createHash("sha256").update(forged).digest("hex"), size: forged.length };
    const m = await load(url, { cache, integrity: hex, simd });
    assert.deepEqual([m.origin.kind, m.info.name], ["network", "intent-clinc"]);
    m.dispose();
    // Without integrity asked for now, the integrity it was stored with still binds it.
    await m.cached;
    const e2 = cache.entries.get(url);
    e2.data = new Blob([forged]);
    e2.manifest = { ...e2.manifest, sha256: createHash("sha256").update(forged).digest("hex"), size: forged.length };
    const m2 = await load(url, { cache, simd });
    assert.deepEqual([m2.origin.kind, m2.info.name], ["network", "intent-clinc"]);
    assert.match(m2.origin.cacheError, /not the integrity it was stored with/);
    m2.dispose();
  });

  test("a file's general.name does not take over load(name): only load(url, {key: name}) stores under a name", async () => {
    const cache = mapCache();
    const other = await load(`${s.base}/other.gguf`, { cache, simd }); // general.name is "intent-clinc"
    await other.cached;
    other.dispose();
    await assert.rejects(load("intent-clinc", { cache, simd }), { code: "MISSING" });
    const named = await load(`${s.base}/model.gguf`, { cache, key: "intent-clinc", simd });
    await named.cached;
    named.dispose();
    const byName = await load("intent-clinc", { cache, simd });
    assert.deepEqual([byName.origin.kind, byName.origin.url], ["cache", `${s.base}/model.gguf`]);
    byName.dispose();
  });
});

describe("limits in a Web Worker", () => {
  test("the limits cross into the worker: maxTexts, maxMemory and maxBytes hold there", async () => {
    const w = await load(new Uint8Array(bytes), { worker: true, simd, maxTexts: 2, maxMemory: 32 * MiB });
    await assert.rejects(w.classify(["a", "b", "c"]), { name: "EdgetagError", code: "INPUT" });
    assert.equal((await w.classify(["a", "b"])).length, 2);
    await assert.rejects(w.classify("€".repeat(8 * MiB)), { name: "EdgetagError", code: "OUT_OF_MEMORY" }); // 24 MiB of UTF-8
    assert.equal((await w.classify("book a table")).label, (await w.classify("book a table")).label);
    await w.dispose();
    await assert.rejects(load(new Uint8Array(bytes), { worker: true, simd, maxBytes: 1000 }), { code: "TOO_LARGE" });
  });
});
