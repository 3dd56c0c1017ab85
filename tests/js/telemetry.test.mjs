// telemetry.test.mjs — the team's telemetry: reports carry counters, histograms, escalation outcomes, versions and
// the engine build, and never a text, a token or an entity (texts with unique markers go through a classifier, a
// token classifier and a cloud that echoes them; a source whose stats() leaks text on purpose is cleaned);
// increases between reports; a bounded queue while offline, with the dropped batches counted; beacons on pagehide.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { load, telemetry, withEscalation } from "../../web/edgetag.js";
import { readBuilt, simd } from "./helpers.mjs";

const MARKERS = ["QZXWV-marker-one", "Kowalskiqzx", "marker7731", "zqxj@example.org", "PLUGHXYZZY"];
const TEXTS = [
  `Call Anna ${MARKERS[1]} at 555-867-5309 about ${MARKERS[0]}`,
  `replace the ${MARKERS[2]} pump seal, write to ${MARKERS[3]}`,
  `book a table for two at 7pm ${MARKERS[4]}`,
];

/** A fetch that records every report body and answers `status` (or throws when `fail` says so). */
function recorder({ status = 204 } = {}) {
  const bodies = [];
  const state = { fail: false };
  const f = async (url, init) => {
    if (state.fail) throw new TypeError("fetch failed");
    bodies.push(init.body);
    return new Response(null, { status });
  };
  return { fetch: f, bodies, state };
}

