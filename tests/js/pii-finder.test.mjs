// pii-finder.test.mjs — piiFinder() (web/pii-finder.js), the recall-biased redaction finder, with the shipped
// pii-ner (int8): it must find what extract() leaves out where the model is unsure, leave work orders alone,
// reach the end of long texts, and refuse what it cannot work with. The measured leak rate on the realistic
// set (tests/fixtures/pii-eval/) is checked against extract() alone, the figure models/README.md reports.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { anyOf, load, patternRedactor, piiFinder, EdgetagError } from "../../web/edgetag.js";
import { readRealistic, leaks, overRedaction } from "../../tools/eval/redaction.mjs";
import { readBuilt, simd } from "./helpers.mjs";

const pairs = (entities) => entities.map((e) => [e.text, e.label]);

describe("piiFinder", () => {
  let pii, intents;
  before(async () => {
    pii = await load(readBuilt("models/pii-ner.gguf", "make models"), { simd });
    intents = await load(readBuilt("models/intent-clinc.gguf", "make models"), { simd });
  });
  after(() => { pii?.dispose(); intents?.dispose(); });

  test("adds the words the model is unsure of, keeps its sure entities whole", async () => {
    const text = "flight to Madrid on Monday, call Anna Kowalski";
    assert.ok(!pii.extract(text).entities.some((e) => e.text === "Madrid"), "extract() alone misses Madrid");
    const found = (await piiFinder(pii).extract(text)).entities;
    assert.ok(found.some((e) => e.text === "Madrid" && e.label === "GPE" && e.score >= 0.1 && e.score < 0.5), JSON.stringify(found));
    assert.ok(found.some((e) => e.text === "Anna Kowalski" && e.label === "PERSON"), JSON.stringify(found));
    for (const e of found) assert.equal(text.slice(e.start, e.end), e.text);
    // A stricter bound finds less: Madrid's probability is under 0.5.
    const strict = (await piiFinder(pii, { minProbability: 0.5 }).extract(text)).entities;
    assert.ok(!strict.some((e) => e.text === "Madrid"), JSON.stringify(strict));
  });

  test("work orders and requests stay untouched", async () => {
    const finder = anyOf(piiFinder(pii), patternRedactor());
    for (const text of ["Replace the hydraulic pump seal on excavator 12", "crack found in weld seam on boom, welder booked",
      "conveyor belt torn near tail pulley, replaced 2 rollers", "engine oil pressure low, check filter"])
      assert.deepEqual(pairs((await finder.extract(text)).entities), [], text);
  });

  test("a long text is read to its end, each span once", async () => {
    const text = "pump ok. ".repeat(700) + "call Anna Kowalski tomorrow";
    const found = (await piiFinder(pii).extract(text)).entities;
    assert.deepEqual(pairs(found), [["Anna Kowalski", "PERSON"]]);
    assert.equal(found[0].start, text.indexOf("Anna"));
  });

  test("on the realistic set it leaks far less than extract(), and replaces little of PII-free text", async () => {
    const texts = readRealistic();
    const withPii = texts.filter((t) => t.entities.length), free = texts.filter((t) => !t.entities.length).map((t) => t.text);
    const plain = anyOf(pii, patternRedactor()), finder = anyOf(piiFinder(pii), patternRedactor());
    const run = async (f, list) => { const out = []; for (const t of list) out.push((await f.extract(t)).entities); return out; };
    const before = leaks(withPii, await run(plain, withPii.map((t) => t.text))).rate;
    const after = leaks(withPii, await run(finder, withPii.map((t) => t.text))).rate;
    assert.ok(after < 0.06 && after < before / 3, `leak rate ${after} (extract(): ${before})`);
    assert.ok(overRedaction(free, await run(finder, free)).share < 0.2);
  });

  test("refuses what it cannot work with", async () => {
    assert.throws(() => piiFinder(pii, { minProbability: 0 }), (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT");
    assert.throws(() => piiFinder(pii, { minProbability: "0.1" }), /minProbability/);
    assert.throws(() => piiFinder({ extract() {} }), TypeError);
    const polluted = Object.create({ minProbability: 1e-9 });
    assert.equal(piiFinder(pii, polluted).minProbability, 0.1, "options read from own properties only");
    await assert.rejects(piiFinder(intents).extract("book a table"), (e) => e.code === "INVALID_ARGUMENT");
    await assert.rejects(piiFinder(pii).extract(42), TypeError);
  });
});
