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

/**
 * The text as withEscalation would send it with `redact`, and what was replaced: `redactText` is the library's own
 * (web/redact.js: what a finder found is replaced wherever it occurs, in any case; the same text gets the same
 * placeholder), passed in by the caller, so the preview can never drift from what is sent. The demo's tests check it
 * against what the stand-in cloud actually receives. Returns {text, replacements: [{original, placeholder, label}]}.
 */
export function redactPreview(text, entities, redactText) {
  const spans = entities.filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start < e.end);
  const r = redactText(text, spans, null);
  const replacements = [], seen = new Set();
  for (const s of r.segments) {
    if (!s.placeholder) continue;
    const placeholder = r.text.slice(s.from, s.to);
    if (seen.has(placeholder)) continue;
    seen.add(placeholder);
    replacements.push({ original: text.slice(s.origFrom, s.origTo), placeholder, label: s.label });
  }
  return { text: r.text, replacements };
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
