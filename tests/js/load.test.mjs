// load.test.mjs — load(source, options) against a real HTTP server on 127.0.0.1: URLs, Requests, Responses,
// Blobs, streams and bytes; progress, abort, integrity, truncated and compressed bodies, cache adapters
// (hit without the network, corrupt entries, a full disk) and the worker-thread tagger.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { EdgetagError, load, createWorkerTagger, withEscalation } from "../../web/edgetag.js";
import { startCloudServer } from "./cloud-server.mjs";
import { path, readBuilt, simd } from "./helpers.mjs";

const MODEL = "build/ref/tiny.gguf";
const bytes = readBuilt(MODEL, "make refmodels");
const sha = createHash("sha256").update(bytes).digest();
const hex = sha.toString("hex"), sri = "sha256-" + sha.toString("base64");
const IDS = [101, 7, 42, 9, 102];

/** The model over HTTP; each path a behaviour. Counts the requests per path. */
function modelServer() {
  const hits = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    switch (url.pathname) {
      case "/model.gguf":
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
        res.end(bytes);
        break;
      case "/chunked.gguf": // no Content-Length: the total is unknown until the end
        res.writeHead(200, { "content-type": "application/octet-stream" });
        for (let at = 0; at < bytes.length; at += 50000) res.write(bytes.subarray(at, at + 50000));
        res.end();
        break;
      case "/gzip.gguf": { // Content-Length counts the compressed bytes, not the model's
        const z = gzipSync(bytes);
        res.writeHead(200, { "content-encoding": "gzip", "content-length": z.length });
        res.end(z);
        break;
      }
      case "/truncated.gguf": // announces the whole file, sends half, closes
        res.writeHead(200, { "content-length": bytes.length });
        res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket.destroy());
        break;
      case "/slow.gguf": { // a chunk, then a long pause: time to abort
        res.writeHead(200, { "content-length": bytes.length });
        res.write(bytes.subarray(0, 1000));
        const t = setTimeout(() => res.end(bytes.subarray(1000)), 5000);
        res.on("close", () => clearTimeout(t));
        break;
      }
      case "/tampered.gguf": { // one byte changed in a tensor
        const copy = Buffer.from(bytes);
        copy[copy.length - 5] ^= 0x40;
        res.writeHead(200, { "content-length": copy.length });
        res.end(copy);
        break;
      }
      case "/garbage.gguf":
        res.writeHead(200, { "content-length": 4096 });
        res.end(Buffer.alloc(4096, 7));
        break;
      default:
        res.writeHead(404).end("no such model");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const base = `http://127.0.0.1:${server.address().port}`;
    resolve({ server, base, hits, count: (p) => hits.get(p) ?? 0 });
  }));
}

/** An in-memory cache adapter (the contract of web/cache.js) that records what it was asked. */
function memoryCache({ quotaBytes = Infinity } = {}) {
  const entries = new Map();
  const used = () => [...entries.values()].reduce((n, e) => n + e.data.size, 0);
  return {
    entries, calls: [],
    async get(key) {
      this.calls.push(["get", key]);
      return entries.get(key) ?? [...entries.values()].filter((e) => e.manifest.name === key).at(-1);
    },
    async put(key, data, manifest) {
      this.calls.push(["put", key]);
      assert.ok(data instanceof Blob, "the cache gets a Blob");
      if (used() + data.size > quotaBytes) throw new DOMException("the quota is exceeded", "QuotaExceededError");
      entries.set(key, { data, manifest });
    },
    async delete(key) { this.calls.push(["delete", key]); entries.delete(key); },
    async evict(manifest) {
      this.calls.push(["evict", manifest.name]);
      let n = 0;
      for (const [k, e] of entries) if (e.manifest.name === manifest.name && e.manifest.sha256 !== manifest.sha256) { entries.delete(k); n++; }
      return n;
    },
  };
}

const opts = (o = {}) => ({ simd, ...o });

