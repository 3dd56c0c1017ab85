// redact.js — redaction for withEscalation: finders of personal data for its `redact` option (beside a PII
// model), and the placeholders that replace what they find before a text leaves the device, with the map
// that brings the cloud's spans back to the original text.
//
//   import { anyOf, patternRedactor } from "./edgetag.js";
//   const tagged = withEscalation(model, { endpoint, redact: anyOf(piiModel, patternRedactor()) });
//
// patternRedactor() finds the identifiers that have a checkable shape — e-mail addresses, URLs and domain
// names, phone numbers, payment card numbers (Luhn), IBANs (ISO 7064 mod 97), IPv4 and IPv6 addresses, US
// social security numbers — with the entity type names of the shipped pii-ner model (Presidio's). A model
// trained on synthetic sentences misses formats it has not seen; these patterns do not, and the model
// finds what has no fixed shape (names, places, organisations). anyOf() unites the finders' entities;
// overlapping spans are merged by the redaction itself.

// ---------------------------------------------------------------------------------------------------------
// Finders: what has a checkable shape, and several finders as one
// ---------------------------------------------------------------------------------------------------------

/** Luhn's checksum over the digits of `s`. */
function luhn(s) {
  let sum = 0, double = false;
  for (let i = s.length - 1; i >= 0; i--) {
    let d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue;
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616 IBAN check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
function ibanValid(s) {
  const c = s.replace(/\s+/g, "").toUpperCase();
  if (c.length < 15 || c.length > 34) return false;
  let rem = 0;
  for (const ch of c.slice(4) + c.slice(0, 4)) {
    const v = ch >= "A" && ch <= "Z" ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of v) rem = (rem * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

const digits = (s) => s.replace(/\D/g, "");

const ND = /^\p{Nd}$/u;
const digitCache = new Map();

/**
 * The value 0..9 of a Unicode decimal digit (\p{Nd}), else undefined. Unicode encodes each set of decimal digits
 * as a run of code points 0..9 (some runs hold several sets, the longest 50), so the value is the code point's
 * distance from the start of its run, mod 10.
 */
function digitValue(cp) {
  if (digitCache.has(cp)) return digitCache.get(cp);
  let value;
  if (ND.test(String.fromCodePoint(cp))) {
    let start = cp;
    while (start > 0 && ND.test(String.fromCodePoint(start - 1))) start--;
    value = (cp - start) % 10;
  }
  if (digitCache.size < 4096) digitCache.set(cp, value);
  return value;
}

/** Dashes and spaces the patterns take as "-" and " ". */
const DASHES = /[\u2010-\u2015\u2212\ufe58\ufe63]/u, SPACES = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;

/**
 * The text as the patterns read it: every Unicode decimal digit as its ASCII digit (Arabic-Indic, Devanagari,
 * fullwidth, mathematical…), fullwidth ASCII forms as ASCII, other dashes and spaces as "-" and " ". One unit per
 * code point where the original may have two, so `at[i]` is the original index of unit i (at[length] = text.length).
 */
export function foldForPatterns(text) {
  if (/^[\x00-\x7f]*$/.test(text)) return { folded: text, at: null };
  let folded = "";
  const at = [];
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    let out = ch;
    if (cp >= 0xff01 && cp <= 0xff5e) out = String.fromCharCode(cp - 0xfee0);
    else if (cp > 0x7f && digitValue(cp) !== undefined) out = String(digitValue(cp));
    else if (DASHES.test(ch)) out = "-";
    else if (SPACES.test(ch)) out = " ";
    for (let k = 0; k < out.length; k++) at.push(i);
    folded += out;
    i += ch.length;
  }
  at.push(i);
  return { folded, at };
}

const MONTH = "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?";
const DAY = "(?:[12]\\d|3[01]|0?[1-9])(?:st|nd|rd|th)?";
const STREET = "Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Close|Crescent|" +
  "Square|Sq|Parkway|Pkwy|Highway|Hwy|Strasse|Straße";

/** [type, regular expression (global, sticky-free), check of a match or null]. Order matters: earlier wins. */
const PATTERNS = [
  ["EMAIL_ADDRESS", /[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}/g, null],
  ["IBAN_CODE", /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, ibanValid],
  ["CREDIT_CARD", /\b\d(?:[ -]?\d){12,18}\b/g, (m) => luhn(m) && digits(m).length >= 13 && !/^(\d)\1+$/.test(digits(m))],
  ["US_SSN", /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g, null],
  ["IP_ADDRESS", /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g, null],
  ["IP_ADDRESS", /(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?(?![\w:])/g,
    (m) => m.includes(":") && /[0-9A-Fa-f]{2,}/.test(m)],
  // Dates: ISO (2024-03-05, with a time), day/month/year in digits (05/03/2024, 5.3.24: a plausible day and month),
  // and a month's name with a day or a year next to it (March 5, 5th of March 2024, Mar. 2024; "May" alone is not).
  ["DATE_TIME", /\b\d{4}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?:[T ](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)?\b/g, null],
  ["DATE_TIME", /\b\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})\b/g, (m) => {
    const [a, b] = m.split(/[./-]/).map(Number);
    return a >= 1 && b >= 1 && a <= 31 && b <= 31 && (a <= 12 || b <= 12);
  }],
  ["DATE_TIME", new RegExp(`\\b(?:(?:${DAY})(?:\\s+of)?\\s+(?:${MONTH})\\.?(?:,?\\s+\\d{4})?|(?:${MONTH})\\.?\\s+(?:${DAY})(?:,?\\s+\\d{4})?|` +
    `(?:${MONTH})\\.?,?\\s+\\d{4})\\b`, "g"), null],
  ["PHONE_NUMBER", /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w])/g,
    (m) => { const n = digits(m).length; return n >= 7 && n <= 15 && /[ .()+-]/.test(m); }],
  ["DOMAIN_NAME", /\b(?:https?:\/\/)?(?:www\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:com|org|net|edu|gov|io|co|info|biz|dev|app|ai|uk|de|fr|es|it|nl|eu|us|ca|au|ch|jp|cn|in|br|ru)\b(?:\/[^\s"'<>]*)?/gi, null],
  // Ages: "42-year-old", "42 years old", "aged 42", "age: 42".
  ["AGE", /\b\d{1,3}[- ](?:years?|yrs?)[- ]old\b|\b(?:[Aa]ged?|AGE):?\s+\d{1,3}\b/g, null],
  // A house number and one to three capitalized words ending in a street type (12 Baker Street, 1600 Amphitheatre Pkwy).
  ["STREET_ADDRESS", new RegExp(`\\b\\d{1,5}[A-Za-z]?,?\\s+(?:[A-Z][\\p{L}'-]*\\.?\\s+){1,3}(?:${STREET})\\b\\.?`, "gu"), null],
];

/**
 * A finder of structured personal data, for withEscalation's `redact` (alone or in anyOf with a PII model).
 * @param {{types?: string[]}} [options] only these entity types (default: all of them)
 * @returns {{types: string[], extract(text: string): {entities: Array<{label: string, score: number, start: number, end: number, text: string}>}}}
 */
export function patternRedactor({ types } = {}) {
  const all = [...new Set(PATTERNS.map(([t]) => t))];
  const wanted = types ? new Set(types) : null;
  if (wanted) for (const t of wanted) if (!all.includes(t)) throw new TypeError(`edgetag: patternRedactor has no type ${t}`);
  const patterns = PATTERNS.filter(([t]) => !wanted || wanted.has(t));
  return {
    types: wanted ? [...wanted] : all,
    extract(text) {
      if (typeof text !== "string") throw new TypeError("edgetag: text must be a string");
      // Matched on the folded text (any script's digits, fullwidth forms), reported on the original.
      const { folded, at } = foldForPatterns(text);
      const taken = []; // [start, end) already claimed by an earlier pattern
      const entities = [];
      for (const [label, re, check] of patterns) {
        for (const m of folded.matchAll(re)) {
          if (check && !check(m[0])) continue;
          const start = at ? at[m.index] : m.index, end = at ? at[m.index + m[0].length] : m.index + m[0].length;
          if (taken.some(([a, b]) => start < b && a < end)) continue;
          taken.push([start, end]);
          entities.push({ label, score: 1, start, end, text: text.slice(start, end) });
        }
      }
      entities.sort((a, b) => a.start - b.start);
      return { entities };
    },
  };
}

/**
 * One finder from several (PII models, patternRedactor(), anything with extract(text) → {entities}, sync
 * or async): their entities together, in text order. A finder that fails makes the whole one fail, so that
 * withEscalation sends nothing.
 */
export function anyOf(...finders) {
  for (const f of finders)
    if (typeof f?.extract !== "function") throw new TypeError("edgetag: anyOf() takes objects with extract(text)");
  return {
    async extract(text) {
      const found = await Promise.all(finders.map((f) => f.extract(text)));
      const entities = found.flatMap((r) => {
        if (!r || !Array.isArray(r.entities)) throw new Error("edgetag: a finder answered no entities");
        return r.entities;
      });
      entities.sort((a, b) => a.start - b.start || b.end - a.end);
      return { entities };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Placeholders: entity spans are replaced before the text leaves; the cloud's spans map back afterwards
// ---------------------------------------------------------------------------------------------------------

/** "B-PhysicalObject" → "PHYSICAL_OBJECT": the placeholder's type, letters, digits and _ only. */
function placeholderType(label) {
  const t = String(label).replace(/^[BIES]-/, "").replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return t || "ENTITY";
}

/** Scripts written without spaces between words: a name in them may touch the next word. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const WORD_CHAR = /[\p{L}\p{M}\p{N}_]/u;
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The core of a found string that every other occurrence must match: without a possessive ("Sarah's", "Sarah’s",
 * "James'") and without the punctuation around it ("Paris." → "Paris"); null when less than two code points remain
 * (a lone letter or digit would take every one of its kind).
 */
function coreOf(found) {
  const core = found.replace(/['’ʼ]s?$/u, "").replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
  return [...core].length >= 2 ? core : null;
}

/**
 * Every occurrence in `text` of each string the finders found, as spans of its label: case-insensitively (Unicode
 * simple case folding: "sarah", "SARAH", "МАРИЯ"), whitespace inside it matched loosely, and — in scripts that
 * separate words — only as a whole word, so that the "Sarah" of "Sarah's" is taken and the "Ann" of "Annual" is
 * not. One pass over the text for all of them, longest first.
 */
function occurrences(text, spans) {
  const byCore = new Map();
  for (const s of spans) {
    const core = coreOf(text.slice(s.start, s.end));
    if (core && !byCore.has(core.toLowerCase())) byCore.set(core.toLowerCase(), { core, label: s.label });
  }
  if (byCore.size === 0) return [];
  const list = [...byCore.values()].sort((a, b) => b.core.length - a.core.length);
  const alternatives = list.map(({ core }, k) => {
    const chars = [...core];
    const before = WORD_CHAR.test(chars[0]) && !UNSPACED.test(chars[0]) ? "(?<![\\p{L}\\p{M}\\p{N}_])" : "";
    const after = WORD_CHAR.test(chars.at(-1)) && !UNSPACED.test(chars.at(-1)) ? "(?![\\p{L}\\p{M}\\p{N}_])" : "";
    return `${before}(?<c${k}>${core.split(/\s+/u).map(escapeRegExp).join("\\s+")})${after}`;
  });
  const re = new RegExp(alternatives.join("|"), "giu");
  const out = [];
  for (const m of text.matchAll(re)) {
    const k = Object.keys(m.groups).find((g) => m.groups[g] !== undefined);
    out.push({ start: m.index, end: m.index + m[0].length, label: list[Number(k.slice(1))].label });
  }
  return out;
}

/** Spans in text order, overlapping ones merged, and touching ones of one type (the tokens "Jo", "##hn" of aggregation "none"). */
function mergeSpans(spans) {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const merged = [];
  for (const s of sorted) {
    const last = merged[merged.length - 1];
    if (last && (s.start < last.end || (s.start === last.end && placeholderType(s.label) === placeholderType(last.label))))
      last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}

/**
 * Replaces each span of `entities` in `text`, and every other occurrence of what they found (occurrences()), by a
 * placeholder [TYPE_n]: the same entity text, whatever its case, gets the same placeholder, and no placeholder
 * already occurs in the text (n skips those that do; since placeholders are bracketed and types hold no brackets,
 * none can then appear anywhere else in the result either).
 * Returns the redacted text, the segments that map it back, and the number of spans replaced; throws
 * for a span that does not fit the text (the caller then sends nothing).
 */
export function redactText(text, entities, labels) {
  const found = [];
  for (const e of entities) {
    if (labels && !labels.has(e.label) && !labels.has(String(e.label).replace(/^[BIES]-/, ""))) continue;
    const { start, end } = e;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > text.length || start > end)
      throw new Error("edgetag: a redaction span does not fit the text");
    if (start < end) found.push({ start, end, label: e.label });
  }
  // What was found (its spans merged, so that the tokens of "John Smith" make one string), then every other
  // occurrence of each string, merged again.
  const whole = mergeSpans(found);
  const merged = mergeSpans(found.concat(occurrences(text, whole.concat(found))));
  const byText = new Map(), counters = new Map(), segments = [];
  let out = "", at = 0;
  const literal = (from, to) => {
    if (to > from) segments.push({ from: out.length, to: out.length + (to - from), origFrom: from, origTo: to, placeholder: false });
    out += text.slice(from, to);
  };
  for (const s of merged) {
    literal(at, s.start);
    const found = text.slice(s.start, s.end), original = (coreOf(found) ?? found).toLowerCase().replace(/\s+/gu, " ");
    let ph = byText.get(original);
    if (!ph) {
      const type = placeholderType(s.label);
      let n = counters.get(type) ?? 0;
      do ph = `[${type}_${++n}]`; while (text.includes(ph));
      counters.set(type, n);
      byText.set(original, ph);
    }
    segments.push({ from: out.length, to: out.length + ph.length, origFrom: s.start, origTo: s.end, placeholder: true, label: s.label });
    out += ph;
    at = s.end;
  }
  literal(at, text.length);
  return { text: out, segments, count: merged.length };
}

/** Maps [start, end) of the redacted text to the original; null when a bound falls inside a placeholder. */
export function unredactSpan(segments, start, end) {
  let from = null, to = null;
  for (const s of segments) {
    if (from === null && start >= s.from && start < s.to) from = s.placeholder ? (start === s.from ? s.origFrom : NaN) : s.origFrom + (start - s.from);
    if (to === null && end > s.from && end <= s.to) to = s.placeholder ? (end === s.to ? s.origTo : NaN) : s.origFrom + (end - s.from);
  }
  if (from === null || to === null || Number.isNaN(from) || Number.isNaN(to) || from >= to) return null;
  return [from, to];
}
