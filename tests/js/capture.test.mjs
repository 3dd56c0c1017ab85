// capture.test.mjs — escalations the cloud answered, recorded as training data (web/capture/): nothing without
// consent, only the text as it was sent (redacted), bounded, exportable as JSONL, erasable; a store that fails
// never changes an answer. The shipped int8 models run for real; the cloud is an endpoint function that keeps
// what it was sent, so the tests compare the records with exactly that.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  CAPTURE_SCHEMA, EdgetagError, load, memoryCaptureStore, parseJSONL, patternRedactor, anyOf, textCaptureStore, withEscalation,
} from "../../web/edgetag.js";
import { path, readBuilt, simd } from "./helpers.mjs";

let intent, pii;
before(async () => {
  readBuilt("build/edgetag.wasm", "make wasm");
  intent = await load(readFileSync(path("models/intent-clinc.gguf")), { simd });
  pii = await load(readFileSync(path("models/pii-ner.gguf")), { simd });
});
after(() => {
  intent?.dispose();
  pii?.dispose();
});

/** A teacher: answers `label` (or the entities `answer(text)`), and keeps every request it was sent. */
function teacher({ label = "balance", answer } = {}) {
  const sent = [];
  const endpoint = (request) => {
    sent.push(request);
    return request.task === "classify" ? { label, score: 0.93 } : answer(request.text);
  };
  return { sent, endpoint };
}

/** A policy that escalates every text (threshold above 1) to `endpoint`. */
const always = (endpoint, extra = {}) => ({ endpoint, threshold: 2, retries: 0, ...extra });

const PII_TEXT = "Hi, I'm Anna Kowalski, mail anna.k@example.com or call +1 415-555-0134 about my balance";
const PII_PARTS = ["Anna", "Kowalski", "anna.k@example.com", "415-555-0134"];

test("nothing is recorded without consent: no capture option, consent false, a function that says no or throws", async () => {
  const store = memoryCaptureStore();
  const t = teacher();
  await withEscalation(intent, always(t.endpoint)).classify("what is my balance");
  for (const consent of [false, () => false, () => "yes", () => { throw new Error("settings unavailable"); }, async () => false]) {
    const tagger = withEscalation(intent, always(t.endpoint, { capture: { store, consent } }));
    const r = await tagger.classify(["what is my balance", "book a table"]);
    assert.deepEqual(r.map((x) => [x.source, x.escalation.captured]), [["cloud", false], ["cloud", false]]);
    assert.equal(tagger.stats().capture.declined, 2);
    assert.equal(tagger.stats().capture.recorded, 0);
  }
  assert.equal(t.sent.length, 11, "the cloud was asked every time: only the recording was declined");
  assert.deepEqual(await store.usage(), { records: 0, bytes: 0, maxRecords: 1000, maxBytes: 1 << 20 });
  assert.equal(await store.export(), "");
});

test("consent must be given explicitly; a bad capture option or call option throws INVALID_ARGUMENT", async () => {
  const store = memoryCaptureStore();
  const bad = [{ store }, { store, consent: "yes" }, { store: {}, consent: true }, { store, consent: true, keep: 3 }, "on"];
  for (const capture of bad)
    assert.throws(() => withEscalation(intent, always(() => ({ label: "balance" }), { capture })),
      (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT", JSON.stringify(capture));
  const tagger = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store, consent: true } }));
  await assert.rejects(tagger.classify("x", { capture: "yes" }), (e) => e.code === "INVALID_ARGUMENT");
  assert.throws(() => memoryCaptureStore({ maxRecords: 0 }), (e) => e.code === "INVALID_ARGUMENT");
  assert.throws(() => memoryCaptureStore({ maxRecs: 5 }), (e) => e.code === "INVALID_ARGUMENT");
});