describe("telemetry", () => {
  let classifier, tokens, escalating, extracting;
  const seen = new Set(); // every entity text and token piece the taggers produced
  before(async () => {
    classifier = await load(readBuilt("build/ref/tiny-i8.gguf", "make refmodels"), { cache: "none", simd });
    tokens = await load(readBuilt("build/ref/odd-i8.gguf", "make refmodels"), { cache: "none", simd });
    // A cloud that answers with the text itself in its entities, so that text passes through the escalation path.
    const cloud = async (request) => request.task === "classify" ? { label: classifier.info.labels[0] }
      : { entities: [{ label: tokens.info.entityTypes[0], start: 0, end: request.text.length, text: request.text }] };
    escalating = withEscalation(classifier, { endpoint: cloud, threshold: 1 });
    extracting = withEscalation(tokens, { endpoint: cloud, threshold: 1 });
    for (const t of TEXTS) {
      await escalating.classify(t);
      const r = await extracting.extract(t);
      for (const e of [...r.entities, ...(r.localEntities ?? [])]) seen.add(e.text);
    }
    // The markers' tokens, as the model's tokenizer cuts them (their surfaces through the offsets).
    for (const m of MARKERS) {
      const { offsets } = classifier.tokenize(m);
      for (let i = 0; i < offsets.length; i += 2) if (offsets[i + 1] - offsets[i] >= 4) seen.add(m.slice(offsets[i], offsets[i + 1]));
    }
  });
  after(() => {
    classifier.dispose();
    tokens.dispose();
  });

  test("a report has counters, histograms, outcomes, versions and the build — and no text, token or entity", async () => {
    // A source that puts text where counters belong: keys, values, nested; all of it must be dropped.
    const leaky = { stats: () => ({ requests: { classify: 3 }, note: TEXTS[0], [TEXTS[1]]: 1, [MARKERS[3]]: 2, version: TEXTS[2],
      nested: { label: MARKERS[0], list: [MARKERS[3]], ok: 2, [`${MARKERS[2]} ${MARKERS[4]}`]: { n: 1 } }, latencyMs: { bounds: [1, 2], counts: [1, 2, 0] } }) };
    const r = recorder();
    const t = telemetry({ endpoint: "https://telemetry.example/v1/edgetag", sources: { intents: escalating, notes: extracting, leaky },
      fetch: r.fetch, intervalMs: 0 });
    assert.equal(await t.tick(), true);
    t.stop();
    assert.equal(r.bodies.length, 1);
    const body = r.bodies[0];
    for (const m of [...MARKERS, ...TEXTS, ...seen].filter((s) => s.length >= 4))
      assert.ok(!body.includes(m), `the report contains ${JSON.stringify(m)}`);
    // Every string of the report is a code-like key or one of the few named values.
    const report = JSON.parse(body);
    const strings = [];
    const walk = (v, k) => {
      if (typeof v === "string") strings.push([k, v]);
      else if (v && typeof v === "object") for (const [kk, vv] of Object.entries(v)) { strings.push(["<key>", kk]); walk(vv, kk); }
    };
    walk(report, "");
    for (const [k, v] of strings)
      assert.ok(k === "<key>" ? /^[A-Za-z0-9_.+/-]{1,64}$/.test(v) : ["schema", "library", "sentAt", "from", "to", "version", "channel", "flavour", "state"].includes(k),
        `${k}: ${v}`);
    const [batch] = report.batches;
    assert.equal(report.schema, "edgetag.telemetry/1");
    assert.equal(report.dropped, 0);
    const intents = batch.sources.intents, notes = batch.sources.notes;
    assert.equal(intents.stats.requests.classify, TEXTS.length);
    assert.equal(intents.stats.confidence.counts.reduce((a, b) => a + b, 0), TEXTS.length);
    assert.equal(intents.stats.escalations.answered, TEXTS.length, "escalation outcomes are reported");
    assert.equal(notes.stats.requests.extract, TEXTS.length);
    assert.deepEqual([intents.version, intents.flavour], [classifier.info.version, simd]);
    assert.deepEqual(batch.sources.leaky.stats, { requests: { classify: 3 }, nested: { ok: 2 }, latencyMs: { bounds: [1, 2], counts: [1, 2, 0] } });
    assert.equal(batch.sources.leaky.version, undefined, "a version that is not code-like is dropped");
  });

  test("each report holds the increase since the last; a batch with no calls is not sent", async () => {
    const r = recorder();
    const t = telemetry({ endpoint: "https://t.example/r", sources: { intents: escalating }, fetch: r.fetch, intervalMs: 0 });
    await t.tick();
    assert.equal(await t.tick(), false, "nothing happened: nothing sent");
    await escalating.classify("one more");
    await t.tick();
    t.stop();
    assert.equal(r.bodies.length, 2);
    const second = JSON.parse(r.bodies[1]).batches[0].sources.intents.stats;
    assert.equal(second.requests.classify, 1);
    assert.deepEqual(second.confidence.bounds.length + 1, second.confidence.counts.length);
  });

  test("offline: the queue keeps at most maxBatches, the oldest are dropped and counted; back online, one report", async () => {
    const r = recorder();
    let online = false;
    const errors = [];
    const t = telemetry({ endpoint: "https://t.example/r", sources: { intents: escalating }, fetch: r.fetch, intervalMs: 0, maxBatches: 3,
      online: () => online, onError: (e) => errors.push(e) });
    for (let i = 0; i < 5; i++) {
      await escalating.classify(`text ${i}`);
      await t.tick();
    }
    assert.deepEqual([t.queued, t.dropped, r.bodies.length], [3, 2, 0], "offline: nothing sent, two batches dropped");
    // Online, but the network fails: kept, and the failure reported.
    online = true;
    r.state.fail = true;
    await escalating.classify("x");
    await t.tick();
    assert.deepEqual([t.queued, t.dropped, errors.length], [3, 3, 1]);
    r.state.fail = false;
    assert.equal(await t.flush(), true);
    t.stop();
    const report = JSON.parse(r.bodies[0]);
    assert.deepEqual([report.batches.length, report.dropped, t.queued, t.dropped], [3, 3, 0, 0]);
  });

  test("pagehide sends what is queued by sendBeacon, as text/plain (no preflight); a refused beacon keeps it", async () => {
    const target = new EventTarget();
    const beacons = [];
    let accept = false;
    const t = telemetry({ endpoint: "https://t.example/r", sources: { intents: escalating }, intervalMs: 0, target,
      sendBeacon: (url, data) => { beacons.push({ url, data }); return accept; }, fetch: async () => { throw new Error("not by fetch"); } });
    await escalating.classify("before leaving");
    target.dispatchEvent(new Event("pagehide"));
    assert.equal(beacons.length, 1);
    assert.equal(t.queued, 1, "refused: kept");
    accept = true;
    await escalating.classify("again");
    target.dispatchEvent(new Event("pagehide"));
    t.stop();
    assert.equal(beacons.length, 2);
    assert.equal(t.queued, 0);
    assert.equal(beacons[1].data.type, "text/plain;charset=utf-8");
    const report = JSON.parse(await beacons[1].data.text());
    assert.equal(report.batches.length, 2);
    target.dispatchEvent(new Event("pagehide"));
    assert.equal(beacons.length, 2, "stopped: no more listeners");
  });

  test("options are checked", () => {
    assert.throws(() => telemetry({ endpoint: "https://t.example", sources: { a: {} } }), { code: "INVALID_ARGUMENT" });
    assert.throws(() => telemetry({ endpoint: "https://t.example", sources: {}, intervalMS: 5 }), /no option "intervalMS"/);
    assert.throws(() => telemetry({ endpoint: "https://t.example", sources: {}, maxBatches: 0 }), { code: "INVALID_ARGUMENT" });
  });
});