describe("load() sources", () => {
  let srv, reference;
  before(async () => {
    srv = await modelServer();
    const m = await load(bytes, opts());
    reference = m.logits(IDS);
    m.dispose();
  });
  after(() => srv.server.close());

  const same = (m) => {
    assert.deepEqual(m.logits(IDS).data, reference.data);
    m.dispose();
  };

  test("a URL streams with progress up to the announced total", async () => {
    const events = [];
    const m = await load(`${srv.base}/model.gguf`, opts({ onProgress: (e) => events.push(e) }));
    assert.equal(m.origin.kind, "network");
    assert.equal(m.origin.url, `${srv.base}/model.gguf`);
    assert.equal(m.info.fileBytes, bytes.length);
    assert.ok(events.length >= 1);
    for (let i = 0; i < events.length; i++) {
      assert.equal(events[i].total, bytes.length);
      if (i) assert.ok(events[i].loaded > events[i - 1].loaded, "progress grows");
    }
    assert.equal(events.at(-1).loaded, bytes.length);
    same(m);
  });

  test("URL objects, Requests, Responses, Blobs, streams, ArrayBuffers and file: URLs give the same model", async () => {
    same(await load(new URL(`${srv.base}/model.gguf`), opts()));
    same(await load(new Request(`${srv.base}/model.gguf`), opts()));
    same(await load(await fetch(`${srv.base}/model.gguf`), opts()));
    same(await load(new Blob([bytes]), opts()));
    same(await load((await fetch(`${srv.base}/model.gguf`)).body, opts()));
    same(await load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), opts()));
    const m = await load(pathToFileURL(path(MODEL)), opts());
    assert.equal(m.origin.kind, "file");
    same(m);
  });

  test("Node: plain file paths, absolute and relative to the working directory, load as file: URLs", async () => {
    const abs = await load(path(MODEL), opts());
    assert.equal(abs.origin.kind, "file");
    assert.equal(abs.origin.url, pathToFileURL(path(MODEL)).href);
    same(abs);
    const cwd = process.cwd();
    process.chdir(path(""));
    try {
      const rel = await load(`./${MODEL}`, opts());
      assert.equal(rel.origin.url, pathToFileURL(path(MODEL)).href);
      same(rel);
      await assert.rejects(load("./no/such/model.gguf", opts()), (e) => e instanceof EdgetagError && e.code === "IO");
    } finally {
      process.chdir(cwd);
    }
  });

  test("bytes in memory: progress per megabyte up to the total; an abort before or during the copy stops the load", async () => {
    const events = [];
    const m = await load(bytes, opts({ onProgress: (e) => events.push(e) }));
    assert.equal(m.origin.kind, "bytes");
    assert.equal(events.length, Math.ceil(bytes.length / (1 << 20)));
    assert.ok(events.every((e, i) => e.total === bytes.length && e.loaded === Math.min((i + 1) << 20, bytes.length)));
    same(m);
    const c = new AbortController();
    c.abort(new Error("user left"));
    await assert.rejects(load(bytes, opts({ signal: c.signal })), { message: "user left" });
    const d = new AbortController(); // aborted from the progress callback, during the copy
    await assert.rejects(load(bytes, opts({ signal: d.signal, onProgress: () => d.abort(new Error("gone")) })), { message: "gone" });
  });

  test("loading bytes in a fresh Node process leaves Node's fetch implementation unloaded (~40 ms of a cold start)", async () => {
    // Node creates fetch, Request, Response and Blob on first access, loading undici; a byte source needs none.
    const script = `
      import { readFileSync } from "node:fs";
      const { load } = await import(${JSON.stringify(new URL("../../web/edgetag.js", import.meta.url).href)});
      const m = await load(readFileSync(${JSON.stringify(path(MODEL))}), { simd: ${JSON.stringify(simd)} });
      m.logits([101, 200, 102]);
      console.log(JSON.stringify(process.moduleLoadList.filter((x) => /undici/.test(x))));`;
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync(process.execPath, [...process.execArgv.filter((a) => a.startsWith("--experimental-wasm") || a === "--no-liftoff"),
      "--input-type=module", "-e", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)), []);
  });

  test("a body of unknown size (chunked, or gzip: Content-Length is not the model's) reports total null", async () => {
    for (const p of ["/chunked.gguf", "/gzip.gguf"]) {
      const events = [];
      const m = await load(`${srv.base}${p}`, opts({ onProgress: (e) => events.push(e) }));
      assert.ok(events.every((e) => e.total === null), p);
      assert.equal(events.at(-1).loaded, bytes.length, p);
      same(m);
    }
  });

  test("HTTP errors, truncated bodies, refused connections and bad files are EdgetagErrors with a code", async () => {
    await assert.rejects(load(`${srv.base}/missing.gguf`, opts()), { name: "EdgetagError", code: "IO", message: /HTTP 404/ });
    await assert.rejects(load(`${srv.base}/truncated.gguf`, opts()), (e) => e instanceof EdgetagError && e.code === "IO");
    await assert.rejects(load("http://127.0.0.1:9/none.gguf", opts()), { code: "IO", message: /fetching .* failed/ });
    await assert.rejects(load(`${srv.base}/garbage.gguf`, opts()), { code: "BAD_MAGIC" });
    await assert.rejects(load(42, opts()), { code: "INVALID_ARGUMENT" });
    await assert.rejects(load("intent-clinc", opts()), { code: "MISSING", message: /no cached model named intent-clinc/ });
    await assert.rejects(load(bytes, opts({ onProgress: 1 })), { code: "INVALID_ARGUMENT" });
  });

  test("integrity: SRI and hex digests pass; a tampered file fails before the engine reads it", async () => {
    same(await load(`${srv.base}/model.gguf`, opts({ integrity: sri })));
    const m = await load(bytes, opts({ integrity: hex }));
    assert.equal(m.origin.sha256, hex);
    same(m);
    await assert.rejects(load(`${srv.base}/tampered.gguf`, opts({ integrity: sri })),
      { name: "EdgetagError", code: "INTEGRITY", message: new RegExp(`not the expected ${hex}`) });
    await assert.rejects(load(bytes, opts({ integrity: "md5-abc" })), { code: "INVALID_ARGUMENT" });
  });

  test("abort: before the start, and in the middle of a slow body (promptly, with the signal's reason)", async () => {
    const before = new AbortController();
    before.abort();
    await assert.rejects(load(`${srv.base}/model.gguf`, opts({ signal: before.signal })), { name: "AbortError" });
    const c = new AbortController();
    const t0 = performance.now();
    const p = load(`${srv.base}/slow.gguf`, opts({ signal: c.signal, onProgress: () => c.abort(new Error("user left")) }));
    await assert.rejects(p, { message: "user left" });
    assert.ok(performance.now() - t0 < 2000, "the abort does not wait for the body");
  });
});

