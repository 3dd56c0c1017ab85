// escalation.test.mjs — escalation from the service on workerd to a scripted OpenAI-compatible cloud on
// 127.0.0.1 (tests/js/cloud-server.mjs), with the library's policy: the key from its secret reaches the
// cloud and nothing else (no response, no log line, no error message); with redaction by the pii-ner model
// and the patterns, none of the personal data they find in a text reaches the cloud; a failing cloud gives
// the local answer with the reason; a request can decline escalation.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { load, patternRedactor } from "../../web/edgetag.js";
import { startCloudServer } from "../js/cloud-server.mjs";
import { call, modelBytes, path, startWorkerd } from "./harness.mjs";
import { DEFAULT_REDACT_MIN_PROBABILITY, readConfig } from "../../worker/config.js";

const KEY = "sk-live-5EC2E7-do-not-leak-0f9a31c7";
const PII_TEXT = "Hi, I'm Anna Kowalski from Berlin; my card 4111 1111 1111 1111 was charged twice, call me on 555-867-5309 or anna.k@example.com";
const NOTE = "Technician John Miller (call 555-201-7788) replaced the hydraulic pump seal on excavator 12 in Denver";

/**
 * The cloud's answers: a label of the set; for extraction, the first lower-case word of the text sent (never
 * inside an upper-case placeholder), as its first entity type.
 */
function answer({ task, text, labels, entityTypes }) {
  if (task === "classify") return { label: labels.includes("card_declined") ? "card_declined" : labels[0], score: 0.91 };
  const m = /\b[a-z]{5,}\b/.exec(text);
  return { entities: m ? [{ label: entityTypes[0], text: m[0], start: m.index, end: m.index + m[0].length }] : [] };
}

