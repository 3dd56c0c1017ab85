// core.mjs — the service's contract, as one suite run against each runtime (core.test.mjs: workerd, Node,
// Deno): a cold start under overlapping requests, every endpoint, answers equal to the library's own in
// this process, every error status with its JSON body, bearer auth, CORS, and logs and counters that never
// hold a text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, test } from "node:test";
import { load } from "../../web/edgetag.js";
import { call, modelBytes, path, sha256, until } from "./harness.mjs";
import { SHIPPED } from "./capnp.mjs";

export const TOKEN = "core-test-token-7d1f0c";
export const ORIGIN = "https://app.example";
/** The environment the core suite runs the service with (small limits, several batches per request). */
export const CORE_ENV = Object.freeze({
  EDGETAG_AUTH_TOKEN: TOKEN,
  EDGETAG_CORS_ORIGINS: `${ORIGIN}, https://admin.example`,
  EDGETAG_MAX_BODY_BYTES: "20000",
  EDGETAG_MAX_TEXTS: "40",
  EDGETAG_MAX_TEXT_CHARS: "600",
  EDGETAG_BATCH_TOKENS: "64",
  EDGETAG_STATS_FLUSH_SECONDS: "0",
});

const INTENTS = ["book a table for two at 7pm tonight", "what's the weather like in Paris tomorrow",
  "my card got declined at the store", "set an alarm for 6am", "how tall is the eiffel tower"];
const NOTES = ["replace leaking hydraulic pump seal on excavator 12", "engine oil pressure low, check filter and hoses"];
/** Every text sent: none may appear in a log line or in /v1/stats. */
const SENT = [...INTENTS, ...NOTES];

let reference; // the library in this process: what the service must answer
async function references() {
  reference ??= Object.fromEntries(await Promise.all(SHIPPED.map(async (n) => [n, await load(modelBytes(n), { cache: "none" })])));
  return reference;
}

function sameClassification(got, want, what) {
  assert.equal(got.label, want.label, what);
  assert.ok(Math.abs(got.score - want.score) < 0.02, `${what}: score ${got.score} vs ${want.score}`);
  assert.equal(Object.keys(got.scores).length, Object.keys(want.scores).length);
  assert.equal(got.source, "local");
}

function sameEntities(got, want, text) {
  assert.deepEqual(got.entities.map((e) => [e.label, e.start, e.end, e.text]), want.entities.map((e) => [e.label, e.start, e.end, e.text]));
  for (const e of got.entities) assert.equal(text.slice(e.start, e.end), e.text);
}

function isError(r, status, code) {
  assert.equal(r.status, status, `${status} ${code}: got ${r.status} ${r.text.slice(0, 300)}`);
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(r.body?.error?.code, code, r.text.slice(0, 300));
  assert.equal(typeof r.body.error.message, "string");
  assert.deepEqual(Object.keys(r.body), ["error"]);
  assert.deepEqual(Object.keys(r.body.error).sort(), ["code", "message"]);
}

/**
 * Registers the suite. `service()` returns the running service ({base, lines}) started with CORE_ENV and
 * the shipped models under their own names; it must be cold (no request yet) when the suite starts.
 */
