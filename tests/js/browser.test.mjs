// browser.test.mjs — the library in real headless Chromium (Debian's, driven by playwright-core) with real
// IndexedDB: the cache across a reload and across a browser restart, a corrupt cache entry, a full disk
// (the origin's quota set small through the DevTools protocol), the Web Worker path, integrity failures,
// progress events and abort.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkChromium, launchChromium } from "./browser/chromium.mjs";
import { startServer } from "./browser/server.mjs";
import { path, readBuilt } from "./helpers.mjs";

const MODEL_PATH = "/build/ref/tiny.gguf";
const bytes = readBuilt("build/ref/tiny.gguf", "make refmodels");
readBuilt("build/edgetag.wasm", "make wasm");
checkChromium();

/** Misbehaving model routes beside the static files. */
const routes = {
  "/tampered.gguf": (req, res) => {
    const copy = Buffer.from(bytes);
    copy[copy.length - 9] ^= 1;
    res.writeHead(200, { "content-length": copy.length }).end(copy);
  },
  "/slow.gguf": (req, res) => {
    res.writeHead(200, { "content-length": bytes.length });
    res.write(bytes.subarray(0, 4096));
    const t = setTimeout(() => res.end(bytes.subarray(4096)), 10000);
    res.on("close", () => clearTimeout(t));
  },
};