describe("escalation from workerd", () => {
  let cloud, server, pii;
  const seen = []; // every response's status line, headers and body
  const api = async (route, options) => {
    const r = await call(server.base, route, options);
    seen.push(`${r.status}\n${[...r.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${r.text}`);
    return r;
  };

  before(async () => {
    cloud = await startCloudServer({ answer });
    server = await startWorkerd(path("worker/config.capnp"), { env: {
      EDGETAG_ESCALATION: JSON.stringify({ url: cloud.openaiUrl, kind: "openai", model: "test-model", timeoutMs: 3000, retries: 0,
        backoffMs: 10, threshold: 1.01, redact: ["pii-ner", "patterns"] }),
      EDGETAG_CLOUD_KEY: KEY,
    } });
    pii = await load(modelBytes("pii-ner"), { cache: "none" });
  });
  beforeEach(() => cloud.reset());
  after(async () => {
    await server?.stop();
    await cloud?.close();
    pii?.dispose();
  });

  /**
   * What the local PII model and the patterns find in `text` (spans with two letters or digits or more: a
   * lone "-" the model tags occurs elsewhere too): none of it may reach the cloud.
   */
  function personalData(text) {
    const found = [...pii.extract(text).entities, ...patternRedactor().extract(text).entities].map((e) => e.text);
    assert.ok(found.length >= 3, `the finders found ${found.join(" | ")}`);
    return found.filter((s) => /\w{2}/.test(s));
  }

  test("classify: escalated with the key, answered by the cloud, no personal data sent", async () => {
    const r = await api("/v1/classify", { body: { model: "intent-clinc", text: PII_TEXT } });
    assert.equal(r.status, 200, r.text);
    const { result } = r.body;
    assert.equal(result.source, "cloud");
    assert.equal(result.label, "card_declined");
    assert.equal(result.escalation.outcome, "answered");
    assert.equal(result.escalation.trigger, "low_score");
    assert.ok(result.escalation.redacted >= 3);
    assert.equal(typeof result.localLabel, "string");
    assert.equal(cloud.requests.length, 1);
    const req = cloud.requests[0];
    assert.equal(req.headers.authorization, `Bearer ${KEY}`);
    assert.equal(req.json.model, "test-model");
    assert.equal(req.json.response_format.json_schema.schema.properties.label.enum.length, 151);
    assert.match(req.text, /\[PERSON_1\]/);
    const body = cloud.requests.map((x) => x.body).join("\n");
    for (const s of personalData(PII_TEXT)) assert.ok(!req.text.includes(s), `${JSON.stringify(s)} reached the cloud: ${req.text}`);
    for (const s of ["Anna", "Kowalski", "4111", "867-5309", "anna.k@example.com"]) assert.ok(!body.includes(s), `${s} reached the cloud`);
  });

  test("extract: spans from the cloud map back to the original text; no personal data sent", async () => {
    const r = await api("/v1/extract", { body: { model: "maint-ner", texts: [NOTE, "replace leaking pump seal"] } });
    assert.equal(r.status, 200, r.text);
    const [first] = r.body.results;
    assert.equal(first.escalation.outcome, "answered", JSON.stringify(first.escalation));
    assert.equal(first.source, "cloud");
    for (const e of first.entities) assert.equal(NOTE.slice(e.start, e.end), e.text);
    assert.ok(Array.isArray(first.localEntities));
    assert.equal(cloud.requests.length, 2);
    const sent = cloud.requests.map((x) => x.text).join("\n");
    for (const s of personalData(NOTE)) assert.ok(!sent.includes(s), `${JSON.stringify(s)} reached the cloud: ${sent}`);
    for (const s of ["John", "Miller", "7788", "Denver"]) assert.ok(!cloud.everything().includes(s), `${s} reached the cloud`);
    assert.ok(sent.includes("hydraulic pump"), "what is not personal data is sent as it is");
  });

  test("a failing cloud: the local answer with the reason, status 200; escalate: false sends nothing", async () => {
    cloud.script({ reply: "status", status: 401 }, { reply: "status", status: 500 });
    const r = await api("/v1/classify", { body: { model: "intent-clinc", texts: ["what's my balance", "how tall is the eiffel tower"] } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results.map((x) => [x.source, x.escalation.outcome]), [["local", "failed"], ["local", "failed"]]);
    assert.deepEqual(r.body.results.map((x) => x.escalation.reason).sort(), ["http_401", "http_500"]);
    cloud.reset();
    const quiet = await api("/v1/classify", { body: { model: "intent-clinc", text: PII_TEXT, escalate: false } });
    assert.equal(quiet.body.result.source, "local");
    assert.equal(quiet.body.result.escalation.reason, "not_requested");
    assert.equal(cloud.requests.length, 0);
  });

  test("health, models and stats describe escalation without the key; counters count it", async () => {
    const h = await api("/v1/health");
    assert.deepEqual(h.body.escalation, { enabled: true, url: cloud.openaiUrl, kind: "openai", model: "test-model", keySet: true, redact: ["pii-ner", "patterns"] });
    await api("/v1/models");
    const s = await api("/v1/stats");
    const esc = s.body.models["intent-clinc"].escalation;
    assert.ok(esc.escalations.answered >= 1 && esc.escalations.failed.http_500 === 1, JSON.stringify(esc.escalations));
    assert.ok(s.body.escalated >= 4);
  });

  test("the key is in no response and no log line", async () => {
    await new Promise((r) => setTimeout(r, 100)); // the last request's log line (waitUntil)
    assert.ok(seen.length >= 7);
    for (const s of seen) assert.ok(!s.includes(KEY) && !s.includes(KEY.slice(8, 24)), `a response holds the key: ${s.slice(0, 200)}`);
    const log = server.lines.join("\n") + server.stderr;
    assert.ok(server.lines.length > 5);
    assert.ok(!log.includes(KEY.slice(8, 24)), "the log holds the key");
    for (const t of [PII_TEXT, NOTE, "Kowalski", "John Miller"]) assert.ok(!log.includes(t), `the log holds ${t}`);
  });
});

test("configuration: a PII model redacts through piiFinder at redactMinProbability (default 0.1), checked", () => {
  const env = (extra) => ({
    EDGETAG_MODELS: JSON.stringify({ "pii-ner": { source: "url", url: "https://models.example/pii-ner.gguf", sha256: "0".repeat(64) } }),
    EDGETAG_ESCALATION: JSON.stringify({ url: "https://cloud.example/v1", kind: "json", redact: ["pii-ner", "patterns"], ...extra }),
  });
  assert.equal(readConfig(env({})).escalation.redactMinProbability, DEFAULT_REDACT_MIN_PROBABILITY);
  assert.equal(DEFAULT_REDACT_MIN_PROBABILITY, 0.1);
  assert.equal(readConfig(env({ redactMinProbability: 0.5 })).escalation.redactMinProbability, 0.5);
  for (const bad of [0, 1.5, "0.1", null])
    assert.throws(() => readConfig(env({ redactMinProbability: bad })), (e) =>
      e.problems.some((p) => p.includes("redactMinProbability must be a number in (0, 1]")), String(bad));
});
