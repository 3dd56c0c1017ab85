// release-update.test.mjs — a release channel against a real HTTP server on 127.0.0.1 (ETags, counts per path):
// the first install and what is refused before a byte is cached or run (tampered, wrong-key, expired, unsigned
// manifests; a tampered model); ETag revalidation without a body; an update swapped in while calls are in flight;
// rollback after a corrupt model and after a failed smoke test; engine-version gating; staged rollout from 10 % to
// 100 % and the team's rollback; a replayed older manifest; an aborted download; a restart from the cache.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { load, openRelease, memoryStore } from "../../web/edgetag.js";
import { manifest, memoryCache, newKey, releaseOf, releaseServer, rolloutBucketsOf, sha256, variant } from "./release-fixtures.mjs";
import { readBuilt } from "./helpers.mjs";

const TINY = readBuilt("build/ref/tiny-i8.gguf", "make refmodels");
const key = newKey();
const isoAgo = (ms) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, "Z");
const V = [1, 2, 3, 4, 5, 6].map((n) => variant(TINY, n)); // six versions of the same weights: other bytes, other version strings

/** Events of a channel, by type. */
function events(channel) {
  const seen = { update: [], rollback: [], skip: [], progress: [], check: [] };
  for (const type of Object.keys(seen)) channel.addEventListener(type, (e) => seen[type].push(e.detail));
  return seen;
}

