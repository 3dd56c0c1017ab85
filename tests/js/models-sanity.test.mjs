// models-sanity.test.mjs — the shipped int8 models (models/*.gguf) on sentences whose right answer is obvious to any
// reader: a name and a phone number are personal data, a work order holds none and its equipment is equipment, a
// dinner booking is a restaurant reservation. The figures are tools/eval/'s; these are the cases a new user tries
// first, and the demo's own example notes (demo/app.js) among them.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { anyOf, load, patternRedactor } from "../../web/edgetag.js";
import { readBuilt, simd } from "./helpers.mjs";

const pairs = (entities) => entities.map((e) => [e.text, e.label]);

describe("obvious sentences", () => {
  let pii, notes, intents;
  before(async () => {
    [pii, notes, intents] = await Promise.all(["pii-ner", "maint-ner", "intent-clinc"].map((m) =>
      load(readBuilt(`models/${m}.gguf`, "make models"), { simd })));
  });
  after(() => { pii?.dispose(); notes?.dispose(); intents?.dispose(); });

  test("pii-ner: names and phone numbers are personal data", () => {
    assert.deepEqual(pairs(pii.extract("Call Anna Kowalski on 555-867-5309").entities),
      [["Anna Kowalski", "PERSON"], ["555-867-5309", "PHONE_NUMBER"]]);
    assert.deepEqual(pairs(pii.extract("Hi, I'm Anna Kowalski, call me on 555-867-5309").entities),
      [["Anna Kowalski", "PERSON"], ["555-867-5309", "PHONE_NUMBER"]]);
    const berlin = pairs(pii.extract("Hi, I'm Anna Kowalski from Berlin; my card 4111 1111 1111 1111 was charged twice").entities);
    assert.deepEqual(berlin.filter(([, l]) => l === "PERSON"), [["Anna Kowalski", "PERSON"]], "Berlin is no person");
    // Found, so redacted; its label is wrong today ("<name> from <place>" reads as "<name> from <company>" to
    // this model: ORGANIZATION — models/README.md, pii-ner's limits), which the placeholder shows but no leak.
    assert.ok(berlin.some(([t, l]) => t === "Berlin" && (l === "GPE" || l === "ORGANIZATION")), JSON.stringify(berlin));
    assert.deepEqual(pairs(pii.extract("Please email john.smith@example.com about the refund").entities),
      [["john.smith@example.com", "EMAIL_ADDRESS"]]);
  });

  test("pii-ner: work orders and requests hold no personal data", async () => {
    const finder = anyOf(pii, patternRedactor());
    for (const text of ["Replace the hydraulic pump seal on excavator 12", "replace leaking hydraulic pump seal on excavator 12",
      "crack found in weld seam on boom, welder booked", "conveyor belt torn near tail pulley, replaced 2 rollers",
      "Login page times out at 09:00 UTC", "book a table for two at 7pm", "engine oil pressure low, check filter"]) {
      assert.deepEqual(pairs((await finder.extract(text)).entities), [], text);
    }
  });

  test("pii-ner: the demo's note with personal data", () => {
    const note = "fan belt loose on compressor 2, tightened. Anna Kowalski will check it Friday, call her on +44 7700 900123";
    const found = pairs(pii.extract(note).entities);
    assert.ok(found.some(([t, l]) => t === "Anna Kowalski" && l === "PERSON"), JSON.stringify(found));
    assert.ok(!found.some(([t]) => /fan belt|compressor|tightened/.test(t)), JSON.stringify(found));
  });

  test("maint-ner: the equipment of a work order", () => {
    const found = pairs(notes.extract("Replace the hydraulic pump seal on excavator 12").entities);
    assert.ok(found.some(([t, l]) => /hydraulic pump|pump seal/.test(t) && l === "PhysicalObject"), JSON.stringify(found));
    assert.ok(found.some(([t, l]) => /excavator/.test(t) && l === "PhysicalObject"), JSON.stringify(found));
    assert.ok(found.some(([t, l]) => t === "Replace" && l === "Activity"), JSON.stringify(found));
  });

  test("intent-clinc: requests anyone would route the same way", () => {
    for (const [text, label] of [["book a table for two at 7pm", "restaurant_reservation"],
      ["what's the weather like in Paris tomorrow", "weather"], ["set an alarm for 6am", "alarm"],
      ["my card got declined at the store", "card_declined"], ["how do I transfer money to my savings account", "transfer"]]) {
      assert.equal(intents.classify(text).label, label, text);
    }
  });
});