export function coreSuite(service) {
  const api = (route, options = {}) => call(service().base, route, { token: TOKEN, ...options });

  test("a cold isolate under 24 overlapping requests loads each model once and answers all", async () => {
    const rs = await Promise.all(Array.from({ length: 24 }, (_, i) => i % 3 === 2
      ? api("/v1/extract", { body: { model: "maint-ner", text: NOTES[i % 2] } })
      : api("/v1/classify", { body: { model: "intent-clinc", text: INTENTS[i % INTENTS.length] } })));
    for (const r of rs) assert.equal(r.status, 200, r.text.slice(0, 300));
    const stats = (await api("/v1/stats")).body;
    assert.equal(stats.models["intent-clinc"].loads, 1);
    assert.equal(stats.models["maint-ner"].loads, 1);
    assert.equal(stats.models["pii-ner"].loads, 0, "pii-ner was not asked for: not loaded");
  });

  test("GET /v1/health: engine, SIMD build, kernels, memory, every model ready with its sha256", async () => {
    const r = await api("/v1/health");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, "ok");
    assert.equal(r.body.engine.version, "0.1.0");
    assert.ok(["relaxed", "baseline"].includes(r.body.engine.flavour));
    assert.match(r.body.engine.kernels, /^(baseline|relaxed_dot16|relaxed_dot32)$/);
    assert.ok(r.body.memory.wasmBytes > 17e6 && r.body.memory.wasmBytes < 128 * 2 ** 20, `wasm ${r.body.memory.wasmBytes}`);
    assert.deepEqual(r.body.models.map((m) => [m.name, m.state, m.source]), SHIPPED.map((n) => [n, "ready", "bundled"]));
    for (const m of r.body.models) assert.equal(m.sha256, sha256(modelBytes(m.name)));
    assert.deepEqual(r.body.escalation, { enabled: false });
  });

  test("GET /v1/models: name, version, sha256, task, labels", async () => {
    const r = await api("/v1/models");
    assert.equal(r.status, 200);
    const ref = await references();
    const byName = Object.fromEntries(r.body.models.map((m) => [m.name, m]));
    for (const n of SHIPPED) {
      const m = byName[n], info = ref[n].info;
      assert.equal(m.version, info.version);
      assert.equal(m.sha256, sha256(modelBytes(n)));
      assert.equal(m.task, info.task === "sequence_classification" ? "classify" : "extract");
      assert.deepEqual(m.labels, info.labels);
    }
    assert.equal(byName["intent-clinc"].labels.length, 151);
    assert.equal(byName["intent-clinc"].abstainLabel, "oos");
    assert.ok(byName["pii-ner"].entityTypes.includes("PERSON"));
  });

  test("POST /v1/classify: a text and a batch, the library's answers (calibrated scores, escalation advice)", async () => {
    const ref = (await references())["intent-clinc"];
    const one = await api("/v1/classify", { body: { model: "intent-clinc", text: INTENTS[0] } });
    assert.equal(one.status, 200);
    assert.equal(one.body.model, "intent-clinc");
    sameClassification(one.body.result, ref.classify(INTENTS[0]), INTENTS[0]);
    assert.equal(typeof one.body.result.escalate, "boolean");
    // 35 texts in batches of at most 64 tokens: in order, each as the library answers it alone.
    const texts = Array.from({ length: 35 }, (_, i) => INTENTS[i % INTENTS.length]);
    const many = await api("/v1/classify", { body: { model: "intent-clinc", texts } });
    assert.equal(many.status, 200, many.text.slice(0, 200));
    assert.equal(many.body.results.length, 35);
    many.body.results.forEach((r, i) => sameClassification(r, ref.classify(texts[i]), texts[i]));
    const oos = many.body.results[4];
    if (oos.escalate) assert.deepEqual(oos.escalation, { wanted: true, outcome: "skipped", reason: "not_configured" });
  });

  test("POST /v1/extract: entities with UTF-16 offsets, as the library finds them", async () => {
    const ref = await references();
    const r = await api("/v1/extract", { body: { model: "maint-ner", texts: NOTES } });
    assert.equal(r.status, 200);
    r.body.results.forEach((got, i) => sameEntities(got, ref["maint-ner"].extract(NOTES[i]), NOTES[i]));
    assert.ok(r.body.results[0].entities.length >= 3);
    const emoji = "🙂 Anna Kowalski flew to Berlin on 3 May";
    const p = await api("/v1/extract", { body: { model: "pii-ner", text: emoji } });
    assert.equal(p.status, 200);
    sameEntities(p.body.result, ref["pii-ner"].extract(emoji), emoji);
    assert.equal(p.body.result.source, "local");
  });

  test("bearer auth: 401 without the token or with a wrong one, compared in constant time", async () => {
    const base = service().base;
    const none = await call(base, "/v1/health");
    isError(none, 401, "unauthorized");
    assert.match(none.headers.get("www-authenticate"), /^Bearer/);
    isError(await call(base, "/v1/classify", { body: { model: "intent-clinc", text: "x" }, token: TOKEN.slice(0, -1) + "0" }), 401, "unauthorized");
    isError(await call(base, "/v1/models", { headers: { authorization: `Basic ${btoa("a:b")}` } }), 401, "unauthorized");
    isError(await call(base, "/v1/stats", { token: TOKEN + "x" }), 401, "unauthorized");
  });

  test("routes and methods: 404 unknown path, 405 wrong method with Allow", async () => {
    isError(await api("/v1/nothing"), 404, "not_found");
    isError(await api("/"), 404, "not_found");
    const get = await api("/v1/classify");
    isError(get, 405, "method_not_allowed");
    assert.equal(get.headers.get("allow"), "POST, OPTIONS");
    isError(await api("/v1/health", { method: "POST", body: {} }), 405, "method_not_allowed");
    isError(await api("/v1/extract", { method: "PUT", body: {} }), 405, "method_not_allowed");
  });

  test("bodies: malformed JSON, bad fields, unknown model, wrong task → 400/404, each with its code", async () => {
    const post = (body, route = "/v1/classify") => api(route, { body, headers: { "content-type": "application/json" } });
    isError(await post('{"model": "intent-clinc", "text": '), 400, "bad_json");
    isError(await post(""), 400, "bad_json");
    isError(await post("\xff\xfe"), 400, "bad_json");
    isError(await post("[1, 2]"), 400, "bad_request");
    isError(await post({ text: "hi" }), 400, "bad_request");
    isError(await post({ model: "intent-clinc" }), 400, "bad_request");
    isError(await post({ model: "intent-clinc", text: "a", texts: ["b"] }), 400, "bad_request");
    isError(await post({ model: "intent-clinc", text: 42 }), 400, "bad_request");
    isError(await post({ model: "intent-clinc", texts: [] }), 400, "bad_request");
    isError(await post({ model: "intent-clinc", texts: ["ok", null] }), 400, "bad_request");
    isError(await post({ model: "intent-clinc", text: "hi", options: {} }), 400, "bad_request");
    isError(await post({ model: "intent-clinc", text: "hi", escalate: "yes" }), 400, "bad_request");
    isError(await post({ model: "nope", text: "hi" }), 404, "unknown_model");
    isError(await post({ model: "intent-clinc", text: "hi" }, "/v1/extract"), 400, "wrong_task");
    isError(await post({ model: "maint-ner", text: "hi" }), 400, "wrong_task");
  });

  test("limits: too many texts and too long a text → 400, too large a body → 413 (declared or streamed)", async () => {
    isError(await api("/v1/classify", { body: { model: "intent-clinc", texts: Array(41).fill("hi") } }), 400, "too_many_texts");
    isError(await api("/v1/extract", { body: { model: "maint-ner", text: "a".repeat(601) } }), 400, "text_too_long");
    assert.equal((await api("/v1/extract", { body: { model: "maint-ner", text: "pump ".repeat(120) } })).status, 200, "600 characters pass");
    isError(await api("/v1/classify", { body: { model: "intent-clinc", text: "x".repeat(25000) } }), 413, "payload_too_large");
    // No Content-Length: a chunked body that runs past the limit is cut off and refused.
    const chunk = new TextEncoder().encode(" ".repeat(4096));
    let sent = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (sent++ < 8) c.enqueue(chunk);
        else c.close();
      },
    });
    isError(await api("/v1/classify", { body: stream, headers: { "content-type": "application/json" } }), 413, "payload_too_large");
  });

  test("CORS: a preflight from an allowed origin (no token needed), 403 for others, headers on answers", async () => {
    const base = service().base;
    const pre = await fetch(base + "/v1/classify", { method: "OPTIONS", headers: { origin: ORIGIN,
      "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(pre.headers.get("access-control-allow-methods"), /POST/);
    assert.match(pre.headers.get("access-control-allow-headers"), /authorization/);
    assert.ok(Number(pre.headers.get("access-control-max-age")) > 0);
    const other = await call(base, "/v1/classify", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    isError(other, 403, "origin_not_allowed");
    const r = await api("/v1/classify", { body: { model: "intent-clinc", text: INTENTS[1] }, headers: { origin: ORIGIN } });
    assert.equal(r.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(r.headers.get("vary") ?? "", /Origin/i);
    assert.match(r.headers.get("access-control-expose-headers"), /x-request-id/);
    const denied = await api("/v1/health", { headers: { origin: ORIGIN } });
    assert.equal(denied.headers.get("access-control-allow-origin"), ORIGIN, "errors and health carry CORS headers too");
    assert.equal((await api("/v1/health", { headers: { origin: "https://evil.example" } })).headers.get("access-control-allow-origin"), null);
    assert.equal((await api("/v1/health")).headers.get("access-control-allow-origin"), null);
  });

  test("GET /v1/stats: counters by route and status, latency histograms, no text anywhere", async () => {
    const r = await api("/v1/stats");
    assert.equal(r.status, 200);
    const s = r.body;
    assert.ok(s.requests.total > 40);
    assert.ok(s.requests.byRoute.classify > 20 && s.requests.byRoute.extract > 5);
    assert.ok(s.requests.byStatus["200"] > 30 && s.requests.byStatus["401"] >= 4 && s.requests.byStatus["413"] >= 2);
    assert.ok(s.errors.bad_json >= 3 && s.errors.unauthorized >= 4);
    assert.ok(s.texts.classify >= 50 && s.texts.extract >= 9);
    const h = s.latencyMs.classify;
    assert.equal(h.counts.reduce((a, b) => a + b, 0), h.n);
    assert.ok(h.p50Ms > 0 && h.p99Ms >= h.p50Ms);
    for (const t of SENT) assert.ok(!r.text.includes(t), `a text in /v1/stats: ${t}`);
  });

  test("logs: JSON lines, a line per request written after it (waitUntil), never a text, a token or a header", async () => {
    const { lines } = service();
    await until(() => lines.some((l) => l.includes('"path":"/v1/stats"')), 5000, "the stats request's log line");
    const events = lines.map((l) => JSON.parse(l));
    const requests = events.filter((e) => e.event === "request");
    assert.ok(requests.length > 40);
    assert.ok(requests.every((e) => typeof e.ms === "number" && e.status >= 200 && e.id));
    assert.ok(events.some((e) => e.event === "model_loaded" && e.model === "intent-clinc" && e.sha256));
    assert.ok(events.some((e) => e.event === "stats"), "EDGETAG_STATS_FLUSH_SECONDS=0 flushes after each request");
    const all = lines.join("\n");
    for (const t of [...SENT, "Anna Kowalski", TOKEN, "evil.example", "Basic "]) assert.ok(!all.includes(t), `in the log: ${t}`);
  });
}