describe("a release channel over HTTP", () => {
  let srv, base, rel;
  const opened = [];
  /** Opens the channel at /tiny/stable.json with the test's key; `options` over the defaults; closed after the suite. */
  const open = async (options = {}) => {
    const c = await load({ manifest: `${base}/tiny/stable.json`, publicKey: key.publicKey },
      { checkIntervalMs: 0, store: memoryStore(), cache: "none", ...options });
    opened.push(c);
    return c;
  };
  const publish = (fields) => srv.json("/tiny/stable.json", manifest(key.privateKey, fields));
  const modelPath = (i) => `/tiny/v${i + 1}.gguf`;

  before(async () => {
    srv = await releaseServer();
    base = srv.base;
    rel = await Promise.all(V.map((v, i) => releaseOf(v.bytes, v.version, `v${i + 1}.gguf`)));
    V.forEach((v, i) => srv.set(modelPath(i), v.bytes));
  });
  after(async () => {
    for (const c of opened) await c.dispose();
    await srv.close();
  });

  test("first install: verified, downloaded once, smoke-tested, serving; a second check is a 304 with no body", async () => {
    publish({ current: rel[0] });
    const c = await open();
    assert.equal(c.version, V[0].version);
    assert.equal(c.sha256, sha256(V[0].bytes));
    assert.equal(typeof c.classify("book a table for two").label, "string");
    const s = c.state;
    assert.deepEqual([s.phase, s.channel, s.lastCheck.outcome, s.rollout.inRollout, s.manifest.etag !== null], ["serving", "tiny/stable", "installed", true, true]);
    const before = srv.hits("/tiny/stable.json");
    assert.deepEqual(await c.checkNow().then((r) => r.outcome), "not_modified");
    const after = srv.hits("/tiny/stable.json");
    assert.equal(after.notModified, before.notModified + 1, "revalidated with If-None-Match");
    assert.equal(after.bytes, before.bytes, "no manifest body was sent");
    assert.equal(srv.hits(modelPath(0)).ok, 1, "the model was fetched once");
  });

  test("refused before a byte is fetched or cached: tampered, wrong-key, expired and unsigned manifests", async () => {
    const cases = {
      SIGNATURE: { ...manifest(key.privateKey, { current: rel[1] }), rollout: 50 },
      UNTRUSTED_KEY: manifest(newKey().privateKey, { current: rel[1] }),
      EXPIRED: manifest(key.privateKey, { current: rel[1], createdAt: isoAgo(7200_000), expiresAt: isoAgo(3600_000) }),
      UNSIGNED: (({ signature: _s, ...m }) => m)(manifest(key.privateKey, { current: rel[1] })),
    };
    for (const [code, m] of Object.entries(cases)) {
      srv.json("/tiny/stable.json", m);
      const cache = memoryCache();
      const e = await open({ cache }).catch((x) => x);
      assert.equal(e?.code, code, `${code}: ${e?.message}`);
      assert.equal(srv.hits(modelPath(1)).ok, 0, `${code}: the model was not fetched`);
      assert.equal(cache.entries.size, 0, `${code}: nothing cached`);
    }
  });

  test("a tampered model (bytes other than the manifest's SHA-256) is refused: INTEGRITY, nothing cached", async () => {
    const tampered = Buffer.from(V[1].bytes);
    tampered[tampered.length - 100] ^= 0x10;
    srv.set("/tiny/tampered.gguf", tampered);
    publish({ current: { ...rel[1], urls: ["tampered.gguf"] } });
    const cache = memoryCache();
    const e = await open({ cache }).catch((x) => x);
    assert.equal(e.code, "INTEGRITY");
    assert.equal(cache.entries.size, 0);
  });

  test("an update swaps in while calls are in flight (Web Worker taggers): they finish on the old version", async (t) => {
    publish({ current: rel[0] });
    const c = await open({ worker: true });
    const seen = events(c);
    let swapAt = null;
    c.addEventListener("update", () => { swapAt = performance.now(); });
    publish({ current: rel[1], previous: rel[0] });
    // Calls keep starting, a batch every 2 ms, for as long as the check (download, load, smoke test, swap) runs.
    const texts = Array.from({ length: 32 }, (_, j) => `text ${j} to classify, of some length, in a batch of many`);
    const check = c.checkNow();
    let checking = true;
    check.finally(() => { checking = false; });
    const calls = [];
    while (checking) {
      const t0 = performance.now(), version = c.version;
      calls.push(c.classify(texts).then((r) => ({ t0, t1: performance.now(), version, n: r.length }), (error) => ({ t0, error })));
      await new Promise((ok) => setTimeout(ok, 2));
    }
    const results = await Promise.all(calls);
    assert.deepEqual(results.filter((r) => r.error).map((r) => r.error.message), [], "no call failed");
    assert.equal((await check).outcome, "updated");
    const straddling = results.filter((r) => r.t0 < swapAt && r.t1 > swapAt);
    t.diagnostic(`${results.length} calls during the check; ${straddling.length} were in flight on ${V[0].version} at the swap`);
    assert.ok(straddling.length > 0, "some calls were in flight at the swap");
    assert.ok(straddling.every((r) => r.version === V[0].version && r.n === texts.length));
    assert.equal(c.version, V[1].version);
    assert.deepEqual(seen.update, [{ version: V[1].version, previous: V[0].version }]);
    assert.equal((await c.classify(texts)).length, texts.length, "new calls go to the new version");
    assert.ok(seen.progress.length > 0 && seen.progress.at(-1).loaded === V[1].bytes.length);
    const stats = c.stats();
    assert.equal(stats.byVersion[V[1].version], 1 + results.filter((r) => r.version === V[1].version).length);
    assert.equal(stats.updates, 1);
  });

  test("load()'s limits reach every version the channel loads: maxTexts, maxTextChars; maxBytes refuses a file", async () => {
    publish({ current: rel[0] });
    const c = await open({ maxTexts: 2, maxTextChars: 40 });
    assert.equal(c.classify(["a", "b"]).length, 2);
    assert.throws(() => c.classify(["a", "b", "c"]), (e) => e.code === "INPUT");
    assert.throws(() => c.classify("x".repeat(41)), (e) => e.code === "INPUT");
    const e = await open({ maxBytes: V[0].bytes.length - 1 }).catch((x) => x);
    assert.equal(e.code, "TOO_LARGE", String(e));
    await assert.rejects(open({ maxTokenz: 3 }), (x) => x.code === "INVALID_ARGUMENT");
  });

  test("rollback after a corrupt model: INTEGRITY and an unreadable file are marked bad; the last good keeps serving", async () => {
    publish({ current: rel[0] });
    const cache = memoryCache();
    const c = await open({ cache });
    const seen = events(c);
    // v2's bytes on the server are not the ones signed for.
    const corrupt = Buffer.from(V[1].bytes);
    corrupt[corrupt.length >> 1] ^= 0xff;
    srv.set("/tiny/v2-corrupt.gguf", corrupt);
    publish({ current: { ...rel[1], urls: ["v2-corrupt.gguf"] }, previous: rel[0] });
    let r = await c.checkNow();
    assert.equal(r.outcome, "rolled_back");
    assert.equal(c.version, V[0].version, "the last good version serves");
    assert.deepEqual(seen.rollback.map((x) => [x.version, x.code, x.serving]), [[V[1].version, "INTEGRITY", V[0].version]]);
    // v3's manifest is signed for bytes that are not a model at all: the engine refuses them.
    const garbage = Buffer.alloc(4096, 7);
    srv.set("/tiny/garbage.gguf", garbage);
    publish({ current: { ...rel[2], sha256: sha256(garbage), size: garbage.length, urls: ["garbage.gguf"] }, previous: rel[0] });
    r = await c.checkNow();
    assert.equal(r.outcome, "rolled_back");
    assert.equal(seen.rollback[1].code, "BAD_MAGIC");
    assert.equal(c.version, V[0].version);
    assert.deepEqual(c.state.bad.map((b) => [b.version, b.code]), [[V[1].version, "INTEGRITY"], [V[2].version, "BAD_MAGIC"]]);
    assert.deepEqual(cache.versions(), [V[0].version], "only the good version is in the cache");
    // Marked bad: the next check does not download it again.
    const hits = srv.hits("/tiny/garbage.gguf").ok;
    publish({ current: { ...rel[2], sha256: sha256(garbage), size: garbage.length, urls: ["garbage.gguf"] }, previous: rel[0] });
    r = await c.checkNow();
    assert.equal(r.outcome, "current");
    assert.equal(srv.hits("/tiny/garbage.gguf").ok, hits);
    assert.match(c.state.skipped[0].reason, /^marked bad: /);
  });

  test("rollback after a failed smoke test: the model loads but answers otherwise than its manifest expects", async () => {
    publish({ current: rel[0] });
    const c = await open();
    const seen = events(c);
    const wrong = rel[3].test.expect.label === "negative" ? "positive" : "negative";
    publish({ current: { ...rel[3], test: { input: rel[3].test.input, expect: { label: wrong } } }, previous: rel[0] });
    const r = await c.checkNow();
    assert.equal(r.outcome, "rolled_back");
    assert.equal(c.version, V[0].version);
    assert.equal(seen.rollback[0].code, "SMOKE_TEST");
    assert.match(seen.rollback[0].reason, new RegExp(`classified "[a-z]+", not "${wrong}"`));
    // A file whose labels are not the manifest's is refused the same way (code MANIFEST).
    publish({ current: { ...rel[4], labels: ["a", "b", "c"] }, previous: rel[0] });
    assert.equal((await c.checkNow()).outcome, "rolled_back");
    assert.equal(seen.rollback[1].code, "MANIFEST");
  });

  test("engine-version gating: a release that needs a newer engine is skipped with its reason and never fetched", async () => {
    publish({ current: rel[0] });
    const c = await open();
    const seen = events(c);
    const before = srv.hits(modelPath(5)).ok;
    publish({ current: { ...rel[5], minEngine: "99.0.0" }, previous: rel[0] });
    const r = await c.checkNow();
    assert.equal(r.outcome, "current");
    assert.equal(c.version, V[0].version);
    assert.match(seen.skip[0].reason, /needs engine 99\.0\.0 or newer \(this is \d+\.\d+\.\d+\)/);
    assert.equal(seen.skip[0].code, "ENGINE_VERSION");
    assert.equal(srv.hits(modelPath(5)).ok, before, "not attempted");
    // A fresh installation serves the previous release; with none it can run, load() says why.
    assert.equal((await open()).version, V[0].version);
    publish({ current: { ...rel[5], maxEngine: "0.0.9" } });
    const e = await open().catch((x) => x);
    assert.equal(e.code, "ENGINE_VERSION");
    assert.match(e.message, /needs engine 0\.0\.9 or older/);
  });

  test("staged rollout: at 10 % only installations in the bucket take v2, the others keep (or get) v1; at 100 % all do", async () => {
    const ids = await rolloutBucketsOf("tiny/stable", 10);
    publish({ current: rel[0] });
    const inside = await open({ installationId: ids.inside }), outside = await open({ installationId: ids.outside });
    publish({ current: rel[1], previous: rel[0], rollout: 10 });
    assert.equal((await inside.checkNow()).outcome, "updated");
    assert.equal((await outside.checkNow()).outcome, "current");
    assert.deepEqual([inside.version, outside.version], [V[1].version, V[0].version]);
    assert.deepEqual(outside.state.rollout, { percent: 10, bucket: outside.state.rollout.bucket, inRollout: false, version: V[1].version, target: V[0].version });
    assert.equal((await open({ installationId: ids.outside })).version, V[0].version, "a new installation outside gets previous");
    publish({ current: rel[1], previous: rel[0], rollout: 100 });
    assert.equal((await outside.checkNow()).outcome, "updated");
    assert.equal(outside.version, V[1].version);
    // The team's rollback: a new manifest that serves v1 to everyone; a device on v2 goes back, from its cache.
    const cache = memoryCache();
    const device = await open({ installationId: ids.inside, cache });
    assert.equal(device.version, V[1].version);
    publish({ current: rel[0], rollout: 100 });
    const fetched = srv.hits(modelPath(0)).ok;
    assert.equal((await device.checkNow()).outcome, "updated");
    assert.equal(device.version, V[0].version);
    assert.equal(srv.hits(modelPath(0)).ok, fetched + 1);
    assert.deepEqual(cache.versions(), [V[0].version, V[1].version].sort(), "both kept: the serving one and the one before");
  });

  test("a replayed older manifest is refused (STALE) and the version serving stays", async () => {
    const old = manifest(key.privateKey, { current: rel[0] });
    publish({ current: rel[1], previous: rel[0] });
    const c = await open();
    srv.json("/tiny/stable.json", old);
    const r = await c.checkNow();
    assert.equal(r.outcome, "failed");
    assert.equal(r.error.code, "STALE");
    assert.equal(c.version, V[1].version);
    assert.equal(c.state.lastCheck.error.code, "STALE");
  });

  test("an aborted download is not a verdict: the next check downloads the version again and takes it", async () => {
    publish({ current: rel[0] });
    const c = await open();
    srv.set(modelPath(2), { body: V[2].bytes, chunkDelayMs: 30 });
    publish({ current: rel[2], previous: rel[0] });
    c.addEventListener("progress", () => c.abortUpdate(new DOMException("stop", "AbortError")), { once: true });
    const r = await c.checkNow();
    assert.equal(r.outcome, "aborted");
    assert.deepEqual(c.state.bad, []);
    srv.set(modelPath(2), V[2].bytes);
    assert.equal((await c.checkNow()).outcome, "updated");
    assert.equal(c.version, V[2].version);
  });

  test("a restart serves the last good version from the cache, re-verified, without fetching it; then checks", async () => {
    publish({ current: rel[1], previous: rel[0] });
    const store = memoryStore(), cache = memoryCache();
    const first = await open({ store, cache });
    await first.checkNow(); // the cache write of a first install runs after load() answers
    await first.dispose();
    const fetched = srv.hits(modelPath(1)).ok;
    const again = await openRelease({ manifest: `${base}/tiny/stable.json`, publicKey: key.publicKey, store, cache, checkIntervalMs: 0 });
    opened.push(again);
    assert.equal(again.version, V[1].version);
    assert.equal(again.origin.kind, "cache");
    assert.equal(srv.hits(modelPath(1)).ok, fetched, "served without fetching the model");
    // A cache entry damaged on disk: dropped, fetched again, still serving.
    for (const e of cache.entries.values()) e.data[e.data.length - 7] ^= 1;
    const healed = await openRelease({ manifest: `${base}/tiny/stable.json`, publicKey: key.publicKey, store, cache, checkIntervalMs: 0 });
    opened.push(healed);
    assert.equal(healed.origin.kind, "network");
    assert.equal(srv.hits(modelPath(1)).ok, fetched + 1);
    // Another key: the stored manifest is no longer believed, so nothing is served from the cache.
    const e = await openRelease({ manifest: `${base}/tiny/stable.json`, publicKey: newKey().publicKey, store, cache, checkIntervalMs: 0 }).catch((x) => x);
    assert.equal(e.code, "UNTRUSTED_KEY");
  });
});
