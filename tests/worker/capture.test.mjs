// capture.test.mjs — the edge service's capture (worker/capture.js), the handler in this process with the
// shipped models, a scripted cloud on 127.0.0.1 as the teacher, and each store: a KV binding, an R2 binding
// (objects with the Workers API's shape) and a file. Only requests that say "capture": true are recorded,
// only the redacted text is stored, the bounds hold, GET /v1/capture exports JSONL, POST /v1/capture/erase
// erases; the configuration refuses capture without escalation or without an auth token.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createHandler } from "../../worker/handler.js";
import { startCloudServer } from "../js/cloud-server.mjs";
import { call as callApi, modelBytes, startNode } from "./harness.mjs";

const TOKEN = "operator-token-7";
const PII_TEXT = "Hi, I'm Anna Kowalski, mail anna.k@example.com or call +1 415-555-0134, my card was declined";
const PII_PARTS = ["Anna", "Kowalski", "anna.k@example.com", "415-555-0134"];
const bundled = { "intent-clinc": modelBytes("intent-clinc"), "pii-ner": modelBytes("pii-ner") };

/** A KV namespace and an R2 bucket as the Workers runtime gives them (the calls capture makes). */
function fakeKV() {
  const m = new Map();
  return { map: m, async get(k, type) { assert.equal(type, "text"); return m.has(k) ? m.get(k) : null; },
    async put(k, v) { assert.equal(typeof v, "string"); m.set(k, v); }, async delete(k) { m.delete(k); } };
}
function fakeR2() {
  const m = new Map();
  return { map: m, async get(k) { return m.has(k) ? { text: async () => m.get(k) } : null; },
    async put(k, v) { m.set(k, v); }, async delete(k) { m.delete(k); } };
}

