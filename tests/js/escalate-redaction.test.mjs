// escalate-redaction.test.mjs — web/escalate/ against a real HTTP endpoint (tests/js/cloud-server.mjs) on
// 127.0.0.1: redaction before anything leaves (placeholders, span mapping, the real pii-ner model), telemetry
// that never holds text, pass-through of the tagger, errors, and the TypeScript declarations.
// Fixtures: escalate-fixtures.mjs.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";

import { load } from "../../web/edgetag.js";
import { withEscalation } from "../../web/escalate/index.js";
import { cloudPolicy, startFixtures, stopFixtures, MODEL_DIR, TEXT, NER_TEXT } from "./escalate-fixtures.mjs";
import { cli, path, simd } from "./helpers.mjs";

let cloud, classifier, tagger;
before(async () => ({ cloud, classifier, tagger } = await startFixtures()));
after(() => stopFixtures({ cloud, classifier, tagger }));
beforeEach(() => cloud.reset());
const policy = (overrides) => cloudPolicy(cloud, overrides);

describe("redaction", () => {
  /** A PII tagger with known answers: names, phone numbers and e-mails, found by patterns (async, as a worker's). */
  const fakePii = {
    info: { task: "token_classification", labels: ["O", "B-PER", "I-PER"], entityTypes: ["PER", "PHONE", "EMAIL"], threshold: null },
    async extract(text) {
      const entities = [];
      for (const [re, label] of [[/John Smith|Mary Jones/g, "PER"], [/\d{3}-\d{4}/g, "PHONE"], [/\S+@\S+\.\w+/g, "EMAIL"]])
        for (const m of text.matchAll(re)) entities.push({ label, score: 0.99, start: m.index, end: m.index + m[0].length, text: m[0] });
      return { entities, escalate: false };
    },
  };
  const SECRETS = ["John", "Smith", "555-1234", "mary@example.com"];
  const TEXT_PII = "Call John Smith at 555-1234 about the invoice; John Smith paid [PER_1] already, cc mary@example.com";
  const REDACTED = "Call [PER_2] at [PHONE_1] about the invoice; [PER_2] paid [PER_1] already, cc [EMAIL_1]";

  test("no entity text reaches the server; the same text gets the same placeholder; no collision with the input", async () => {
    const t = withEscalation(classifier, policy({ threshold: 1.01, redact: fakePii }));
    const r = await t.classify(TEXT_PII);
    assert.equal(r.source, "cloud");
    assert.equal(cloud.requests[0].text, REDACTED);
    const everything = cloud.everything();
    for (const s of SECRETS) assert.ok(!everything.includes(s), `${s} reached the server`);
    assert.match(cloud.requests[0].json.messages[0].content, /placeholders/);
  });

  test("extraction: cloud spans over the redacted text map back to the original offsets", async () => {
    const types = { info: { ...tagger.info, entityTypes: ["PER", "PHONE", "THING"] }, extract: () => ({ entities: [], escalate: false }) };
    const t = withEscalation(types, policy({ threshold: 1.01, redact: fakePii, endpoint: { kind: "json", url: cloud.jsonUrl } }));
    const at = (s, from = 0) => REDACTED.indexOf(s, from);
    cloud.script({
      reply: "ok", answer: ({ text }) => {
        assert.equal(text, REDACTED);
        return {
          entities: [
            { label: "PER", text: "[PER_2]", start: at("[PER_2]"), end: at("[PER_2]") + 7 },
            { label: "PHONE", text: "[PHONE_1] about", start: at("[PHONE_1]"), end: at("[PHONE_1]") + 15, score: 0.8 },
            { label: "THING", text: "invoice", start: at("invoice"), end: at("invoice") + 7 },
            { label: "PER", text: "[PER_2]", start: at("[PER_2]", 20), end: at("[PER_2]", 20) + 7 },
            { label: "PER", text: "[PER_1]", start: at("[PER_1]"), end: at("[PER_1]") + 7 }, // the input's own text
          ],
        };
      },
    });
    const r = await t.extract(TEXT_PII);
    assert.equal(r.source, "cloud");
    const expected = [["PER", "John Smith"], ["PHONE", "555-1234 about"], ["THING", "invoice"], ["PER", "John Smith"], ["PER", "[PER_1]"]];
    let from = 0;
    assert.deepEqual(r.entities.map((e) => [e.label, e.text]), expected);
    for (const e of r.entities) {
      assert.equal(TEXT_PII.slice(e.start, e.end), e.text);
      assert.ok(e.start >= from);
      from = e.start + 1;
    }
    assert.equal(r.entities[1].score, 0.8);
    assert.equal(r.escalation.redacted, 4, "spans replaced: two names, a phone number, an e-mail");
    for (const s of SECRETS) assert.ok(!cloud.everything().includes(s), `${s} reached the server`);

    // A span that cuts through a placeholder cannot be mapped: rejected.
    cloud.script({ reply: "ok", answer: () => ({ entities: [{ label: "PER", text: "PER_2", start: 6, end: 11 }] }) });
    const bad = await t.extract(TEXT_PII);
    assert.deepEqual([bad.source, bad.escalation.reason, bad.escalation.detail], ["local", "invalid_answer", "span"]);
  });

  test("redact: true uses the tagger's own entities; redactLabels limits the types", async () => {
    const own = { info: fakePii.info, extract: (text) => fakePii.extract(text) };
    let t = withEscalation(own, policy({ threshold: 1.01, redact: true }));
    await t.extract(TEXT_PII);
    assert.equal(cloud.requests[0].text, REDACTED);
    t = withEscalation(own, policy({ threshold: 1.01, redact: true, redactLabels: ["PHONE"] }));
    await t.extract(TEXT_PII);
    assert.equal(cloud.requests[1].text, TEXT_PII.replace("555-1234", "[PHONE_1]"));
  });

  test("touching token spans of one type become one placeholder; overlapping spans merge", async () => {
    const tokens = {
      extract: () => ({
        entities: [
          { label: "B-PER", start: 5, end: 9 }, { label: "I-PER", start: 10, end: 15 }, { label: "I-PER", start: 9, end: 10 },
          { label: "PHONE", start: 19, end: 23 }, { label: "PHONE", start: 21, end: 27 },
        ],
      }),
    };
    await withEscalation(classifier, policy({ threshold: 1.01, redact: tokens })).classify(TEXT_PII);
    // The second "John Smith", which no span covers, is the same string: the same placeholder (it was sent as it is).
    assert.equal(cloud.requests[0].text, TEXT_PII.replaceAll("John Smith", "[PER_2]").replace("555-1234", "[PHONE_1]"));
  });

  test("a failing redactor means nothing is sent", async () => {
    const broken = { extract: () => { throw new Error("worker crashed"); } };
    const outside = { extract: () => ({ entities: [{ label: "PER", start: 5, end: 5000 }] }) };
    for (const redact of [broken, outside]) {
      const r = await withEscalation(classifier, policy({ threshold: 1.01, redact })).classify(TEXT);
      assert.deepEqual([r.source, r.escalation.outcome, r.escalation.reason], ["local", "skipped", "redaction_failed"]);
    }
    assert.equal(cloud.requests.length, 0);
  });

  const piiFile = MODEL_DIR + "pii-ner.gguf";
  test("with the real pii-ner model: nothing it finds is sent, and spans map back", { skip: !existsSync(piiFile) && "models/pii-ner.gguf is not built yet" }, async () => {
    const pii = await load(readFileSync(piiFile), { simd });
    try {
      const text = "Please send the refund to John Smith at john.smith@example.com or call him on 555-867-5309, he lives at 12 Oak Street, Springfield.";
      const found = pii.extract(text).entities;
      assert.ok(found.length > 0, "pii-ner finds no entity in the test text");
      // The text the server must see: the original with every group of overlapping or touching spans
      // replaced by placeholders (one per group, or one per type in a group of touching spans).
      const groups = [];
      for (const e of [...found].sort((a, b) => a.start - b.start)) {
        const last = groups[groups.length - 1];
        if (last && e.start <= last.end) last.end = Math.max(last.end, e.end);
        else groups.push({ start: e.start, end: e.end });
      }
      const esc = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      let pattern = "", at = 0;
      for (const g of groups) {
        pattern += esc(text.slice(at, g.start)) + "(?:\\[[A-Z0-9_]+_\\d+\\])+";
        at = g.end;
      }
      pattern += esc(text.slice(at));

      const t = withEscalation(classifier, policy({ threshold: 1.01, redact: pii }));
      assert.equal((await t.classify(text)).source, "cloud");
      assert.match(cloud.requests[0].text, new RegExp(`^${pattern}$`));
      for (const e of found) // (a text that also occurs where the model found nothing may be sent from there)
        if (e.text.length >= 4 && text.split(e.text).length === 2) assert.ok(!cloud.requests[0].text.includes(e.text), "an entity's text was sent");
      assert.ok(!cloud.everything().includes(text));

      // pii-ner as the extraction tagger with redact: true; the cloud tags each placeholder.
      const self = withEscalation(pii, policy({ threshold: 1.01, redact: true }));
      cloud.script({
        reply: "ok", answer: ({ text: sent, entityTypes }) => ({
          entities: [...sent.matchAll(/\[[A-Z0-9_]+_\d+\]/g)].map((m) => ({ label: entityTypes[0], text: m[0], start: m.index, end: m.index + m[0].length })),
        }),
      });
      const r = await self.extract(text);
      assert.equal(r.source, "cloud");
      assert.ok(r.entities.length > 0);
      // Each placeholder maps back to its span of the original: together they cover exactly the groups.
      for (const e of r.entities) assert.equal(text.slice(e.start, e.end), e.text);
      for (const g of groups) {
        const inside = r.entities.filter((e) => e.start >= g.start && e.end <= g.end);
        assert.ok(inside.length > 0);
        assert.deepEqual([inside[0].start, inside[inside.length - 1].end], [g.start, g.end]);
      }
      assert.equal(r.entities.filter((e) => !groups.some((g) => e.start >= g.start && e.end <= g.end)).length, 0);
    } finally {
      pii.dispose();
    }
  });
});

