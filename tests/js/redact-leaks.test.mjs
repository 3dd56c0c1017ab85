// redact-leaks.test.mjs — the leak corpus of issue 15: what a finder found once must not leave the device in any
// other occurrence (other case, possessive, repeated far away in a long text), names that are common words, names
// in other scripts, identifiers written with fullwidth and other Unicode digits, and a polluted Object.prototype.
// Before: "Sarah's", "sarah" and "SARAH" were sent when "Sarah" was found once; fullwidth digits matched no
// pattern; Object.prototype.redactLabels = [] turned redaction off.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, beforeEach, describe, test } from "node:test";

import { load, patternRedactor, anyOf, withEscalation } from "../../web/edgetag.js";
import { foldForPatterns, redactText } from "../../web/redact.js";
import { cloudPolicy, startFixtures, stopFixtures } from "./escalate-fixtures.mjs";
import { path, simd } from "./helpers.mjs";

/** A finder that finds only the first occurrence of each of `names` (as a model that sees one mention might). */
const firstOnly = (names, label = "PERSON") => ({
  extract(text) {
    const entities = [];
    for (const n of names) {
      const at = text.indexOf(n);
      if (at >= 0) entities.push({ label, score: 0.9, start: at, end: at + n.length, text: n });
    }
    return { entities };
  },
});

/** True when `secret` occurs in `sent` in any case, as a whole word. */
const leaks = (sent, secret) => new RegExp(`(?<![\\p{L}\\p{N}])${secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}\\p{N}])`, "iu").test(sent);

describe("every occurrence of what was found", () => {
  test("repeated mentions in other cases and possessives get the same placeholder", () => {
    const text = "Please call Sarah about it. Sarah's manager said sarah should e-mail SARAH, and Sarah’s brother James' car too.";
    const { text: sent, count } = redactText(text, firstOnly(["Sarah", "James"]).extract(text).entities);
    assert.equal(sent, "Please call [PERSON_1] about it. [PERSON_1]'s manager said [PERSON_1] should e-mail [PERSON_1], and " +
      "[PERSON_1]’s brother [PERSON_2]' car too.");
    assert.equal(count, 6);
    assert.ok(!leaks(sent, "sarah") && !leaks(sent, "james"));
  });

  test("a found string with its possessive or punctuation matches the bare word elsewhere; parts of other words do not", () => {
    const text = "Annual review: Ann's report. Ann left; ANN called. Annie and Joanna stay.";
    const found = [{ label: "PER", start: 15, end: 20 }]; // "Ann's"
    const { text: sent } = redactText(text, found);
    assert.equal(sent, "Annual review: [PER_1] report. [PER_1] left; [PER_1] called. Annie and Joanna stay.");
  });

  test("names that are common words: once found, every \"Will\" goes (the verb too: redaction errs on the side of privacy)", () => {
    const text = "Will Smith asked whether Will could meet will.i.am; WILL said he will.";
    const { text: sent } = redactText(text, [{ label: "PERSON", start: 0, end: 4 }]);
    assert.ok(!leaks(sent, "will"), sent);
    assert.match(sent, /^\[PERSON_1\] Smith asked whether \[PERSON_1\] could meet \[PERSON_1\]\.i\.am; \[PERSON_1\] said he \[PERSON_1\]\.$/);
  });

  test("other scripts: Cyrillic and Greek case-insensitively, Han and Thai names inside running text", () => {
    const cyr = "Мария Иванова звонила. Передайте МАРИИ и мария, что Иванова ждёт; ИВАНОВА тоже.";
    const { text: s1 } = redactText(cyr, firstOnly(["Мария", "Иванова"]).extract(cyr).entities);
    assert.ok(!leaks(s1, "мария") && !leaks(s1, "иванова"), s1);
    assert.match(s1, /МАРИИ/, "an inflected form is another string (the finder must find it)");
    const greek = "Ο Νίκος είπε ότι ο ΝΊΚΟΣ θα έρθει.";
    assert.ok(!leaks(redactText(greek, firstOnly(["Νίκος"]).extract(greek).entities).text, "νίκος"));
    const han = "王芳说王芳明天来。";
    assert.equal(redactText(han, firstOnly(["王芳"]).extract(han).entities).text, "[PERSON_1]说[PERSON_1]明天来。");
  });

  test("a long text: 1,000 mentions over 60 KB, one of them found, none sent", () => {
    const forms = ["Sarah Connor", "sarah connor", "SARAH CONNOR", "Sarah Connor's", "Sarah  Connor"];
    let text = "";
    for (let i = 0; i < 1000; i++) text += `Entry ${i}: the pump was checked by ${forms[i % forms.length]} after the shift. `;
    assert.ok(text.length > 60_000);
    const { text: sent, count } = redactText(text, firstOnly(["Sarah Connor"]).extract(text).entities);
    assert.equal(count, 1000);
    assert.equal(new Set(sent.match(/\[PERSON_\d+\]/g)).size, 1, "one placeholder for every form");
    assert.ok(!/sarah|connor/i.test(sent));
  });
});

