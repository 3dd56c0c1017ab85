// sources.test.mjs — every model source on a real workerd, read through real bindings: an R2 object (workerd's
// local R2, streamed), a KV entry (workerd's local KV), a bundled Data module, and a URL with a manifest
// (served from 127.0.0.1). A tampered R2 object is refused by its sha256 while the others serve, health says
// unhealthy with the reason, requests for it get 503 with Retry-After, and the load is retried only after
// the backoff: once the object is fixed, it loads. A configuration with mistakes answers 500 and health
// lists every mistake.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { testConfig } from "./capnp.mjs";
import { call, modelBytes, removeDir, scratchDir, sha256, startWorkerd, until, write } from "./harness.mjs";

const RETRY_MS = 1500;

describe("model sources on workerd: R2, KV, bundled, URL + manifest; integrity", () => {
  let dir, server, files;
  const intent = modelBytes("intent-clinc"), maint = modelBytes("maint-ner"), pii = modelBytes("pii-ner");
  const tampered = Buffer.from(pii);
  tampered[tampered.length >> 1] ^= 0x01; // one bit of one weight
  const requestsFor = new Map(); // path → times the URL server was asked

  before(async () => {
    // The URL source: a manifest and the model on 127.0.0.1.
    files = createServer((req, res) => {
      requestsFor.set(req.url, (requestsFor.get(req.url) ?? 0) + 1);
      if (req.url === "/models/intent.json")
        return res.writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ name: "intent-clinc", version: "1", sha256: sha256(intent), url: "intent-clinc.gguf", size: intent.length, task: "classify", minEngine: "0.1.0" }));
      if (req.url === "/models/intent-clinc.gguf") return res.writeHead(200, { "content-length": intent.length }).end(intent);
      res.writeHead(404).end();
    });
    await new Promise((r) => files.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${files.address().port}`;
    dir = scratchDir("sources");
    const config = write(dir, "config.capnp", testConfig(dir, { entry: "worker/bundled.js", storage: true }));
    const models = {
      "intent-r2": { source: "r2", key: "intent-clinc.gguf", sha256: sha256(intent) },
      "maint-kv": { source: "kv", key: "maint-ner.gguf", sha256: sha256(maint) },
      "pii-r2": { source: "r2", key: "pii-ner.gguf", sha256: sha256(pii) },
      "pii-bundled": { source: "bundled", module: "pii-ner", sha256: sha256(pii) },
      "intent-url": { source: "url", manifest: `${base}/models/intent.json` },
      "ghost": { source: "r2", key: "not-yet.gguf", sha256: sha256(maint), task: "extract" },
    };
    server = await startWorkerd(config, { experimental: true, sockets: ["http", "admin"],
      env: { EDGETAG_MODELS: JSON.stringify(models), EDGETAG_LOAD_RETRY_MS: String(RETRY_MS) } });
    server.admin = `http://127.0.0.1:${server.ports.admin}`;
    // Seed through the bindings (the admin worker): the good files, and the tampered PII model.
    for (const [store, key, bytes] of [["r2", "intent-clinc.gguf", intent], ["kv", "maint-ner.gguf", maint], ["r2", "pii-ner.gguf", tampered]]) {
      const r = await fetch(`${server.admin}/${store}/${key}`, { method: "PUT", body: bytes });
      assert.equal(r.status, 204, await r.text());
    }
  });
  after(async () => {
    await server?.stop();
    files?.close();
    if (dir) removeDir(dir);
  });

  test("health: 503 unhealthy, the tampered and the missing model refused with their reasons, the rest ready", async () => {
    const r = await call(server.base, "/v1/health");
    assert.equal(r.status, 503, r.text);
    assert.equal(r.body.status, "unhealthy");
    const m = Object.fromEntries(r.body.models.map((x) => [x.name, x]));
    for (const n of ["intent-r2", "maint-kv", "pii-bundled", "intent-url"]) assert.equal(m[n].state, "ready", `${n}: ${JSON.stringify(m[n])}`);
    assert.equal(m["pii-r2"].state, "failed");
    assert.equal(m["pii-r2"].error.code, "INTEGRITY");
    assert.match(m["pii-r2"].error.message, new RegExp(`SHA-256 is ${sha256(tampered)}, not the expected ${sha256(pii)}`));
    assert.ok(m["pii-r2"].error.retryInMs > 0 && m["pii-r2"].error.retryInMs <= RETRY_MS);
    assert.equal(m.ghost.state, "failed");
    assert.equal(m.ghost.error.code, "MISSING");
    assert.match(m.ghost.error.message, /R2 object not-yet\.gguf is not in the bucket bound as MODELS_BUCKET/);
  });

  test("each source serves: R2 (streamed), KV, bundled, URL + manifest — with the sha256 of the file", async () => {
    const models = Object.fromEntries((await call(server.base, "/v1/models")).body.models.map((x) => [x.name, x]));
    assert.equal(models["intent-r2"].sha256, sha256(intent));
    assert.equal(models["maint-kv"].sha256, sha256(maint));
    assert.equal(models["pii-bundled"].sha256, sha256(pii));
    assert.equal(models["intent-url"].sha256, sha256(intent));
    assert.deepEqual(models["intent-url"].manifest, { version: "1", size: intent.length, task: "classify", minEngine: "0.1.0" });
    const c1 = await call(server.base, "/v1/classify", { body: { model: "intent-r2", text: "book a table for two at 7pm" } });
    const c2 = await call(server.base, "/v1/classify", { body: { model: "intent-url", text: "book a table for two at 7pm" } });
    assert.equal(c1.status, 200);
    assert.equal(c1.body.result.label, "restaurant_reservation");
    assert.deepEqual(c2.body.result, c1.body.result, "the same file from R2 and from a URL answers the same");
    const e = await call(server.base, "/v1/extract", { body: { model: "maint-kv", text: "replace leaking hydraulic pump seal" } });
    assert.equal(e.status, 200);
    assert.ok(e.body.result.entities.some((x) => x.text === "hydraulic pump"));
    const p = await call(server.base, "/v1/extract", { body: { model: "pii-bundled", text: "Call Anna Kowalski in Berlin" } });
    assert.equal(p.status, 200);
    assert.equal(requestsFor.get("/models/intent-clinc.gguf"), 1, "the URL model was fetched once");
  });

  test("the refused model: 503 model_unavailable with Retry-After and the reason, no retry before the backoff", async () => {
    const r = await call(server.base, "/v1/extract", { body: { model: "pii-r2", text: "Call Anna" } });
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, "model_unavailable");
    assert.match(r.body.error.message, /model pii-r2 is unavailable: the model's SHA-256 is [0-9a-f]{64}, not the expected/);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    const failures = () => server.lines.filter((l) => l.includes('"event":"model_failed"') && l.includes('"model":"pii-r2"')).length;
    await until(() => failures() >= 1, 2000, "the failure's log line");
    for (let i = 0; i < 5; i++) await call(server.base, "/v1/extract", { body: { model: "pii-r2", text: "x" } });
    assert.equal(failures(), 1, "requests within the backoff do not load again");
  });

  test("after the backoff, the first request loads again: the fixed object and the new one serve, health is ok", async () => {
    for (const [key, bytes] of [["pii-ner.gguf", pii], ["not-yet.gguf", maint]]) {
      const r = await fetch(`${server.admin}/r2/${key}`, { method: "PUT", body: bytes });
      assert.equal(r.status, 204);
    }
    await new Promise((r) => setTimeout(r, RETRY_MS + 100));
    const r = await call(server.base, "/v1/extract", { body: { model: "pii-r2", text: "Call Anna Kowalski in Berlin" } });
    assert.equal(r.status, 200, r.text);
    const h = await call(server.base, "/v1/health");
    assert.equal(h.status, 200, h.text);
    assert.ok(h.body.models.every((m) => m.state === "ready"));
    const stats = (await call(server.base, "/v1/stats")).body.models;
    assert.deepEqual([stats["pii-r2"].loads, stats["pii-r2"].failedLoads], [1, 1]);
  });
});