describe("load() with a cache adapter", () => {
  let srv;
  before(async () => { srv = await modelServer(); });
  after(() => srv.server.close());

  test("the second load comes from the cache without touching the network; by URL and by name", async () => {
    const cache = memoryCache();
    const url = `${srv.base}/model.gguf`;
    const first = await load(url, opts({ cache }));
    assert.equal((await first.cached).cache, "stored");
    assert.equal(first.origin.cache, "stored");
    assert.equal(first.origin.sha256, hex);
    const [{ manifest }] = cache.entries.values();
    assert.deepEqual({ name: manifest.name, version: manifest.version, sha256: manifest.sha256, size: manifest.size, url: manifest.url },
      { name: first.info.name, version: first.info.version, sha256: hex, size: bytes.length, url });
    const expected = first.logits(IDS);
    first.dispose();
    const n = srv.count("/model.gguf");
    const events = [];
    const second = await load(url, opts({ cache, onProgress: (e) => events.push(e) }));
    assert.equal(srv.count("/model.gguf"), n, "no request for a cached model");
    assert.equal(second.origin.kind, "cache");
    assert.equal(second.origin.cache, "hit");
    assert.equal(events.at(-1).loaded, bytes.length);
    assert.deepEqual(second.logits(IDS).data, expected.data);
    second.dispose();
    const byName = await load(first.info.name.replace(/[^A-Za-z0-9_-]/g, "") || "x", opts({ cache, key: url }));
    assert.equal(byName.origin.kind, "cache");
    byName.dispose();
  });

  test("a cache entry whose bytes changed is dropped and the model fetched again", async () => {
    const cache = memoryCache();
    const url = `${srv.base}/model.gguf`;
    const stored = await load(url, opts({ cache }));
    await stored.cached;
    stored.dispose();
    const entry = cache.entries.get(url);
    const bad = new Uint8Array(await entry.data.arrayBuffer());
    bad[1000] ^= 1;
    entry.data = new Blob([bad]);
    const n = srv.count("/model.gguf");
    const m = await load(url, opts({ cache }));
    assert.equal(m.origin.kind, "network");
    assert.ok(cache.calls.some(([op, k]) => op === "delete" && k === url), "the bad entry is deleted");
    assert.equal(srv.count("/model.gguf"), n + 1);
    assert.equal((await m.cached).cache, "stored");
    m.dispose();
  });

  test("integrity that does not match the cached file goes to the network and fails there", async () => {
    const cache = memoryCache();
    const url = `${srv.base}/tampered.gguf`;
    await assert.rejects(load(url, opts({ cache, integrity: sri })), { code: "INTEGRITY" });
    assert.equal(cache.entries.size, 0, "nothing is cached from a failed check");
  });

  test("a full disk: other versions are evicted and the put retried; still full → the model works uncached", async () => {
    const url = `${srv.base}/model.gguf`;
    const roomy = memoryCache({ quotaBytes: bytes.length * 1.5 });
    roomy.entries.set("old", { data: new Blob([new Uint8Array(bytes.length)]), manifest: { name: (await load(bytes, opts())).info.name, version: "old", sha256: "0".repeat(64) } });
    const m = await load(url, opts({ cache: roomy }));
    assert.match((await m.cached).cache, /^stored after evicting 1 older version$/);
    assert.ok(!roomy.entries.has("old"));
    m.dispose();
    const tiny = memoryCache({ quotaBytes: 1000 });
    const m2 = await load(url, opts({ cache: tiny }));
    assert.equal((await m2.cached).cache, "not stored: quota exceeded");
    assert.deepEqual(m2.logits(IDS).rows, 1);
    m2.dispose();
  });

  test("the answer does not wait for the cache write: origin.cache is \"storing\", then `cached` settles it", async () => {
    const cache = memoryCache();
    let release;
    const gate = new Promise((r) => { release = r; });
    const put = cache.put;
    cache.put = async function (...args) { await gate; return put.apply(this, args); };
    const url = `${srv.base}/model.gguf`;
    const m = await load(url, opts({ cache }));
    assert.equal(m.origin.cache, "storing");
    assert.equal(m.logits(IDS).rows, 1, "the model answers while the write is pending");
    let settled = false;
    m.cached.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false);
    release();
    const origin = await m.cached;
    assert.deepEqual([origin.cache, m.origin.cache, Object.isFrozen(m.origin)], ["stored", "stored", true]);
    assert.equal(origin.sha256, hex);
    m.dispose();
    const n = srv.count("/model.gguf");
    const again = await load(url, opts({ cache }));
    assert.deepEqual([again.origin.kind, again.origin.cache, srv.count("/model.gguf")], ["cache", "hit", n]);
    assert.equal(await again.cached, again.origin, "nothing to write: cached resolves with the origin at once");
    again.dispose();
  });

  test("a failing cache write is reported in origin, not thrown", async () => {
    const failing = { get: async () => undefined, put: async () => { throw new Error("disk gone"); }, delete: async () => {} };
    const m = await load(`${srv.base}/model.gguf`, opts({ cache: failing }));
    assert.equal(m.origin.cache, "storing");
    assert.equal((await m.cached).cache, "not stored: Error: disk gone");
    assert.equal(m.origin.cache, "not stored: Error: disk gone");
    assert.equal(m.logits(IDS).rows, 1);
    m.dispose();
    const unloaded = await load(bytes, opts());
    assert.equal((await unloaded.cached).cache, "none", "no cache: settled at once");
    unloaded.dispose();
  });

  test("a cache that throws on read is treated as a miss", async () => {
    const broken = { get: async () => { throw new Error("disk gone"); }, put: async () => {}, delete: async () => {} };
    const m = await load(`${srv.base}/model.gguf`, opts({ cache: broken }));
    assert.equal(m.origin.kind, "network");
    m.dispose();
    await assert.rejects(load(`${srv.base}/model.gguf`, opts({ cache: { get() {} } })), { code: "INVALID_ARGUMENT" });
  });
});