let cloud, dir;
before(async () => {
  cloud = await startCloudServer({ answer: ({ labels }) => ({ label: labels.includes("card_declined") ? "card_declined" : labels[0], score: 0.9 }) });
  dir = mkdtempSync(join(tmpdir(), "edgetag-capture-"));
});
after(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

function service(capture, extraEnv = {}) {
  const handler = createHandler({ bundled, runtime: "test" });
  const env = {
    EDGETAG_MODELS: JSON.stringify({ "intent-clinc": { source: "bundled", module: "intent-clinc" }, "pii-ner": { source: "bundled", module: "pii-ner", escalate: false } }),
    EDGETAG_ESCALATION: JSON.stringify({ url: cloud.openaiUrl, model: "teacher", threshold: 1.01, retries: 0, redact: ["pii-ner", "patterns"] }),
    EDGETAG_AUTH_TOKEN: TOKEN,
    EDGETAG_LOG: "off",
    EDGETAG_CAPTURE: JSON.stringify(capture),
    ...extraEnv,
  };
  const call = async (route, body, method) => {
    const r = await handler.fetch(new Request(`http://x${route}`, { method: method ?? (body ? "POST" : "GET"),
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, ...(body && { body: JSON.stringify(body) }) }), env, {});
    return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
  };
  return { call, env };
}

for (const [kind, make] of [["kv", () => ({ binding: fakeKV(), spec: { store: "kv", binding: "CAPTURE_KV", key: "cap.jsonl" } })],
  ["r2", () => ({ binding: fakeR2(), spec: { store: "r2", binding: "MODELS_BUCKET", key: "capture/cap.jsonl" } })]])
  test(`${kind}: only consenting requests are recorded, only the redacted text; export and erase`, async () => {
    const { binding, spec } = make();
    const { call } = service({ ...spec, maxRecords: 3 }, { [spec.binding]: binding });
    const plain = await call("/v1/classify", { model: "intent-clinc", text: PII_TEXT });
    assert.equal(plain.status, 200);
    assert.equal(JSON.parse(plain.text).result.source, "cloud");
    assert.equal(JSON.parse(plain.text).result.escalation.captured, false);
    assert.equal((await call("/v1/capture")).text, "", "a request without consent left nothing");

    const r = await call("/v1/classify", { model: "intent-clinc", text: PII_TEXT, capture: true });
    assert.equal(JSON.parse(r.text).result.escalation.captured, true);
    const exported = await call("/v1/capture");
    assert.equal(exported.status, 200);
    assert.match(exported.type, /application\/x-ndjson/);
    const [record] = exported.text.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(record.text, cloud.requests.at(-1).text, "exactly what the cloud was sent");
    assert.equal(record.redacted, true);
    assert.deepEqual(record.teacher, { label: "card_declined", score: 0.9 });
    assert.match(record.model.version, /^intent-clinc/);
    const stored = [...binding.map.values()].join("");
    for (const part of PII_PARTS) assert.ok(!stored.includes(part), `${part} must not be stored`);

    // Bounds: 5 more consenting texts, 3 kept (the newest).
    await call("/v1/classify", { model: "intent-clinc", texts: ["a 1", "b 2", "c 3", "d 4", "e 5"], capture: true });
    const lines = (await call("/v1/capture")).text.trim().split("\n").map((l) => JSON.parse(l).text);
    assert.equal(lines.length, 3);
    const erased = await call("/v1/capture/erase", {});
    assert.deepEqual(JSON.parse(erased.text), { erased: true, usage: { records: 0, bytes: 0, maxRecords: 3, maxBytes: 1 << 20 } });
    assert.equal(binding.map.size, 0);
    assert.equal((await call("/v1/capture")).text, "");
  });

test("file (the Node entry point): the log is a file of JSON Lines, written whole; erase removes it", async () => {
  const file = join(dir, "capture.jsonl");
  const server = await startNode({ env: {
    EDGETAG_ESCALATION: JSON.stringify({ url: cloud.openaiUrl, model: "teacher", threshold: 1.01, retries: 0, redact: ["pii-ner", "patterns"] }),
    EDGETAG_AUTH_TOKEN: TOKEN, EDGETAG_LOG: "off", EDGETAG_CAPTURE: JSON.stringify({ store: "file", path: file }),
  } });
  try {
    const r = await callApi(server.base, "/v1/classify", { token: TOKEN, body: { model: "intent-clinc", texts: ["what is my balance", PII_TEXT], capture: true } });
    assert.equal(r.status, 200, r.text);
    const text = readFileSync(file, "utf8");
    assert.equal(text, (await callApi(server.base, "/v1/capture", { token: TOKEN })).text);
    assert.equal(text.trim().split("\n").length, 2);
    for (const part of PII_PARTS) assert.ok(!text.includes(part), `${part} must not be in the file`);
    assert.equal((await callApi(server.base, "/v1/capture")).status, 401, "export needs the operator's token");
    await callApi(server.base, "/v1/capture/erase", { token: TOKEN, body: {} });
    assert.equal(existsSync(file), false);
  } finally {
    await server.stop();
  }
});

test("the configuration: capture needs escalation and an auth token; a bad store is refused; off → 404", async () => {
  const noAuth = service({ store: "kv" }, { EDGETAG_AUTH_TOKEN: "" });
  const h = await noAuth.call("/v1/health");
  assert.equal(h.status, 503);
  assert.match(h.text, /EDGETAG_CAPTURE needs EDGETAG_AUTH_TOKEN/);
  const noEsc = await service({ store: "kv" }, { EDGETAG_ESCALATION: "" }).call("/v1/health");
  assert.match(noEsc.text, /EDGETAG_CAPTURE records escalations: it needs EDGETAG_ESCALATION/);
  const bad = await service({ store: "disk", maxRecords: 0, color: 1 }).call("/v1/health");
  assert.match(bad.text, /EDGETAG_CAPTURE.store must be one of kv, r2, file/);
  assert.match(bad.text, /maxRecords must be a positive integer/);
  assert.match(bad.text, /color/);
  const off = service(undefined, { EDGETAG_CAPTURE: "" });
  assert.equal((await off.call("/v1/capture")).status, 404);
  const rejected = await service({ store: "kv", binding: "CAPTURE_KV" }, { CAPTURE_KV: fakeKV() })
    .call("/v1/classify", { model: "intent-clinc", text: "x", capture: "yes" });
  assert.equal(rejected.status, 400);
});
