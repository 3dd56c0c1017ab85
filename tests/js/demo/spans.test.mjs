// spans.test.mjs — the demo's text helpers (demo/spans.js) in Node: the pieces the page renders, and the
// "what would be sent" preview, which must equal what the library sends (web/redact.js's redactText, which the
// public API does not export) on every case here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { redactText } from "../../../web/redact.js";
import { humanize, pieces, placeholderPieces, redactPreview, typeName } from "../../../demo/spans.js";

const e = (text, label, sub, from = 0) => {
  const start = text.indexOf(sub, from);
  assert.ok(start >= 0, `${sub} in ${text}`);
  return { label, start, end: start + sub.length, text: sub, score: 0.9 };
};

test("pieces: plain text and entities in order, overlaps keep the first and longest, the text reads back whole", () => {
  const text = "call Anna on +44 7700 900123 or anna@example.com 🙂 ok";
  const entities = [e(text, "PHONE_NUMBER", "+44 7700 900123"), e(text, "PERSON", "Anna"), e(text, "EMAIL_ADDRESS", "anna@example.com"),
    e(text, "PERSON", "anna"), { label: "X", start: 40, end: 99 }, { label: "Y", start: 3, end: 3 }];
  const got = pieces(text, entities);
  assert.equal(got.map((p) => p.text).join(""), text);
  assert.deepEqual(got.filter((p) => p.entity).map((p) => p.text), ["Anna", "+44 7700 900123", "anna@example.com"]);
});

test("the preview is exactly what withEscalation's redaction sends", () => {
  const cases = [
    ["Anna Kowalski will call Anna Kowalski on +44 7700 900123", (t) => [e(t, "PERSON", "Anna Kowalski"), e(t, "PERSON", "Anna Kowalski", 10),
      e(t, "PHONE_NUMBER", "+44 7700 900123")]],
    ["mail anna@example.com, anna@example.com", (t) => [e(t, "EMAIL_ADDRESS", "anna@example.com"), e(t, "EMAIL_ADDRESS", "anna@example.com"),
      e(t, "EMAIL_ADDRESS", "anna@example.com", 10)]],
    ["the text holds [PERSON_1] already; Bob too", (t) => [e(t, "PERSON", "Bob")]],
    ["Jo hn touching spans of one type merge", (t) => [e(t, "B-PERSON", "Jo"), { label: "I-PERSON", start: 2, end: 5 }]],
    ["overlapping spans of two types", (t) => [e(t, "ORGANIZATION", "overlapping spans"), e(t, "PERSON", "spans of two")]],
    ["PhysicalObject labels become PHYSICAL_OBJECT", (t) => [e(t, "PhysicalObject", "PhysicalObject")]],
    ["nothing to hide", () => []],
    ["emoji 🙂 Zoë stays exact", (t) => [e(t, "PERSON", "Zoë")]],
    ["Anna called; later ANNA's manager and anna left", (t) => [e(t, "PERSON", "Anna")]], // found once, sent nowhere
  ];
  for (const [text, make] of cases) {
    const entities = make(text);
    assert.equal(redactPreview(text, entities, redactText).text, redactText(text, entities, null).text, text);
  }
  assert.ok(!/anna/i.test(redactPreview(cases.at(-1)[0], cases.at(-1)[1](cases.at(-1)[0]), redactText).text));
  const r = redactPreview(cases[0][0], cases[0][1](cases[0][0]), redactText);
  assert.deepEqual(r.replacements.map((x) => [x.original, x.placeholder]), [["Anna Kowalski", "[PERSON_1]"], ["+44 7700 900123", "[PHONE_NUMBER_1]"]]);
});

test("placeholders are marked in the sent text; labels read as words", () => {
  assert.deepEqual(placeholderPieces("[PERSON_1] will call [PHONE_NUMBER_1]."),
    [{ text: "[PERSON_1]", placeholder: true }, { text: " will call ", placeholder: false }, { text: "[PHONE_NUMBER_1]", placeholder: true },
      { text: ".", placeholder: false }]);
  assert.equal(humanize("PhysicalObject"), "Physical object");
  assert.equal(humanize("PHONE_NUMBER"), "Phone number");
  assert.equal(humanize("US_SSN"), "US SSN");
  assert.equal(humanize("last_maintenance"), "Last maintenance");
  assert.equal(humanize("B-PERSON"), "Person");
  assert.equal(typeName("PhysicalObject"), "Object");
  assert.equal(typeName("EMAIL_ADDRESS"), "Email address");
});
