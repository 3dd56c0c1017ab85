// release.test.mjs — models from signed release manifests on a real workerd: manifests in R2 (with ETags), KV and
// at a URL; /v1/models and /v1/health report version, channel and rollout state; an update published to R2 is
// checked in the background of a request and swapped in; a corrupt model, one that fails its smoke test and a
// tampered manifest are refused while the last good version keeps serving (health says why); a release for a
// newer engine is skipped; a 10 % rollout leaves an isolate outside its bucket on the previous version, 100 %
// brings it over; a manifest signed by another key is refused.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { readConfig } from "../../worker/config.js";
import { testConfig } from "./capnp.mjs";
import { call, modelBytes, removeDir, scratchDir, startWorkerd, until, write } from "./harness.mjs";
import { manifest, newKey, releaseOf, rolloutBucketsOf, sha256, variant } from "../js/release-fixtures.mjs";

const CHANNEL = "intent-clinc/stable";
const TEXT = "book a table for two at 7pm";

describe("signed releases on workerd: R2, KV, URL; update, rollback, gating, rollout", () => {
  let dir, server, files, base, ids;
  const key = newKey(), stranger = newKey();
  const intent = modelBytes("intent-clinc");
  const V = [1, 2, 3, 4, 5].map((n) => variant(intent, n));
  let rel;
  const urlFiles = new Map();

  const put = async (store, k, body) => {
    const r = await fetch(`${server.admin}/${store}/${k}`, { method: "PUT", body });
    assert.equal(r.status, 204, await r.text());
  };
  /** Publishes to R2 as a team would: the model first, the manifest last. */
  const publishR2 = async (fields, files = []) => {
    for (const [name, bytes] of files) await put("r2", `releases/intent-clinc/${name}`, bytes);
    await put("r2", "releases/intent-clinc/stable.json", JSON.stringify(manifest(key.privateKey, { channel: CHANNEL, name: "intent-clinc", ...fields })));
  };
  const model = async (name) => (await call(server.base, "/v1/models")).body.models.find((m) => m.name === name);
  /** Classify requests (each may start a check in the background) until the model's state satisfies `predicate`. */
  const settle = async (name, predicate, what) => {
    let last;
    await until(async () => {
      const r = await call(server.base, "/v1/classify", { body: { model: name, text: TEXT } });
      assert.equal(r.status, 200, r.text);
      last = await model(name);
      return predicate(last);
    }, 20000, `${what}: ${JSON.stringify(last?.release)}`);
    return last;
  };

  before(async () => {
    rel = await Promise.all(V.map((v, i) => releaseOf(v.bytes, v.version, `v${i + 1}.gguf`)));
    ids = await rolloutBucketsOf(CHANNEL, 10);
    files = createServer((req, res) => {
      const body = urlFiles.get(req.url);
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { "content-length": Buffer.byteLength(body), etag: `"${sha256(Buffer.from(body)).slice(0, 16)}"` }).end(body);
    });
    await new Promise((r) => files.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${files.address().port}`;
    urlFiles.set("/intent/stable.json", JSON.stringify(manifest(key.privateKey, { channel: CHANNEL, name: "intent-clinc", current: rel[0] })));
    urlFiles.set("/intent/v1.gguf", V[0].bytes);
    dir = scratchDir("release");
    const config = write(dir, "config.capnp", testConfig(dir, { entry: "worker/index.js", storage: true }));
    const models = {
      "intent-r2": { source: "manifest", manifest: "r2:releases/intent-clinc/stable.json", publicKey: key.publicKey, channel: CHANNEL,
        checkIntervalSeconds: 0, installationId: ids.outside },
      "intent-kv": { source: "manifest", manifest: "kv:releases/intent-clinc/stable.json", publicKey: [stranger.publicKey, key.publicKey] },
      "intent-url": { source: "manifest", manifest: `${base}/intent/stable.json`, publicKey: key.publicKey, task: "classify" },
      "other-key": { source: "manifest", manifest: "r2:releases/intent-clinc/stable.json", publicKey: stranger.publicKey },
    };
    server = await startWorkerd(config, { experimental: true, sockets: ["http", "admin"],
      env: { EDGETAG_MODELS: JSON.stringify(models), EDGETAG_LOAD_RETRY_MS: "60000" } });
    server.admin = `http://127.0.0.1:${server.ports.admin}`;
    await publishR2({ current: rel[0] }, [["v1.gguf", V[0].bytes]]);
    await put("kv", "releases/intent-clinc/v1.gguf", V[0].bytes);
    await put("kv", "releases/intent-clinc/stable.json", JSON.stringify(manifest(key.privateKey, { channel: CHANNEL, name: "intent-clinc", current: rel[0] })));
  });
  after(async () => {
    await server?.stop();
    files?.close();
    if (dir) removeDir(dir);
  });

  test("R2, KV and URL manifests serve v1; /v1/models has version, channel, rollout; another key's is refused", async () => {
    const h = await call(server.base, "/v1/health");
    assert.equal(h.status, 503, "other-key is not ready");
    const m = Object.fromEntries(h.body.models.map((x) => [x.name, x]));
    for (const n of ["intent-r2", "intent-kv", "intent-url"]) {
      assert.equal(m[n].state, "ready", JSON.stringify(m[n]));
      assert.equal(m[n].version, V[0].version);
      assert.equal(m[n].sha256, sha256(V[0].bytes));
      assert.deepEqual([m[n].release.channel, m[n].release.bad], [CHANNEL, []]);
    }
    assert.equal(m["other-key"].error.code, "UNTRUSTED_KEY");
    const r2 = await model("intent-r2");
    assert.deepEqual([r2.release.rollout.percent, r2.release.rollout.inRollout, r2.release.lastCheck.outcome], [100, true, "installed"]);
    const c = await call(server.base, "/v1/classify", { body: { model: "intent-url", text: TEXT } });
    assert.equal(c.body.result.label, rel[0].test.expect.label);
  });

  test("an update published to R2 is checked in the background of a request and swapped in; then a 304", async () => {
    await publishR2({ current: rel[1], previous: rel[0] }, [["v2.gguf", V[1].bytes]]);
    const m = await settle("intent-r2", (x) => x.version === V[1].version, "v2 serves");
    assert.equal(m.release.previousVersion, V[0].version);
    assert.ok(server.lines.some((l) => l.includes('"event":"model_updated"') && l.includes(V[1].version)));
    const again = await settle("intent-r2", (x) => x.release.lastCheck.outcome === "not_modified", "the next check is a 304");
    assert.equal(again.version, V[1].version);
    assert.equal(again.release.manifest.etag !== null, true);
  });

  test("rollback: a corrupt model, a failed smoke test and a tampered manifest are refused; v2 keeps serving", async () => {
    const corrupt = Buffer.from(V[2].bytes);
    corrupt[corrupt.length >> 1] ^= 0x55;
    await publishR2({ current: rel[2], previous: rel[1] }, [["v3.gguf", corrupt]]);
    let m = await settle("intent-r2", (x) => x.release.bad.some((b) => b.version === V[2].version), "v3 marked bad");
    assert.equal(m.version, V[1].version);
    assert.equal(m.release.bad.find((b) => b.version === V[2].version).code, "INTEGRITY");
    assert.ok(server.lines.some((l) => l.includes('"event":"model_rolled_back"') && l.includes('"code":"INTEGRITY"')));
    await publishR2({ current: { ...rel[3], test: { input: TEXT, expect: { label: "weather" } } }, previous: rel[1] }, [["v4.gguf", V[3].bytes]]);
    m = await settle("intent-r2", (x) => x.release.bad.some((b) => b.version === V[3].version), "v4 marked bad");
    assert.equal(m.version, V[1].version);
    assert.ok(m.release.bad.find((b) => b.version === V[3].version).reason.includes(`classified "${rel[3].test.expect.label}", not "weather"`));
    const signed = manifest(key.privateKey, { channel: CHANNEL, name: "intent-clinc", current: rel[4], previous: rel[1] });
    await put("r2", "releases/intent-clinc/stable.json", JSON.stringify({ ...signed, urls: ["https://evil.example/x.gguf"] }));
    m = await settle("intent-r2", (x) => x.release.lastCheck.error?.code === "SIGNATURE", "the tampered manifest refused");
    assert.equal(m.version, V[1].version);
    const h = await call(server.base, "/v1/health");
    const r2 = h.body.models.find((x) => x.name === "intent-r2");
    assert.equal(r2.state, "ready");
    assert.deepEqual(r2.release.bad.map((b) => [b.version, b.code]), [[V[2].version, "INTEGRITY"], [V[3].version, "SMOKE_TEST"]]);
  });

  test("a release for a newer engine is skipped with its reason; 10 % leaves this isolate on previous, 100 % brings it", async () => {
    await publishR2({ current: { ...rel[4], minEngine: "99.0.0" }, previous: rel[1] }, [["v5.gguf", V[4].bytes]]);
    let m = await settle("intent-r2", (x) => x.release.lastCheck.outcome === "current" && x.release.manifest.version === V[4].version, "v5 skipped");
    assert.equal(m.version, V[1].version);
    assert.deepEqual(m.release.rollout.target, V[1].version);
    await publishR2({ current: rel[4], previous: rel[1], rollout: 10 });
    m = await settle("intent-r2", (x) => x.release.manifest.rollout === 10 && x.release.lastCheck.outcome !== "failed", "the 10 % manifest read");
    assert.equal(m.version, V[1].version, "outside the 10 %: still the previous version");
    assert.deepEqual([m.release.rollout.inRollout, m.release.rollout.percent, m.release.rollout.target], [false, 10, V[1].version]);
    await publishR2({ current: rel[4], previous: rel[1], rollout: 100 });
    m = await settle("intent-r2", (x) => x.version === V[4].version, "100 %: v5 serves");
    assert.equal(m.release.rollout.inRollout, true);
    const c = await call(server.base, "/v1/classify", { body: { model: "intent-r2", text: TEXT } });
    assert.equal(c.body.result.label, rel[4].test.expect.label);
  });
});

