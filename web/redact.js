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

/** [type, regular expression (global, sticky-free), check of a match or null]. Order matters: earlier wins. */
const PATTERNS = [
  ["EMAIL_ADDRESS", /[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}/g, null],
  ["IBAN_CODE", /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, ibanValid],
  ["CREDIT_CARD", /\b\d(?:[ -]?\d){12,18}\b/g, (m) => luhn(m) && digits(m).length >= 13 && !/^(\d)\1+$/.test(digits(m))],
  ["US_SSN", /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g, null],
  ["IP_ADDRESS", /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g, null],
  ["IP_ADDRESS", /(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?(?![\w:])/g,
    (m) => m.includes(":") && /[0-9A-Fa-f]{2,}/.test(m)],
  ["PHONE_NUMBER", /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w])/g,
    (m) => { const n = digits(m).length; return n >= 7 && n <= 15 && /[ .()+-]/.test(m); }],
  ["DOMAIN_NAME", /\b(?:https?:\/\/)?(?:www\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:com|org|net|edu|gov|io|co|info|biz|dev|app|ai|uk|de|fr|es|it|nl|eu|us|ca|au|ch|jp|cn|in|br|ru)\b(?:\/[^\s"'<>]*)?/gi, null],
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
      const taken = []; // [start, end) already claimed by an earlier pattern
      const entities = [];
      for (const [label, re, check] of patterns) {
        for (const m of text.matchAll(re)) {
          const start = m.index, end = start + m[0].length;
          if (check && !check(m[0])) continue;
          if (taken.some(([a, b]) => start < b && a < end)) continue;
          taken.push([start, end]);
          entities.push({ label, score: 1, start, end, text: m[0] });
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

/**
 * Replaces each span of `entities` in `text` by a placeholder [TYPE_n]: the same entity text gets the same
 * placeholder, and no placeholder already occurs in the text (n skips those that do; since placeholders are
 * bracketed and types hold no brackets, none can then appear anywhere else in the result either).
 * Returns the redacted text, the segments that map it back, and the number of spans replaced; throws
 * for a span that does not fit the text (the caller then sends nothing).
 */
export function redactText(text, entities, labels) {
  const spans = [];
  for (const e of entities) {
    if (labels && !labels.has(e.label) && !labels.has(String(e.label).replace(/^[BIES]-/, ""))) continue;
    const { start, end } = e;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > text.length || start > end)
      throw new Error("edgetag: a redaction span does not fit the text");
    if (start < end) spans.push({ start, end, label: e.label });
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  // Overlapping spans merge, and so do touching spans of one type (the tokens "Jo", "##hn" of aggregation "none").
  const merged = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && (s.start < last.end || (s.start === last.end && placeholderType(s.label) === placeholderType(last.label))))
      last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  const byText = new Map(), counters = new Map(), segments = [];
  let out = "", at = 0;
  const literal = (from, to) => {
    if (to > from) segments.push({ from: out.length, to: out.length + (to - from), origFrom: from, origTo: to, placeholder: false });
    out += text.slice(from, to);
  };
  for (const s of merged) {
    literal(at, s.start);
    const original = text.slice(s.start, s.end);
    let ph = byText.get(original);
    if (!ph) {
      const type = placeholderType(s.label);
      let n = counters.get(type) ?? 0;
      do ph = `[${type}_${++n}]`; while (text.includes(ph));
      counters.set(type, n);
      byText.set(original, ph);
    }
    segments.push({ from: out.length, to: out.length + ph.length, origFrom: s.start, origTo: s.end, placeholder: true });
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