describe("stats, pass-through, async taggers, errors", () => {
  test("stats(): counters and histograms, and never any text", async () => {
    const t = withEscalation(classifier, policy({ threshold: 0.999, escalateLabels: [] }));
    const texts = ["how much money do I have", "cancel my card please", "tell me a joke"];
    cloud.script({ reply: "ok" }, { reply: "status", status: 500 }, { reply: "malformed" });
    await t.classify(texts);
    await t.classify(TEXT);
    const s = t.stats();
    const sum = (counts) => counts.reduce((a, b) => a + b, 0);
    const e = s.escalations;
    assert.equal(s.requests.classify, 4);
    assert.equal(sum(s.localLatencyMs.counts), 2, "one local call per classify() call");
    assert.equal(sum(s.confidence.counts), 4);
    assert.equal(s.confidence.counts.length, s.confidence.bounds.length + 1);
    const settled = e.answered + [e.skipped, e.failed, e.rejected].flatMap(Object.values).reduce((a, b) => a + b, 0);
    assert.equal(settled, e.wanted);
    assert.equal(e.byTrigger.low_score, e.wanted);
    assert.equal(s.attempts, cloud.requests.length);
    const json = JSON.stringify(s);
    for (const text of [...texts, TEXT]) assert.ok(!json.includes(text));
    for (const l of classifier.info.labels) assert.ok(!json.includes(`"${l}"`), "no label either");
    t.resetStats();
    assert.equal(t.stats().requests.classify, 0);
    assert.equal(sum(t.stats().confidence.counts), 0);
  });

  test("an async tagger (a worker's promises) gives the same answers", async () => {
    const delay = (v) => new Promise((r) => setTimeout(() => r(v), 1));
    const asyncTagger = { info: classifier.info, classify: (x) => delay(classifier.classify(x)) };
    const asyncNer = { info: tagger.info, extract: (x, o) => delay(tagger.extract(x, o)) };
    const a = withEscalation(asyncTagger, policy({ threshold: 0, escalateLabels: [] }));
    assert.deepEqual((await a.classify([TEXT, "hello"])).map((r) => r.label), classifier.classify([TEXT, "hello"]).map((r) => r.label));
    const b = withEscalation(asyncNer, policy({ threshold: 1.01 }));
    const r = await b.extract(NER_TEXT, { aggregation: "first" });
    assert.equal(r.source, "cloud");
    assert.deepEqual(r.localEntities, tagger.extract(NER_TEXT, { aggregation: "first" }).entities);
  });

  test("info, tokenize and embed pass through; dispose() ends pending escalations and the model", async () => {
    const own = await load(readFileSync(path("build/ref/tiny.gguf")), { simd });
    const t = withEscalation(own, policy({ threshold: 1.01 }));
    assert.equal(t.info, own.info);
    assert.equal(t.tagger, own);
    assert.deepEqual(await t.tokenize("hello world"), own.tokenize("hello world"));
    assert.deepEqual(await t.embed([101, 7, 102]), own.embed([101, 7, 102]));
    cloud.script({ reply: "slow", delayMs: 5000 });
    const pending = t.classify("hello");
    await cloud.until(() => cloud.requests.length === 1);
    await t.dispose();
    const r = await pending;
    assert.deepEqual([r.source, r.escalation.outcome, r.escalation.reason], ["local", "failed", "disposed"]);
    assert.throws(() => own.classify("hello"), { code: "STATE" });
    await assert.rejects(t.classify("hello"), { code: "STATE" });
    await t.dispose();
    await cloud.until(() => cloud.requests[0].aborted);
  });

  test("a bad tagger, policy or argument throws EdgetagError INVALID_ARGUMENT", async () => {
    const ok = policy();
    const bad = [
      [null, ok], [{}, ok], [classifier, null], [classifier, { ...ok, endpoint: undefined }],
      [classifier, { ...ok, endpoint: { kind: "grpc", url: cloud.openaiUrl } }],
      [classifier, { ...ok, endpoint: { kind: "json", url: "not a url" } }],
      [classifier, { ...ok, endpoint: { kind: "json", url: "ftp://example.com/x" } }],
      [classifier, { ...ok, endpoint: { kind: "openai", url: cloud.openaiUrl } }], // no model
      [classifier, { ...ok, endpoint: { ...ok.endpoint, headers: { "x-n": 1 } } }],
      [classifier, { ...ok, threshold: "high" }], [classifier, { ...ok, threshold: { classify: 0.5, other: 1 } }],
      [classifier, { ...ok, retries: -1 }], [classifier, { ...ok, retries: 1.5 }], [classifier, { ...ok, timeoutMs: 0 }],
      [classifier, { ...ok, maxConcurrent: 0 }], [classifier, { ...ok, backoffMs: NaN }], [classifier, { ...ok, maxQueue: -1 }],
      [classifier, { ...ok, redact: "yes" }], [classifier, { ...ok, redact: true }], [classifier, { ...ok, signal: {} }],
      [classifier, { ...ok, escalateLabels: "oos" }], [classifier, { ...ok, fetch: 42 }],
      [classifier, { ...ok, treshold: 0.5 }], [classifier, { ...ok, endpoint: { ...ok.endpoint, modle: "m" } }],
    ];
    for (const [tg, p] of bad)
      assert.throws(() => withEscalation(tg, p), { name: "EdgetagError", code: "INVALID_ARGUMENT" }, JSON.stringify(p));
    const t = withEscalation(classifier, ok);
    await assert.rejects(t.classify(42), { code: "INVALID_ARGUMENT" });
    await assert.rejects(t.classify(TEXT, { signal: "soon" }), { code: "INVALID_ARGUMENT" });
    await assert.rejects(withEscalation(tagger, ok).extract(["a"]), { code: "INVALID_ARGUMENT" });
  });
});