test("with consent, a record holds the text as sent, the teacher's label, the local label and score, the model version", async () => {
  const store = memoryCaptureStore();
  const t = teacher({ label: "balance" });
  const tagger = withEscalation(intent, always(t.endpoint, { capture: { store, consent: true } }));
  const texts = ["how much money is in my checking account", "book a table for two"];
  const results = await tagger.classify(texts);
  const records = await store.records();
  assert.equal(records.length, 2);
  records.forEach((r, i) => {
    assert.equal(r.schema, CAPTURE_SCHEMA);
    assert.equal(r.task, "classify");
    assert.equal(r.text, texts[i]);
    assert.equal(r.text, t.sent[i].text);
    assert.equal(r.redacted, false);
    assert.deepEqual(r.teacher, { label: "balance", score: 0.93 });
    assert.deepEqual(r.local, { label: results[i].localLabel, score: results[i].localScore });
    assert.deepEqual(r.model, { name: intent.info.name, version: intent.info.version });
    assert.match(r.model.version, /^intent-clinc/);
    assert.equal(r.trigger, "low_score");
    assert.equal(r.threshold, 2);
    assert.ok(!Number.isNaN(Date.parse(r.at)));
    assert.equal(results[i].escalation.captured, true);
  });
  // export is JSONL of exactly those records, oldest first
  const jsonl = await store.export();
  assert.equal(jsonl.split("\n").length, 3);
  assert.ok(jsonl.endsWith("\n"));
  assert.deepEqual(parseJSONL(jsonl), records);
  assert.equal(tagger.stats().capture.recorded, 2);
});

test("escalations the cloud did not answer (failure, rejected answer) are not recorded", async () => {
  const store = memoryCaptureStore();
  const failing = withEscalation(intent, always(() => { throw new Error("down"); }, { capture: { store, consent: true } }));
  assert.equal((await failing.classify("what is my balance")).escalation.outcome, "failed");
  const wrong = withEscalation(intent, always(() => ({ label: "not_a_label" }), { capture: { store, consent: true } }));
  assert.equal((await wrong.classify("what is my balance")).escalation.outcome, "rejected");
  assert.equal((await store.usage()).records, 0);
});

test("only the redacted text is stored: classification with a PII model and patterns as the redactor", async () => {
  const store = memoryCaptureStore();
  const t = teacher({ label: "balance" });
  const tagger = withEscalation(intent, always(t.endpoint, { redact: anyOf(pii, patternRedactor()), capture: { store, consent: true } }));
  const r = await tagger.classify(PII_TEXT);
  assert.equal(r.source, "cloud");
  const [record] = await store.records();
  assert.equal(record.text, t.sent[0].text, "the record holds exactly what the cloud was sent");
  assert.equal(record.redacted, true);
  assert.match(record.text, /\[EMAIL_ADDRESS_1\]/);
  assert.match(record.text, /\[PHONE_NUMBER_1\]/);
  const everything = await store.export();
  for (const part of PII_PARTS) assert.ok(!everything.includes(part), `${part} must not be stored`);
});

test("extraction: the teacher's spans and the local spans are on the sent text; nothing of the original leaks", async () => {
  const store = memoryCaptureStore();
  // The teacher finds each placeholder and the word "balance".
  const answer = (text) => ({
    entities: [...text.matchAll(/\[[A-Z_]+_\d+\]|balance/g)].map((m) => ({
      label: m[0] === "balance" ? "TITLE" : m[0].slice(1).replace(/_\d+\]$/, ""), text: m[0], start: m.index, end: m.index + m[0].length,
    })),
  });
  const t = teacher({ answer });
  const tagger = withEscalation(pii, always(t.endpoint, { redact: true, capture: { store, consent: true } }));
  const r = await tagger.extract(PII_TEXT);
  assert.equal(r.source, "cloud");
  assert.ok(r.entities.some((e) => e.text === "anna.k@example.com"), "the caller gets spans on the original text");
  const [record] = await store.records();
  assert.equal(record.task, "extract");
  assert.equal(record.text, t.sent[0].text);
  assert.ok(record.teacher.entities.length >= 2);
  for (const e of [...record.teacher.entities, ...record.local.entities]) assert.equal(record.text.slice(e.start, e.end), e.text);
  assert.ok(record.local.entities.length >= 1, "the local entities, moved onto the placeholders");
  assert.ok(record.local.entities.every((e) => /^\[[A-Z_]+_\d+\]$/.test(e.text) || !/[@\d]/.test(e.text)));
  assert.equal(record.local.score, r.localScore);
  const everything = await store.export();
  for (const part of PII_PARTS) assert.ok(!everything.includes(part), `${part} must not be stored`);
});