describe("the worker tagger", () => {
  let srv;
  before(async () => { srv = await modelServer(); });
  after(() => srv.server.close());

  test("runs the same model off the main thread: same results, progress, typed arrays transferred", async () => {
    const local = await load(bytes, opts());
    const events = [];
    const w = await createWorkerTagger(`${srv.base}/model.gguf`, opts({ onProgress: (e) => events.push(e) }));
    assert.equal(events.at(-1).loaded, bytes.length);
    assert.deepEqual(w.info, local.info);
    assert.deepEqual(await w.cached, w.origin, "no cache in a Node worker thread: settled with the load");
    assert.equal(w.origin.cache, "none");
    const [a, b] = [await w.logits(IDS), local.logits(IDS)];
    assert.ok(a.data instanceof Float32Array);
    assert.deepEqual(a.data, b.data);
    assert.deepEqual(await w.classify(["hello", "a longer text to classify"]), local.classify(["hello", "a longer text to classify"]));
    assert.deepEqual(await w.tokenize("héllo wörld"), local.tokenize("héllo wörld"));
    assert.deepEqual(await w.embed("hello"), local.embed("hello"));
    assert.ok(w.wasmMemoryBytes > bytes.length);
    // Calls queue in order; many in flight at once all answer.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => w.classify(`text number ${i}`)));
    assert.deepEqual(many.map((r) => r.label), Array.from({ length: 20 }, (_, i) => local.classify(`text number ${i}`).label));
    await w.dispose();
    await assert.rejects(w.classify("x"), { code: "STATE" });
    local.dispose();
  });

  test("escalation wraps a worker tagger: local answers from the worker, cloud answers through the endpoint", async () => {
    const cloud = await startCloudServer({ answer: ({ labels }) => ({ label: labels.at(-1), score: 0.99 }) });
    const w = await createWorkerTagger(bytes, opts());
    try {
      const endpoint = { kind: "openai", url: cloud.openaiUrl, model: "m" };
      const never = withEscalation(w, { endpoint, threshold: 0, escalateLabels: [] });
      const always = withEscalation(w, { endpoint, threshold: 1.01 });
      const local = await never.classify("hello world");
      assert.equal(local.source, "local");
      assert.equal(cloud.requests.length, 0);
      const up = await always.classify(["hello world", "another text"]);
      assert.deepEqual(up.map((r) => [r.source, r.label]), [["cloud", w.info.labels.at(-1)], ["cloud", w.info.labels.at(-1)]]);
      assert.equal(up[0].localLabel, local.label);
      assert.equal(cloud.requests.length, 2);
    } finally {
      await w.dispose();
      await cloud.close();
    }
  });

  test("load(…, {worker: true}) with bytes, errors keep their codes, abort rejects at once", async () => {
    const w = await load(new Uint8Array(bytes), opts({ worker: true }));
    await assert.rejects(w.logits([101, 5000, 102]), { name: "EdgetagError", code: "INPUT" });
    await w.dispose();
    // Both builds' URLs cross into the worker, which fetches its flavour's.
    const wasmUrl = { relaxed: pathToFileURL(path("build/edgetag-relaxed.wasm")), baseline: pathToFileURL(path("build/edgetag.wasm")) };
    const w2 = await load(new Uint8Array(bytes), opts({ worker: true, wasmUrl }));
    assert.equal((await w2.logits(IDS)).rows, 1);
    await w2.dispose();
    await assert.rejects(createWorkerTagger(`${srv.base}/garbage.gguf`, opts()), { name: "EdgetagError", code: "BAD_MAGIC" });
    await assert.rejects(createWorkerTagger(`${srv.base}/tampered.gguf`, opts({ integrity: hex })), { code: "INTEGRITY" });
    const c = new AbortController();
    const t0 = performance.now();
    await assert.rejects(createWorkerTagger(`${srv.base}/slow.gguf`, opts({ signal: c.signal, onProgress: () => c.abort() })),
      { name: "AbortError" });
    assert.ok(performance.now() - t0 < 2000);
    await assert.rejects(createWorkerTagger(bytes, opts({ cache: memoryCache() })), { code: "INVALID_ARGUMENT" });
  });
});
