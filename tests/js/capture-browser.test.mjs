// capture-browser.test.mjs — capture in headless Chromium with real IndexedDB: nothing without consent; with
// consent, only the redacted text (the shipped intent model escalating, the shipped PII model and the patterns
// redacting, a teacher function in the page); the records outlive a browser restart; bounds hold; export gives
// JSONL; erase leaves the database empty, also after a restart. Then WebKitGTK (Safari's engine family): consent,
// the redacted text only, export and erase in its IndexedDB.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkChromium, launchChromium } from "./browser/chromium.mjs";
import { startServer } from "./browser/server.mjs";
import { startWebKit, webkitMissing } from "./browser/webdriver.mjs";
import { path, readBuilt } from "./helpers.mjs";

readBuilt("build/edgetag.wasm", "make wasm");
checkChromium();

const PII_TEXT = "Hi, I'm Anna Kowalski, mail anna.k@example.com or call +1 415-555-0134 about my balance";
const PII_PARTS = ["Anna", "Kowalski", "anna.k@example.com", "415-555-0134"];

let srv, profile, context, page;

async function open() {
  context = await launchChromium(profile);
  page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${srv.base}/tests/js/browser/page.html`);
  await page.waitForFunction(() => window.ready === true);
}

/** In the page: escalate `texts` with the shipped models, consent as given, into the IndexedDB store "capture-test". */
function run(texts, { consent, maxRecords = 1000, redact = false }) {
  return page.evaluate(async ({ texts, consent, maxRecords, redact }) => {
    const { load, withEscalation, indexedDBCaptureStore, anyOf, patternRedactor } = window.edgetag;
    window.models ??= { intent: await load("/models/intent-clinc.gguf"), pii: await load("/models/pii-ner.gguf") };
    const store = indexedDBCaptureStore({ dbName: "capture-test", maxRecords });
    const sent = [];
    const endpoint = (request) => { sent.push(request.text); return { label: "balance", score: 0.9 }; };
    const policy = { endpoint, threshold: 2, retries: 0, capture: { store, consent } };
    if (redact) policy.redact = anyOf(window.models.pii, patternRedactor());
    const tagger = withEscalation(window.models.intent, policy);
    const results = [];
    for (const t of texts) results.push(await tagger.classify(t)); // one at a time: records in the texts' order
    const out = { sent, captured: results.map((r) => r.escalation.captured), usage: await store.usage(), jsonl: await store.export(),
      stats: tagger.stats().capture };
    await store.close();
    return out;
  }, { texts, consent, maxRecords, redact });
}

function storeCall(method) {
  return page.evaluate(async (method) => {
    const store = window.edgetag.indexedDBCaptureStore({ dbName: "capture-test" });
    const r = await store[method]();
    await store.close();
    return r;
  }, method);
}

before(async () => {
  srv = await startServer(path(""));
  profile = mkdtempSync(join(tmpdir(), "edgetag-capture-"));
  await open();
});

after(async () => {
  await context?.close();
  await srv?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("Chromium: without consent nothing reaches IndexedDB", async () => {
  const r = await run(["what is my balance", "book a table"], { consent: false });
  assert.deepEqual(r.captured, [false, false]);
  assert.equal(r.sent.length, 2);
  assert.equal(r.usage.records, 0);
  assert.equal(r.jsonl, "");
  assert.equal(r.stats.declined, 2);
});

test("Chromium: with consent, only the redacted text is stored, and it outlives a browser restart", async () => {
  const r = await run([PII_TEXT], { consent: true, redact: true });
  assert.deepEqual(r.captured, [true]);
  assert.match(r.sent[0], /\[EMAIL_ADDRESS_1\]/);
  const [record] = r.jsonl.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(record.text, r.sent[0], "the record holds exactly what the cloud was sent");
  assert.equal(record.redacted, true);
  assert.deepEqual(record.teacher, { label: "balance", score: 0.9 });
  assert.match(record.model.version, /^intent-clinc/);
  for (const part of PII_PARTS) assert.ok(!r.jsonl.includes(part), `${part} must not be stored`);

  await context.close();
  await open();
  const records = await storeCall("records");
  assert.deepEqual(records, [record]);
  // The whole database, read raw: no original text anywhere in it.
  const raw = await page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open("capture-test");
    req.onsuccess = () => {
      const tx = req.result.transaction("records", "readonly");
      const all = tx.objectStore("records").getAll();
      all.onsuccess = () => { resolve(JSON.stringify(all.result)); req.result.close(); };
      all.onerror = () => reject(all.error);
    };
    req.onerror = () => reject(req.error);
  }));
  for (const part of PII_PARTS) assert.ok(!raw.includes(part), `${part} must not be in IndexedDB`);
});

test("Chromium: bounds keep the newest records; erase empties the database, also after a restart", async () => {
  await storeCall("erase");
  const texts = Array.from({ length: 6 }, (_, i) => `what is my balance ${i}`);
  const r = await run(texts, { consent: true, maxRecords: 4 });
  assert.equal(r.usage.records, 4);
  assert.deepEqual(r.jsonl.trim().split("\n").map((l) => JSON.parse(l).text), texts.slice(2));
  assert.equal(r.stats.evicted, 2);
  assert.equal(r.usage.bytes, Buffer.byteLength(r.jsonl));
  await storeCall("erase");
  assert.deepEqual(await storeCall("usage"), { records: 0, bytes: 0, maxRecords: 1000, maxBytes: 1 << 20 });
  await context.close();
  await open();
  assert.equal(await storeCall("export"), "");
});

describe("capture in WebKitGTK (Safari's engine family)", { skip: webkitMissing() ?? false }, () => {
  let wsrv, wk;
  before(async () => {
    wsrv = await startServer(path(""));
    wk = await startWebKit();
  });
  after(async () => {
    await wk?.stop();
    await wsrv?.close();
  });

  test("WebKit: nothing without consent; with it only the redacted text, in IndexedDB; export and erase", async () => {
    await wk.session.navigate(`${wsrv.base}/tests/js/browser/page.html`);
    await wk.session.until("return window.ready === true");
    await wk.session.setTimeouts({ script: 120000 });
    const r = await wk.session.executeAsync(`const done = arguments[arguments.length - 1];
      (async () => {
        const { load, withEscalation, indexedDBCaptureStore, anyOf, patternRedactor } = window.edgetag;
        const intent = await load("/models/intent-clinc.gguf", { cache: "none" });
        const pii = await load("/models/pii-ner.gguf", { cache: "none" });
        const store = indexedDBCaptureStore({ dbName: "capture-webkit" });
        await store.erase();
        const sent = [];
        const endpoint = (request) => { sent.push(request.text); return { label: "balance", score: 0.9 }; };
        const policy = (consent) => ({ endpoint, threshold: 2, retries: 0, redact: anyOf(pii, patternRedactor()), capture: { store, consent } });
        await withEscalation(intent, policy(false)).classify(${JSON.stringify(PII_TEXT)});
        const without = (await store.usage()).records;
        await withEscalation(intent, policy(true)).classify(${JSON.stringify(PII_TEXT)});
        const jsonl = await store.export();
        await store.erase();
        const after = await store.usage();
        await store.close();
        return { without, sent, jsonl, after };
      })().then(done, (e) => done({ error: String(e && e.message || e) }));`);
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.without, 0);
    assert.equal(r.sent.length, 2);
    const [record] = r.jsonl.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(record.text, r.sent[1]);
    assert.equal(record.redacted, true);
    for (const part of PII_PARTS) assert.ok(!r.jsonl.includes(part), `${part} must not be stored`);
    assert.equal(r.after.records, 0);
  });
});
