// release-browser.test.mjs — signed release channels in real browsers. Headless Chromium with real IndexedDB: a first
// install; an update whose download is cut by a browser restart (the old version alone in IndexedDB until the
// new one is proven; after the restart the old one serves from the cache and the download starts over, cleanly);
// rollback after a corrupt model and after a failed smoke test, remembered across a reload; the channel in a Web
// Worker and in a Service Worker; a WebCrypto without Ed25519 (refused, nothing fetched); telemetry by beacon
// when the page is left, without any text. Then WebKitGTK (Safari's engine family): Ed25519 there too.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkChromium, launchChromium } from "./browser/chromium.mjs";
import { startServer } from "./browser/server.mjs";
import { startWebKit, webkitMissing } from "./browser/webdriver.mjs";
import { path, readBuilt } from "./helpers.mjs";
import { manifest, newKey, releaseOf, sha256, variant } from "./release-fixtures.mjs";

const TINY = readBuilt("build/ref/tiny-i8.gguf", "make refmodels");
readBuilt("build/edgetag.wasm", "make wasm");
checkChromium();
const key = newKey();
const V = [1, 2, 3, 4].map((n) => variant(TINY, n));
const MANIFEST = "/rel/tiny/stable.json";
const MARKER = "ZQXMARKER-4471";

/** Release files beside the static ones: set(path, body, {chunkDelayMs}); hits(path); ETags; POST /telemetry recorded. */
function releaseRoutes() {
  const served = new Map(), hits = new Map(), beacons = [];
  const handle = async (p, req, res) => {
    if (p === "/telemetry") {
      let body = "";
      for await (const c of req) body += c;
      beacons.push({ type: req.headers["content-type"], body });
      return res.writeHead(204).end();
    }
    const r = served.get(p);
    const h = hits.get(p) ?? hits.set(p, { ok: 0, notModified: 0, cut: 0 }).get(p);
    const etag = `"${sha256(r.body).slice(0, 16)}"`;
    if (req.headers["if-none-match"] === etag) {
      h.notModified++;
      return res.writeHead(304, { etag }).end();
    }
    h.ok++;
    res.writeHead(200, { "content-length": r.body.length, etag, "cache-control": "no-cache" });
    if (!r.chunkDelayMs) return res.end(r.body);
    let closed = false;
    res.on("close", () => { closed = true; });
    for (let at = 0; at < r.body.length; at += 8192) {
      if (closed) { h.cut++; return; }
      res.write(r.body.subarray(at, at + 8192));
      await new Promise((ok) => setTimeout(ok, r.chunkDelayMs));
    }
    res.end();
  };
  const routes = new Proxy({}, { get: (_, p) => (served.has(p) || p === "/telemetry" ? (req, res) => handle(p, req, res) : undefined) });
  return {
    routes, beacons,
    set: (p, body, extra = {}) => served.set(p, { body: Buffer.from(body), ...extra }),
    hits: (p) => ({ ok: 0, notModified: 0, cut: 0, ...hits.get(p) }),
  };
}

