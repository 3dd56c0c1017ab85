// redact.test.mjs — web/redact.js: patternRedactor() finds identifiers with a checkable shape (and only
// those whose checksum holds), anyOf() unites finders, and through withEscalation against a real HTTP
// endpoint on 127.0.0.1 (tests/cloud-server.mjs) none of what they find reaches the server.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";

import { anyOf, load, patternRedactor, withEscalation } from "../../web/edgetag.js";
import { startCloudServer } from "./cloud-server.mjs";
import { path, readBuilt, simd } from "./helpers.mjs";

const found = (text, options) => patternRedactor(options).extract(text).entities.map((e) => [e.label, e.text]);

describe("patternRedactor", () => {
  test("each type, with exact offsets", () => {
    const cases = [
      ["write to ann.lee+work@mail.example.co.uk today", "EMAIL_ADDRESS", "ann.lee+work@mail.example.co.uk"],
      ["IBAN GB82 WEST 1234 5698 7654 32, thanks", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"],
      ["wire it to DE89370400440532013000.", "IBAN_CODE", "DE89370400440532013000"],
      ["card 4111 1111 1111 1111 expired", "CREDIT_CARD", "4111 1111 1111 1111"],
      ["Amex 3782-822463-10005 ok", "CREDIT_CARD", "3782-822463-10005"],
      ["my SSN is 078-05-1120.", "US_SSN", "078-05-1120"],
      ["login from 192.168.10.254 failed", "IP_ADDRESS", "192.168.10.254"],
      ["host 2001:db8:85a3::8a2e:370:7334 is up", "IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"],
      ["call +1 (415) 555-0132 after 5", "PHONE_NUMBER", "+1 (415) 555-0132"],
      ["or 030 1234 5678 in Berlin", "PHONE_NUMBER", "030 1234 5678"],
      ["see https://www.example.org/reset?id=7 now", "DOMAIN_NAME", "https://www.example.org/reset?id=7"],
      ["logged 2024-03-05T14:30 by the night shift", "DATE_TIME", "2024-03-05T14:30"],
      ["born 05/11/1987 in", "DATE_TIME", "05/11/1987"],
      ["seen on March 5th, 2024 at the clinic", "DATE_TIME", "March 5th, 2024"],
      ["since the 3rd of May the pain", "DATE_TIME", "3rd of May"],
      ["a 42-year-old with chest pain", "AGE", "42-year-old"],
      ["patient aged 37 reports", "AGE", "aged 37"],
      ["ship it to 221B Baker Street before", "STREET_ADDRESS", "221B Baker Street"],
      ["at 1600 Amphitheatre Pkwy, Mountain View", "STREET_ADDRESS", "1600 Amphitheatre Pkwy"],
    ];
    for (const [text, label, value] of cases) {
      const ents = patternRedactor().extract(text).entities;
      assert.deepEqual(ents.map((e) => [e.label, e.text]), [[label, value]], text);
      const e = ents[0];
      assert.equal(text.slice(e.start, e.end), value);
      assert.equal(e.score, 1);
    }
  });

  test("look-alikes whose check fails are not taken for the type (digit groups may still count as a number)", () => {
    for (const [text, type] of [
      ["card 4111 1111 1111 1112 expired", "CREDIT_CARD"],  // Luhn fails
      ["order 0000 0000 0000 0000 shipped", "CREDIT_CARD"], // one repeated digit
      ["IBAN GB82 WEST 1234 5698 7654 33, thanks", "IBAN_CODE"], // mod 97 fails
      ["SSN 000-12-3456 and 666-12-3456 and 123-00-4567", "US_SSN"], // never-issued areas and groups
      ["version 1.2.3.4567 and 256.1.1.1", "IP_ADDRESS"],
    ]) assert.ok(!found(text).some(([label]) => label === type), `${text}: ${JSON.stringify(found(text))}`);
    for (const text of ["room 12, floor 3, 2024", "the meeting is at 10:30", "plain words only, nothing to find",
      "May I ask about the 5 pumps?", "replace seal on pump 3, 12.5 psi", "set 45/60 torque", "32/33/2024 is no date",
      "the road was 3 miles long", "Street lights out on 4 roads"])
      assert.deepEqual(found(text), [], text);
  });

  test("several in one text, in order, an earlier pattern winning an overlap; types narrow the search", () => {
    const text = "Mail bob@example.com, card 5555 5555 5555 4444, SSN 123-45-6789, from 10.0.0.1";
    assert.deepEqual(found(text), [
      ["EMAIL_ADDRESS", "bob@example.com"], ["CREDIT_CARD", "5555 5555 5555 4444"], ["US_SSN", "123-45-6789"],
      ["IP_ADDRESS", "10.0.0.1"],
    ]);
    assert.deepEqual(found(text, { types: ["US_SSN"] }), [["US_SSN", "123-45-6789"]]);
    assert.deepEqual(patternRedactor({ types: ["EMAIL_ADDRESS"] }).types, ["EMAIL_ADDRESS"]);
    assert.throws(() => patternRedactor({ types: ["PASSPORT"] }), /no type PASSPORT/);
    assert.throws(() => patternRedactor().extract(42), TypeError);
    // A non-BMP character before a match: offsets stay UTF-16 indices, as JavaScript strings count.
    const emoji = "🙂🙂 bob@example.com";
    const [e] = patternRedactor().extract(emoji).entities;
    assert.equal(emoji.slice(e.start, e.end), "bob@example.com");
  });
});

describe("anyOf", () => {
  const names = { extract: (text) => ({ entities: [...text.matchAll(/Ann Lee/g)].map((m) => ({ label: "PERSON", score: 0.9, start: m.index, end: m.index + 7, text: m[0] })) }) };
  test("unites finders (sync and async) in text order", async () => {
    const asyncNames = { extract: async (t) => names.extract(t) };
    const text = "ann@example.com wrote to Ann Lee";
    const r = await anyOf(patternRedactor(), asyncNames).extract(text);
    assert.deepEqual(r.entities.map((e) => [e.label, e.text]), [["EMAIL_ADDRESS", "ann@example.com"], ["PERSON", "Ann Lee"]]);
  });
  test("a finder that fails or answers nothing makes the whole one fail; bad finders are refused", async () => {
    await assert.rejects(anyOf(patternRedactor(), { extract: async () => { throw new Error("model gone"); } }).extract("x"), /model gone/);
    await assert.rejects(anyOf({ extract: () => null }).extract("x"), /no entities/);
    assert.throws(() => anyOf(patternRedactor(), {}), /extract/);
  });
});

describe("through withEscalation: nothing found leaves the device", () => {
  let cloud, classifier, pii;
  const piiFile = path("models/pii-ner.gguf");
  before(async () => {
    readBuilt("build/edgetag.wasm", "make wasm");
    cloud = await startCloudServer({ answer: (r) => ({ label: r.labels[0], score: 0.97 }) });
    classifier = await load(readFileSync(existsSync(path("models/intent-clinc.gguf")) ? path("models/intent-clinc.gguf") : path("build/ref/tiny.gguf")), { simd });
    if (existsSync(piiFile)) pii = await load(readFileSync(piiFile), { simd });
  });
  after(async () => {
    await cloud?.close();
    classifier?.dispose();
    pii?.dispose();
  });

  const TEXT = "Refund order 7 to card 4111 1111 1111 1111 or IBAN DE89 3704 0044 0532 0130 00; " +
    "reach me at ann.lee@example.com, +44 20 7946 0958 or from 203.0.113.7 (SSN 078-05-1120).";
  const SECRETS = ["4111", "DE89", "0532", "ann.lee", "example.com", "7946", "203.0.113.7", "078-05-1120"];

  test("patternRedactor alone", async () => {
    cloud.reset();
    const t = withEscalation(classifier, {
      endpoint: { kind: "openai", url: cloud.openaiUrl, model: "m" }, threshold: 1.01, retries: 0, redact: patternRedactor(),
    });
    const r = await t.classify(TEXT);
    assert.equal(r.source, "cloud");
    assert.equal(r.escalation.redacted, 6);
    const sent = cloud.requests[0].text;
    assert.match(sent, /^Refund order 7 to card \[CREDIT_CARD_1\] or IBAN \[IBAN_CODE_1\]; reach me at \[EMAIL_ADDRESS_1\], \[PHONE_NUMBER_1\] or from \[IP_ADDRESS_1\] \(SSN \[US_SSN_1\]\)\.$/);
    for (const s of SECRETS) assert.ok(!cloud.everything().includes(s), `${s} reached the server`);
  });

  test("anyOf(pii-ner, patternRedactor()): the model's names and the patterns' identifiers", { skip: !existsSync(piiFile) && "models/pii-ner.gguf is not built" }, async () => {
    cloud.reset();
    const text = `My name is Maria Gonzalez. ${TEXT}`;
    const byModel = pii.extract(text).entities;
    assert.ok(byModel.some((e) => e.text.includes("Maria")), "pii-ner misses the name");
    assert.deepEqual(pii.extract([text, TEXT]), [pii.extract(text), pii.extract(TEXT)], "an array: one extraction per text");
    const t = withEscalation(classifier, {
      endpoint: { kind: "json", url: cloud.jsonUrl }, threshold: 1.01, retries: 0, redact: anyOf(pii, patternRedactor()),
    });
    const r = await t.classify(text);
    assert.equal(r.source, "cloud");
    for (const s of [...SECRETS, "Maria", "Gonzalez"]) assert.ok(!cloud.everything().includes(s), `${s} reached the server`);
  });
});