describe("in Chromium", () => {
  let srv, profile, context, page;
  const launch = async () => {
    context = await launchChromium(profile);
    page = context.pages()[0] ?? await context.newPage();
    page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
    await open();
  };
  const open = async () => {
    await page.goto(`${srv.base}/tests/js/browser/page.html`);
    await page.waitForFunction(() => window.ready === true);
  };
  /** Runs fn(edgetag, arg) in the page. */
  const run = (fn, arg) => page.evaluate(([src, a]) => new Function("edgetag", "arg", `return (${src})(edgetag, arg)`)(window.edgetag, a), [fn.toString(), arg]);
  /** Loads a model in the page and tells where it came from (its origin, once any cache write has settled). */
  const loadOrigin = (url) => run(async (et, u) => {
    const m = await et.load(u);
    const o = await m.cached;
    m.dispose();
    return o;
  }, url);

  before(async () => {
    srv = await startServer(path(""), routes);
    profile = mkdtempSync(join(tmpdir(), "edgetag-chromium-"));
    await launch();
  });
  after(async () => {
    await context?.close();
    await srv?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  test("first load answers from the network, with progress, before the IndexedDB write, which then settles", async (t) => {
    const r = await run(async (et, url) => {
      const events = [];
      const m = await et.load(url, { onProgress: (e) => events.push(e) });
      const answered = performance.now();
      // Answered at once: the write runs after.
      const out = { origin: m.origin, info: m.info, events, labels: m.classify("hello world").label, simd: (await et.init()).flavour };
      out.final = await m.cached;
      out.writeMs = performance.now() - answered;
      const stored = await et.indexedDBCache().list();
      m.dispose();
      return { ...out, stored };
    }, MODEL_PATH);
    assert.equal(r.origin.kind, "network");
    assert.equal(r.origin.cache, "storing");
    assert.equal(r.final.cache, "stored");
    t.diagnostic(`the IndexedDB write settled ${r.writeMs.toFixed(0)} ms after load() answered`);
    assert.equal(r.simd, "relaxed", "Chromium runs the relaxed build");
    assert.equal(r.events.at(-1).loaded, bytes.length);
    assert.ok(r.events.every((e) => e.total === bytes.length));
    assert.equal(r.stored.length, 1);
    assert.deepEqual({ name: r.stored[0].name, size: r.stored[0].size, key: r.stored[0].key },
      { name: r.info.name, size: bytes.length, key: `${srv.base}${MODEL_PATH}` });
  });

  test("after a reload the model comes from IndexedDB without a request, by URL and by name", async () => {
    const before = srv.count(MODEL_PATH);
    await open();
    const r = await run(async (et, url) => {
      const m = await et.load(url);
      const byName = await et.load(m.info.name === "" ? "x" : m.origin.url, {});
      const out = { origin: m.origin, label: m.classify("hello world").label, second: byName.origin.kind };
      m.dispose(); byName.dispose();
      return out;
    }, MODEL_PATH);
    assert.equal(r.origin.kind, "cache");
    assert.equal(r.origin.cache, "hit");
    assert.equal(r.second, "cache");
    assert.equal(srv.count(MODEL_PATH), before, "no request reached the server");
  });

  test("after a browser restart the cache still serves the model", async () => {
    await context.close();
    await launch();
    const before = srv.count(MODEL_PATH);
    const r = await loadOrigin(MODEL_PATH);
    assert.equal(r.kind, "cache");
    assert.equal(srv.count(MODEL_PATH), before);
  });

  test("a cache entry whose bytes changed on disk is dropped and fetched again", async () => {
    const before = srv.count(MODEL_PATH);
    await run(async () => {
      // Rewrite the stored Blob with one byte flipped, as a damaged disk would.
      const db = await new Promise((ok, ko) => { const q = indexedDB.open("edgetag"); q.onsuccess = () => ok(q.result); q.onerror = () => ko(q.error); });
      const [rec] = await new Promise((ok) => { const q = db.transaction("models").objectStore("models").getAll(); q.onsuccess = () => ok(q.result); });
      const buf = new Uint8Array(await rec.data.arrayBuffer());
      buf[500] ^= 0xff;
      const tx = db.transaction("models", "readwrite");
      tx.objectStore("models").put({ ...rec, data: new Blob([buf]) });
      await new Promise((ok) => { tx.oncomplete = ok; });
      db.close();
    });
    const r = await loadOrigin(MODEL_PATH);
    assert.equal(r.kind, "network");
    assert.match(r.cacheError, /do not match their SHA-256/);
    assert.equal(r.cache, "stored");
    assert.equal(srv.count(MODEL_PATH), before + 1);
  });

  test("a full disk: with the origin's quota below the model's size the model loads, uncached", async () => {
    // A fresh origin (another port): Chromium's quota checks are reliable on an origin that stored nothing yet.
    const other = await startServer(path(""), routes);
    await page.goto(`${other.base}/tests/js/browser/page.html`);
    await page.waitForFunction(() => window.ready === true);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: other.base, quotaSize: 200 * 1024 });
    try {
      const r = await run(async (et, url) => {
        const m = await et.load(url);
        const out = { label: m.classify("hello").label, origin: await m.cached, stored: (await et.indexedDBCache().list()).length };
        m.dispose();
        return out;
      }, MODEL_PATH);
      assert.equal(r.origin.kind, "network");
      assert.equal(r.origin.cache, "not stored: quota exceeded");
      assert.equal(r.stored, 0);
      assert.equal(typeof r.label, "string");
    } finally {
      await cdp.send("Storage.overrideQuotaForOrigin", { origin: other.base });
      await cdp.detach();
      await open();
      await other.close();
    }
  });

  test("a browser that refuses Blobs in IndexedDB (WebKit's ephemeral sessions): the model is kept as an ArrayBuffer", async () => {
    // WebKit answers a Blob value in an ephemeral session's IndexedDB with this error (tests/js/demo/webkit.test.mjs
    // meets it for real); here the page's IDBObjectStore.put refuses Blobs the same way.
    const r = await run(async (et, url) => {
      await et.indexedDBCache().clear();
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (value, ...rest) {
        if (value?.data instanceof Blob) throw new DOMException("Error preparing Blob/File data to be stored in object store", "UnknownError");
        return put.call(this, value, ...rest);
      };
      try {
        const first = await et.load(url);
        const out = { first: (await first.cached).cache }; // the write settles after load() answers
        first.dispose();
        const again = await et.load(url);
        Object.assign(out, { again: again.origin.kind, label: typeof again.classify("hello").label });
        again.dispose();
        const db = await new Promise((ok, ko) => { const q = indexedDB.open("edgetag"); q.onsuccess = () => ok(q.result); q.onerror = () => ko(q.error); });
        const [rec] = await new Promise((ok) => { const q = db.transaction("models").objectStore("models").getAll(); q.onsuccess = () => ok(q.result); });
        db.close();
        out.stored = Object.prototype.toString.call(rec.data);
        return out;
      } finally {
        IDBObjectStore.prototype.put = put;
      }
    }, MODEL_PATH);
    assert.deepEqual(r, { first: "stored", again: "cache", label: "string", stored: "[object ArrayBuffer]" });
  });

  test("integrity: a tampered model is refused and nothing is cached", async () => {
    const sri = "sha256-" + (await crypto.subtle.digest("SHA-256", bytes).then((d) => Buffer.from(d).toString("base64")));
    const r = await run(async (et, { sri }) => {
      const out = {};
      try { await et.load("/tampered.gguf", { integrity: sri }); out.tampered = "loaded"; } catch (e) { out.tampered = [e.name, e.code]; }
      const m = await et.load("/build/ref/tiny.gguf", { integrity: sri, cache: "none" });
      out.good = m.origin.sha256;
      m.dispose();
      out.keys = (await et.indexedDBCache().list()).map((x) => x.key);
      return out;
    }, { sri });
    assert.deepEqual(r.tampered, ["EdgetagError", "INTEGRITY"]);
    assert.equal(r.good, Buffer.from(sri.slice(7), "base64").toString("hex"));
    assert.ok(!r.keys.some((k) => k.endsWith("/tampered.gguf")));
  });

  test("abort in the middle of a download rejects at once with the signal's reason", async () => {
    const r = await run(async (et) => {
      const c = new AbortController();
      const t0 = performance.now();
      try {
        await et.load("/slow.gguf", { signal: c.signal, onProgress: () => c.abort(new DOMException("stop", "AbortError")) });
        return { outcome: "loaded" };
      } catch (e) {
        return { outcome: e.name, ms: performance.now() - t0 };
      }
    });
    assert.equal(r.outcome, "AbortError");
    assert.ok(r.ms < 3000, `${r.ms} ms`);
  });

  test("the Web Worker tagger: same answers, progress, a responsive main thread, cache in the worker", async () => {
    const r = await run(async (et, url) => {
      await et.indexedDBCache().clear();
      const local = await et.load(url, { cache: "none" });
      const events = [];
      const w = await et.createWorkerTagger(url, { onProgress: (e) => events.push(e) });
      const first = w.origin;
      const texts = Array.from({ length: 64 }, (_, i) => `a text of some length, number ${i}, to classify in the worker`);
      // While the worker classifies, the main thread keeps ticking.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const t0 = performance.now();
      const [remote] = await Promise.all([w.classify(texts)]);
      const ms = performance.now() - t0;
      clearInterval(timer);
      const same = JSON.stringify(remote) === JSON.stringify(local.classify(texts));
      const logits = await w.logits([101, 7, 102]);
      const out = { same, ticks, ms, events: events.length, loaded: events.at(-1)?.loaded, first, origin: await w.cached,
        isF32: logits.data instanceof Float32Array, tokens: (await w.tokenize("héllo")).ids.length };
      await w.dispose();
      try { await w.classify("x"); } catch (e) { out.after = e.code; }
      const again = await et.load(url, { worker: true }); // the worker stored the model: this one reads it
      out.again = again.origin.kind;
      await again.dispose();
      local.dispose();
      return out;
    }, MODEL_PATH);
    assert.ok(r.same, "the worker's answers equal the page's");
    assert.equal(r.first.cache, "storing", "the worker answered before its cache write");
    assert.deepEqual([r.origin.kind, r.origin.cache], ["network", "stored"], "the worker stores in the origin's IndexedDB");
    assert.equal(r.again, "cache", "the next worker reads it there");
    assert.ok(r.isF32);
    assert.equal(r.loaded, bytes.length);
    assert.ok(r.tokens >= 3);
    assert.equal(r.after, "STATE");
    assert.ok(r.ticks >= Math.min(5, r.ms / 20), `main thread ticked ${r.ticks} times in ${r.ms} ms`);
  });

  test("the Web Worker tagger: integrity failure and abort", async () => {
    const r = await run(async (et) => {
      const out = {};
      try { await et.createWorkerTagger("/tampered.gguf", { integrity: "0".repeat(64) }); } catch (e) { out.integrity = e.code; }
      const c = new AbortController();
      try {
        await et.load("/slow.gguf", { worker: true, signal: c.signal, onProgress: () => c.abort() });
      } catch (e) { out.abort = e.name; }
      return out;
    });
    assert.deepEqual(r, { integrity: "INTEGRITY", abort: "AbortError" });
  });
});