describe("signed releases in Chromium (IndexedDB)", () => {
  let srv, rr, rel, profile, context, page;
  const publish = (fields) => rr.set(MANIFEST, JSON.stringify(manifest(key.privateKey, fields)));
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
  /** Opens the channel in the page (kept as window.channel) and answers its version, origin and state. */
  const openChannel = () => run(async (et, { manifest: m, publicKey }) => {
    const events = [];
    window.channel = await et.load({ manifest: m, publicKey }, { checkIntervalMs: 0 });
    for (const type of ["update", "rollback", "progress"]) window.channel.addEventListener(type, (e) => events.push([type, e.detail]));
    window.events = events;
    return { version: window.channel.version, origin: window.channel.origin, state: window.channel.state };
  }, { manifest: MANIFEST, publicKey: key.publicKey });
  /** The versions in the channel's IndexedDB cache. */
  const cached = () => run(async (et) => (await et.indexedDBCache({ dbName: "edgetag-release-models" }).list()).map((m) => m.version).sort());

  before(async () => {
    rr = releaseRoutes();
    srv = await startServer(path(""), rr.routes);
    rel = await Promise.all(V.map((v, i) => releaseOf(v.bytes, v.version, `v${i + 1}.gguf`)));
    V.forEach((v, i) => rr.set(`/rel/tiny/v${i + 1}.gguf`, v.bytes));
    profile = mkdtempSync(join(tmpdir(), "edgetag-release-chromium-"));
    await launch();
  });
  after(async () => {
    await context?.close();
    await srv?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  test("first install: verified with WebCrypto's Ed25519, stored in IndexedDB once proven", async () => {
    publish({ current: rel[0] });
    const r = await openChannel();
    assert.equal(r.version, V[0].version);
    assert.deepEqual([r.origin.kind, r.state.lastCheck.outcome], ["network", "installed"]);
    await run(() => window.channel.checkNow()); // settles the first install's cache write
    assert.deepEqual(await cached(), [V[0].version]);
  });

  test("a browser restart mid-download: v1 alone in IndexedDB until v2 is proven; after the restart v1 serves and v2 starts over", async () => {
    rr.set("/rel/tiny/v2.gguf", V[1].bytes, { chunkDelayMs: 150 });
    publish({ current: rel[1], previous: rel[0] });
    const during = await run(async () => {
      window.channel.checkNow();
      await new Promise((ok) => window.channel.addEventListener("progress", (e) => e.detail.loaded >= 32768 && ok(), { once: false }));
      return { phase: window.channel.state.phase, candidate: window.channel.state.candidate, version: window.channel.version };
    });
    assert.equal(during.version, V[0].version);
    assert.equal(during.candidate.version, V[1].version);
    assert.ok(during.candidate.loaded < V[1].bytes.length);
    assert.deepEqual(await cached(), [V[0].version], "v2 is not in the cache before it is proven");
    const v1Fetches = rr.hits("/rel/tiny/v1.gguf").ok;
    await context.close(); // the browser goes away in the middle of the download
    await launch();
    rr.set("/rel/tiny/v2.gguf", V[1].bytes);
    const r = await openChannel();
    assert.deepEqual([r.version, r.origin.kind], [V[0].version, "cache"], "v1 serves from IndexedDB at once");
    assert.equal(rr.hits("/rel/tiny/v1.gguf").ok, v1Fetches, "without fetching v1");
    assert.deepEqual(await cached(), [V[0].version], "nothing of the cut download was kept");
    const check = await run(async () => ({ outcome: (await window.channel.checkNow()).outcome, version: window.channel.version,
      label: window.channel.classify("book a table").label, events: window.events.filter(([t]) => t !== "progress") }));
    assert.deepEqual([check.outcome, check.version], ["updated", V[1].version]);
    assert.deepEqual(check.events, [["update", { version: V[1].version, previous: V[0].version }]]);
    assert.deepEqual(await cached(), [V[0].version, V[1].version].sort(), "proven: v2 stored, v1 kept as the way back");
    const v2 = rr.hits("/rel/tiny/v2.gguf");
    assert.equal(v2.ok, 2, "the cut download and the one that finished");
  });

  test("rollback: a corrupt v3 and a v4 that fails its smoke test are refused; v2 serves; remembered after a reload", async () => {
    const corrupt = Buffer.from(V[2].bytes);
    corrupt[corrupt.length - 64] ^= 0x01;
    rr.set("/rel/tiny/v3.gguf", corrupt);
    publish({ current: rel[2], previous: rel[1] });
    const wrong = rel[3].test.expect.label === "negative" ? "positive" : "negative";
    const r = await run(async () => {
      const first = await window.channel.checkNow();
      return { outcome: first.outcome, version: window.channel.version, bad: window.channel.state.bad.map((b) => [b.version, b.code]) };
    });
    assert.deepEqual([r.outcome, r.version], ["rolled_back", V[1].version]);
    assert.deepEqual(r.bad, [[V[2].version, "INTEGRITY"]]);
    publish({ current: { ...rel[3], test: { input: rel[3].test.input, expect: { label: wrong } } }, previous: rel[1] });
    const s = await run(async () => ({ outcome: (await window.channel.checkNow()).outcome, version: window.channel.version,
      rollbacks: window.events.filter(([t]) => t === "rollback").map(([, d]) => d.code) }));
    assert.deepEqual([s.outcome, s.version, s.rollbacks], ["rolled_back", V[1].version, ["INTEGRITY", "SMOKE_TEST"]]);
    assert.deepEqual(await cached(), [V[0].version, V[1].version].sort(), "neither refused version reached the cache");
    await open();
    const again = await openChannel();
    assert.deepEqual([again.version, again.origin.kind], [V[1].version, "cache"]);
    assert.deepEqual(again.state.bad.map((b) => [b.version, b.code]), [[V[2].version, "INTEGRITY"], [V[3].version, "SMOKE_TEST"]]);
  });

  test("the channel runs in a dedicated Web Worker and in a Service Worker (WebCrypto's Ed25519 in both)", async () => {
    publish({ current: rel[1] });
    const tampered = JSON.stringify({ ...manifest(key.privateKey, { current: rel[1] }), rollout: 1 });
    const r = await run(async (et, msg) => {
      const ask = (target) => new Promise((ok) => {
        const { port1, port2 } = new MessageChannel();
        port1.onmessage = (e) => ok(e.data);
        target.postMessage(msg, [port2]);
      });
      const worker = new Worker("/tests/js/browser/release-worker.js", { type: "module" });
      const inWorker = await ask(worker);
      worker.terminate();
      const reg = await navigator.serviceWorker.register("/tests/js/browser/release-worker.js", { type: "module", scope: "/tests/js/browser/" });
      const sw = reg.installing ?? reg.waiting ?? reg.active;
      if (sw.state !== "activated") await new Promise((ok) => sw.addEventListener("statechange", () => sw.state === "activated" && ok()));
      const inServiceWorker = await ask(sw);
      await reg.unregister();
      return { inWorker, inServiceWorker };
    }, { manifest: new URL(MANIFEST, srv.base).href, publicKey: key.publicKey, tampered });
    for (const [where, a] of [["worker", r.inWorker], ["service worker", r.inServiceWorker]]) {
      assert.equal(a.error, undefined, `${where}: ${a.message}`);
      assert.deepEqual([a.where, a.version, a.refused, a.flavour], [where, V[1].version, "SIGNATURE", "relaxed"]);
    }
  });

  test("a WebCrypto without Ed25519: the release is refused (UNSUPPORTED) before any model byte is fetched", async () => {
    publish({ current: rel[0] });
    const before = rr.hits("/rel/tiny/v1.gguf").ok;
    const r = await run(async (et, { manifest: m, publicKey }) => {
      const importKey = crypto.subtle.importKey;
      crypto.subtle.importKey = function (format, raw, alg, ...rest) {
        if ((alg?.name ?? alg) === "Ed25519") return Promise.reject(new DOMException("Algorithm: Unrecognized name", "NotSupportedError"));
        return importKey.call(this, format, raw, alg, ...rest);
      };
      try {
        await et.load({ manifest: m, publicKey }, { checkIntervalMs: 0, cache: "none", store: "memory" });
        return "loaded";
      } catch (e) {
        return [e.code, e.message];
      } finally {
        crypto.subtle.importKey = importKey;
      }
    }, { manifest: MANIFEST, publicKey: key.publicKey });
    assert.equal(r[0], "UNSUPPORTED");
    assert.match(r[1], /has no Ed25519/);
    assert.equal(rr.hits("/rel/tiny/v1.gguf").ok, before);
  });

  test("telemetry: leaving the page sends a beacon with the counters, the version and the build — and no text", async () => {
    await run(async (et, marker) => {
      window.reporting = et.telemetry({ endpoint: "/telemetry", sources: { intents: window.channel }, intervalMs: 0 });
      for (let i = 0; i < 5; i++) window.channel.classify(`please call ${marker} about order ${i}`);
    }, MARKER);
    await page.goto("about:blank"); // pagehide
    await new Promise((ok) => setTimeout(ok, 500));
    assert.equal(rr.beacons.length, 1);
    const [beacon] = rr.beacons;
    assert.match(beacon.type, /^text\/plain/);
    assert.ok(!beacon.body.includes(MARKER) && !beacon.body.includes("please call"));
    const report = JSON.parse(beacon.body);
    const intents = report.batches[0].sources.intents;
    assert.deepEqual([intents.version, intents.channel, intents.flavour, intents.stats.requests.classify], [V[1].version, "tiny/stable", "relaxed", 5]);
    await open();
  });
});

describe("signed releases in WebKitGTK (Safari's engine family)", { skip: webkitMissing() ?? false }, () => {
  let srv, rr, wk;
  before(async () => {
    rr = releaseRoutes();
    srv = await startServer(path(""), rr.routes);
    const rel = await releaseOf(V[0].bytes, V[0].version, "v1.gguf");
    rr.set("/rel/tiny/v1.gguf", V[0].bytes);
    rr.set(MANIFEST, JSON.stringify(manifest(key.privateKey, { current: rel })));
    wk = await startWebKit();
  });
  after(async () => {
    await wk?.stop();
    await srv?.close();
  });

  test("WebCrypto's Ed25519 verifies the manifest; the release serves on the baseline build", async () => {
    await wk.session.navigate(`${srv.base}/tests/js/browser/page.html`);
    await wk.session.until("return window.ready === true");
    await wk.session.setTimeouts({ script: 60000 });
    const r = await wk.session.executeAsync(`const done = arguments[arguments.length - 1];
      window.edgetag.load({ manifest: ${JSON.stringify(MANIFEST)}, publicKey: ${JSON.stringify(key.publicKey)} },
        { checkIntervalMs: 0, cache: "none", store: "memory" })
        .then((c) => done({ version: c.version, flavour: c.flavour, label: c.classify("book a table").label }),
              (e) => done({ error: e.code || e.name, message: e.message }));`);
    assert.equal(r.error, undefined, r.message);
    assert.deepEqual([r.version, r.flavour], [V[0].version, "baseline"]);
  });
});
