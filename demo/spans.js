// spans.js — text and its entity spans, as the app shows them: the pieces to render (plain text and tagged
// spans, never overlapping), the preview of a text with its personal data replaced by placeholders, and
// names fit for people ("PhysicalObject" → "Physical object", "PHONE_NUMBER" → "Phone number").
//
// Offsets are UTF-16 indices, as the library gives them: text.slice(start, end) is the entity's text.

/**
 * The text cut into pieces for rendering: {text, entity} where entity is null for plain text. Overlapping
 * entities (a PII model and a pattern finding the same e-mail address) keep the one that starts first, and
 * of those the longest; a span outside the text or empty is dropped.
 */
export function pieces(text, entities) {
  const spans = entities
    .filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start >= 0 && e.end <= text.length && e.start < e.end)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const out = [];
  let at = 0;
  for (const e of spans) {
    if (e.start < at) continue; // overlaps one already kept
    if (e.start > at) out.push({ text: text.slice(at, e.start), entity: null });
    out.push({ text: text.slice(e.start, e.end), entity: e });
    at = e.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), entity: null });
  return out;
}

/** "B-PhysicalObject" → "PHYSICAL_OBJECT": a placeholder's type (letters, digits and _), as web/redact.js makes it. */
export function placeholderType(label) {
  const t = String(label).replace(/^[BIES]-/, "").replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return t || "ENTITY";
}

/**
 * The text as withEscalation would send it with `redact`: each span of personal data replaced by [TYPE_n].
 * It follows the library's rules (web/redact.js, redactText), which the public API does not export: spans
 * that overlap, or touch and have one type, merge; the same text gets the same placeholder; n skips any
 * placeholder the text already holds. The demo's tests check this preview against what the stand-in cloud
 * actually receives. Returns {text, replacements: [{original, placeholder, label}]}.
 */
export function redactPreview(text, entities) {
  const spans = entities.filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start < e.end)
    .map((e) => ({ start: e.start, end: e.end, label: e.label }))
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const merged = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && (s.start < last.end || (s.start === last.end && placeholderType(s.label) === placeholderType(last.label))))
      last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  const byText = new Map(), counters = new Map(), replacements = [];
  let out = "", at = 0;
  for (const s of merged) {
    out += text.slice(at, s.start);
    const original = text.slice(s.start, s.end);
    let placeholder = byText.get(original);
    if (!placeholder) {
      const type = placeholderType(s.label);
      let n = counters.get(type) ?? 0;
      do placeholder = `[${type}_${++n}]`; while (text.includes(placeholder));
      counters.set(type, n);
      byText.set(original, placeholder);
      replacements.push({ original, placeholder, label: s.label });
    }
    out += placeholder;
    at = s.end;
  }
  return { text: out + text.slice(at), replacements };
}

/** The placeholders in a text sent to the cloud, as pieces: {text, placeholder: boolean}. */
export function placeholderPieces(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(/\[[A-Z0-9_]+_\d+\]/g)) {
    if (m.index > at) out.push({ text: text.slice(at, m.index), placeholder: false });
    out.push({ text: m[0], placeholder: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at), placeholder: false });
  return out;
}

const ACRONYMS = new Set(["SSN", "IP", "IBAN", "US", "NRP", "GPE", "ZIP"]);

/** A label or intent as people write it: "PhysicalObject" → "Physical object", "PHONE_NUMBER" → "Phone number". */
export function humanize(label) {
  const words = String(label).replace(/^[BIES]-/, "").replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(/[_\s]+/).filter(Boolean);
  return words.map((w, i) => {
    if (ACRONYMS.has(w.toUpperCase()) && w === w.toUpperCase()) return w;
    const lower = w.toLowerCase();
    return i === 0 ? lower[0].toUpperCase() + lower.slice(1) : lower;
  }).join(" ");
}

/** An entity type's short name for chips and legends: MaintIE's "PhysicalObject" is an "Object"; others as humanize(). */
export const typeName = (label) => (String(label).replace(/^[BIES]-/, "") === "PhysicalObject" ? "Object" : humanize(label));

/** A probability as people read it: 0.8734 → "0.87". */
export const score = (p) => (typeof p === "number" && Number.isFinite(p) ? p.toFixed(2) : "—");