test("consent per call: only calls made with {capture: true}; {capture: false} declines even with consent true", async () => {
  const store = memoryCaptureStore();
  const perCall = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store, consent: "per-call" } }));
  await perCall.classify("first, not consented");
  await perCall.classify("second, consented", { capture: true });
  await perCall.classify("third, declined", { capture: false });
  const allowed = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store, consent: true } }));
  await allowed.classify("fourth, declined by the call", { capture: false });
  let share = false;
  const toggled = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store, consent: async () => share } }));
  await toggled.classify("fifth, toggle off");
  share = true;
  await toggled.classify("sixth, toggle on");
  assert.deepEqual((await store.records()).map((r) => r.text), ["second, consented", "sixth, toggle on"]);
});

test("bounds: the newest maxRecords records and at most maxBytes are kept; an oversized record is refused", async () => {
  const store = memoryCaptureStore({ maxRecords: 3 });
  const tagger = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store, consent: true } }));
  for (let i = 0; i < 5; i++) await tagger.classify(`what is my balance number ${i}`);
  assert.deepEqual((await store.records()).map((r) => r.text), [2, 3, 4].map((i) => `what is my balance number ${i}`));
  assert.equal(tagger.stats().capture.evicted, 2);

  const small = memoryCaptureStore({ maxBytes: 1200, maxRecordBytes: 600 });
  const t2 = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store: small, consent: true } }));
  for (let i = 0; i < 8; i++) await t2.classify(`balance please ${i}`);
  const u = await small.usage();
  assert.ok(u.bytes <= 1200 && u.records >= 1 && u.records < 8, JSON.stringify(u));
  assert.equal(u.bytes, Buffer.byteLength(await small.export()));
  const long = await t2.classify("balance ".repeat(100));
  assert.equal(long.escalation.captured, false);
  assert.equal(long.source, "cloud", "a refused record does not change the answer");
  assert.equal(t2.stats().capture.refused, 1);
});

test("erase removes everything; a failing store never changes the answer", async () => {
  const store = memoryCaptureStore();
  const tagger = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store, consent: true } }));
  await tagger.classify(["a", "b"]);
  assert.equal((await store.usage()).records, 2);
  await store.erase();
  assert.deepEqual(await store.records(), []);
  assert.equal(await store.export(), "");
  await tagger.classify("c");
  assert.deepEqual((await store.records()).map((r) => r.text), ["c"]);

  const broken = textCaptureStore({ read: async () => null, write: async () => { throw new Error("disk full"); }, remove: async () => {} });
  const t2 = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store: broken, consent: true } }));
  const r = await t2.classify("what is my balance");
  assert.equal(r.source, "cloud");
  assert.equal(r.label, "balance");
  assert.equal(r.escalation.captured, false);
  assert.equal(t2.stats().capture.failed, 1);
});

test("a text store serializes concurrent adds and drops a torn last line", async () => {
  let text = null;
  const store = textCaptureStore({
    async read() { await new Promise((r) => setTimeout(r, 2)); return text; },
    async write(t) { await new Promise((r) => setTimeout(r, 2)); text = t; },
    async remove() { text = null; },
  }, { maxRecords: 50 });
  const tagger = withEscalation(intent, always(() => ({ label: "balance" }), { capture: { store, consent: true }, maxConcurrent: 8 }));
  await tagger.classify(Array.from({ length: 12 }, (_, i) => `text ${i}`));
  assert.equal((await store.records()).length, 12, "no add lost another's record");
  text += '{"schema":"edgetag.capture/1","text":"tor';
  assert.equal((await store.records()).length, 12);
});