describe("configuration mistakes on workerd", () => {
  let dir, server;
  before(async () => {
    dir = scratchDir("badconfig");
    const config = write(dir, "config.capnp", testConfig(dir, { entry: "worker/index.js" }));
    server = await startWorkerd(config, { env: {
      EDGETAG_MODELS: JSON.stringify({ a: { source: "r2", key: "a.gguf" }, "b c": { source: "bundled" }, d: { source: "ftp" }, e: { source: "kv", key: "e", sha256: "0".repeat(64), sha265: "x" } }),
      EDGETAG_MAX_TEXTS: "lots", EDGETAG_CORS_ORIGINS: "https://ok.example, not an origin",
      EDGETAG_ESCALATION: JSON.stringify({ url: "https://cloud.example/v1", kind: "openai", timeoutMs: -5 }),
    } });
  });
  after(async () => {
    await server?.stop();
    if (dir) removeDir(dir);
  });

  test("the API answers 500 config_error; health 503 with every problem; nothing is loaded", async () => {
    const r = await call(server.base, "/v1/classify", { body: { model: "a", text: "hi" } });
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, "config_error");
    const h = await call(server.base, "/v1/health");
    assert.equal(h.status, 503);
    assert.equal(h.body.error.code, "config_error");
    const p = h.body.problems.join("\n");
    for (const expected of [/a\.sha256 is required for an r2 source/, /model name "b c"/, /no bundled model "b c" in this build \(this entry point bundles none/,
      /d\.source must be one of r2, kv, bundled, url/, /has no key "sha265"/, /EDGETAG_MAX_TEXTS must be an integer/, /"not an origin" is not an origin/,
      /EDGETAG_ESCALATION: policy.endpoint.model is required|EDGETAG_ESCALATION: policy\.timeoutMs/])
      assert.match(p, expected);
    assert.equal((await call(server.base, "/v1/nothing")).status, 404, "routing still answers");
    assert.ok(server.lines.some((l) => l.includes('"event":"config_error"')));
  });
});