test("configuration: a manifest entry needs r2:, kv: or http(s), and Ed25519 public keys; the defaults are filled in", () => {
  const key = newKey().publicKey;
  const problems = (entry) => {
    try {
      return readConfig({ EDGETAG_MODELS: JSON.stringify({ m: entry }) }).models[0];
    } catch (e) {
      return e.problems.join("\n");
    }
  };
  const ok = problems({ source: "manifest", manifest: "r2:releases/a/stable.json", publicKey: key });
  assert.deepEqual([ok.binding, ok.checkIntervalSeconds], ["MODELS_BUCKET", 300]);
  assert.equal(problems({ source: "manifest", manifest: "kv:a.json", publicKey: [key, key], checkIntervalSeconds: 0 }).binding, "MODELS_KV");
  assert.match(problems({ source: "manifest", manifest: "ftp://x/a.json", publicKey: key }), /manifest must be r2:<key>, kv:<key> or an http\(s\) URL/);
  assert.match(problems({ source: "manifest", manifest: "r2:a.json", publicKey: "AAAA" }), /publicKey must be "ed25519:<base64 of 32 bytes>"/);
  assert.match(problems({ source: "manifest", manifest: "r2:a.json" }), /publicKey must be/);
  assert.match(problems({ source: "manifest", manifest: "https://m.example/a.json", publicKey: key, binding: "B" }), /binding goes with an r2: or kv: manifest/);
  assert.match(problems({ source: "manifest", manifest: "r2:a.json", publicKey: key, checkIntervalSeconds: -1 }), /checkIntervalSeconds must be an integer/);
  assert.match(problems({ source: "manifest", manifest: "r2:a.json", publicKey: key, sha256: "0".repeat(64) }), /has no key "sha256"/);
});