test("tsc --strict accepts web/escalate/index.d.ts and a typical use, and rejects misuse", async () => {
  const tsc = path("node_modules/.bin/tsc");
  let r = await cli(tsc, ["--noEmit", "--strict", path("web/escalate/index.d.ts")]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const dir = mkdtempSync(join(tmpdir(), "edgetag-escalate-"));
  try {
    const web = JSON.stringify(path("web/escalate/index.js"));
    const edgetag = JSON.stringify(path("web/edgetag.js"));
    writeFileSync(join(dir, "usage.ts"), `
import { load, type Model } from ${edgetag};
import { withEscalation, EscalationHttpError, DEFAULT_THRESHOLD, type EscalationPolicy, type EscalationStats } from ${web};
async function main(bytes: Uint8Array, pii: Model, signal: AbortSignal): Promise<void> {
  const model = await load(bytes);
  const policy: EscalationPolicy = {
    endpoint: { kind: "openai", url: "https://example.com/v1/chat/completions", model: "m", headers: { authorization: "Bearer k" } },
    threshold: { classify: 0.7 }, timeoutMs: 3000, retries: 2, maxConcurrent: 2, maxQueue: 8, redact: pii, signal,
  };
  const t = withEscalation(model, policy);
  const one = await t.classify("hello", { signal });
  const many = await t.classify(["a", "b"]);
  const label: string = one.label + many[0].label;
  const score: number | null = one.score;
  const local: number = one.localScore;
  if (one.escalation.wanted && one.escalation.outcome !== "answered") {
    const reason: string = one.escalation.reason;
    void reason;
  }
  const ents = await t.extract("x", { aggregation: "first", signal });
  for (const e of ents.entities) void (e.start + e.end + e.text.length + (e.score ?? 0));
  const stats: EscalationStats = t.stats();
  void (stats.escalations.wanted + stats.confidence.counts[0] + stats.breaker.opens + DEFAULT_THRESHOLD);
  withEscalation({ info: model.info, classify: async (s: string) => model.classify(s) },
    { endpoint: async (req) => ({ label: req.labels?.[0] ?? "x" }) });
  withEscalation(model, { endpoint: async () => { throw new EscalationHttpError(503, { retryAfterMs: 10 }); } });
  void [label, score, local];
  await t.dispose();
  // @ts-expect-error: kind is "openai" or "json"
  withEscalation(model, { endpoint: { kind: "grpc", url: "x" } });
  // @ts-expect-error: source is "local" | "cloud"
  if (one.source === "edge") return;
  // @ts-expect-error: classify takes strings
  await t.classify(42);
}
void main;
`);
    r = await cli(tsc, ["--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext",
      "--lib", "es2022,dom", "--types", "", join(dir, "usage.ts")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