describe("identifiers in any digits", () => {
  const CASES = [
    ["fullwidth phone", "call ＋４４ ２０ ７９４６ ０９５８ today", "PHONE_NUMBER"],
    ["fullwidth card", "card ４１１１ １１１１ １１１１ １１１１ expired", "CREDIT_CARD"],
    ["Arabic-Indic SSN", "ssn ٠٧٨-٠٥-١١٢٠ on file", "US_SSN"],
    ["Devanagari phone", "फ़ोन +४४ २० ७९४६ ०९५८ पर", "PHONE_NUMBER"],
    ["fullwidth e-mail", "mail ａｎｎ．ｌｅｅ＠ｅｘａｍｐｌｅ．ｃｏｍ now", "EMAIL_ADDRESS"],
    ["mathematical digits and a unicode dash", "card 𝟒𝟏𝟏𝟏‐𝟏𝟏𝟏𝟏‐𝟏𝟏𝟏𝟏‐𝟏𝟏𝟏𝟏 x", "CREDIT_CARD"],
    ["fullwidth IP address", "from ２０３．０．１１３．７ at noon", "IP_ADDRESS"],
    ["fullwidth IBAN", "IBAN ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００ paid", "IBAN_CODE"],
  ];
  for (const [what, text, type] of CASES)
    test(what, () => {
      const { entities } = patternRedactor().extract(text);
      assert.deepEqual(entities.map((e) => e.label), [type], JSON.stringify(entities));
      const sent = redactText(text, entities).text;
      assert.ok(!/\d{2}/.test(foldForPatterns(sent).folded), `digits were sent: ${sent}`);
      for (const e of entities) assert.equal(text.slice(e.start, e.end), e.text);
    });

  test("folding keeps offsets: surrogate-pair digits map back to the original text", () => {
    const text = "a𝟗𝟗b ０１";
    const { folded, at } = foldForPatterns(text);
    assert.equal(folded, "a99b 01");
    assert.deepEqual(at, [0, 1, 3, 5, 6, 7, 8, 9]);
  });
});

describe("through withEscalation", () => {
  let cloud, classifier, tagger;
  before(async () => ({ cloud, classifier, tagger } = await startFixtures()));
  after(() => stopFixtures({ cloud, classifier, tagger }));
  beforeEach(() => cloud.reset());

  test("a polluted Object.prototype (redactLabels, redact) does not turn redaction off", async () => {
    const text = "Call Sarah at ０２０ ７９４６ ０９５８; Sarah's number again: ０２０ ７９４６ ０９５８.";
    Object.prototype.redactLabels = [];
    Object.prototype.redact = false;
    try {
      const t = withEscalation(classifier, cloudPolicy(cloud, { threshold: 1.01, redact: anyOf(firstOnly(["Sarah"]), patternRedactor()) }));
      delete Object.prototype.redact;
      const r = await t.classify(text);
      assert.equal(r.source, "cloud");
      assert.equal(r.escalation.redacted, 4);
      const sent = cloud.everything();
      assert.ok(!/sarah|7946/i.test(sent), "the name or the number reached the server");
    } finally {
      delete Object.prototype.redactLabels;
      delete Object.prototype.redact;
    }
  });

  const piiFile = path("models/pii-ner.gguf");
  test("the pii-ner model on a long note: every name it finds anywhere is absent everywhere", { skip: !existsSync(piiFile) && "no pii-ner" }, async () => {
    const pii = await load(readFileSync(piiFile), { simd, cache: "none" });
    const people = ["Maria Gonzalez", "Will Turner", "Мария Иванова", "John Smith"];
    let text = "";
    for (let i = 0; i < 60; i++)
      text += `Visit ${i}: ${people[i % 4]} reported the leak; later ${people[(i + 1) % 4].split(" ")[0].toUpperCase()} ` +
        `and ${people[(i + 2) % 4]}'s team called ${i % 2 ? "+44 20 7946 0958" : "＋４４ ２０ ７９４６ ０９５８"}. `;
    const found = pii.extract(text).entities.filter((e) => /PERSON/.test(e.label));
    assert.ok(found.length > 0, "pii-ner finds some of the names");
    const t = withEscalation(classifier, cloudPolicy(cloud, { threshold: 1.01, redact: anyOf(pii, patternRedactor()) }));
    const r = await t.classify(text);
    assert.equal(r.source, "cloud");
    const sent = cloud.everything();
    for (const e of found)
      for (const word of e.text.split(/\s+/).map((w) => w.replace(/['’]s$/, "").replace(/[^\p{L}\p{N}]/gu, "")).filter((w) => [...w].length >= 2))
        if (e.text.includes(" ") ? leaks(sent, e.text.replace(/['’]s$/, "")) : leaks(sent, word))
          assert.fail(`"${e.text}" was found, and still sent somewhere: ${word}`);
    assert.ok(!/7946/.test(foldForPatterns(sent).folded), "a phone number was sent");
    pii.dispose();
  });
});
