// record.js — what one captured escalation holds, and the JSON Lines it is exported as.
//
// A capture record is training data for the next student (tools/distill): the text exactly as it was sent to
// the cloud (after redaction: placeholders such as [PERSON_1] in place of what the redactor found, so nothing
// the user did not let leave the device is ever stored), the teacher's validated answer on that text, and the
// local model's answer and score beside it, with the model's name and version. Extraction spans, the
// teacher's and the local model's, are offsets into the sent text, and their `text` is cut from it.
//
//   {"schema":"edgetag.capture/1","at":"2026-12-05T06:00:00.000Z","task":"classify",
//    "model":{"name":"intent-clinc","version":"intent-clinc-1.3be0f6a4"},"text":"my card [CREDIT_CARD_1] was declined",
//    "redacted":true,"trigger":"low_score","threshold":0.41,
//    "teacher":{"label":"card_declined","score":0.9},"local":{"label":"card_declined","score":0.38}}

import { utf8Length } from "../utf8.js";

/** The schema name of a record (and the first member of every JSONL line). */
export const CAPTURE_SCHEMA = "edgetag.capture/1";

/** Bounds of a capture store: how many records and how many bytes (UTF-8 of the JSONL lines) at most. */
export const CAPTURE_DEFAULTS = Object.freeze({
  maxRecords: 1000,
  maxBytes: 1 << 20,
  /** A single record larger than this is not stored (a very long text is no good training example either). */
  maxRecordBytes: 16 << 10,
});

/**
 * An entity of the original text as a span of the sent (redacted) text: offsets through the redaction's
 * segments, a span touching a placeholder widened to the whole placeholder, `text` cut from the sent text.
 * Without redaction the span is kept as it is, its text cut from the sent text (the same string).
 */
export function spanInSent(entity, sent, segments) {
  let start = entity.start, end = entity.end;
  if (segments) {
    start = end = -1;
    for (const s of segments) {
      if (start < 0 && entity.start < s.origTo) start = s.placeholder ? s.from : s.from + (entity.start - s.origFrom);
      if (entity.end > s.origFrom) end = s.placeholder ? s.to : s.from + (Math.min(entity.end, s.origTo) - s.origFrom);
    }
    if (start < 0 || end < start) return null;
  }
  return { label: entity.label, score: entity.score ?? null, start, end, text: sent.slice(start, end) };
}

/**
 * One record. `sent` is the text as it went to the cloud; `teacher` the validated answer ({label, score} or
 * {entities} with spans on the sent text); `local` the local answer ({label, score} or {entities, score} with
 * spans already on the sent text); `model` {name, version}.
 */
export function captureRecord({ task, sent, redacted, trigger, threshold, teacher, local, model, at = new Date() }) {
  const record = {
    schema: CAPTURE_SCHEMA,
    at: at.toISOString(),
    task,
    model: { name: model?.name ?? null, version: model?.version ?? null },
    text: sent,
    redacted,
    trigger,
    threshold: Number.isFinite(threshold) ? threshold : null,
  };
  if (task === "classify") {
    record.teacher = { label: teacher.label, score: teacher.score ?? null };
    record.local = { label: local.label, score: local.score };
  } else {
    const span = (e) => ({ label: e.label, start: e.start, end: e.end, text: e.text, ...(e.score !== undefined && { score: e.score }) });
    record.teacher = { entities: teacher.entities.map(span) };
    record.local = { score: local.score, entities: local.entities.map(span) };
  }
  return record;
}

/** A record as one JSONL line (with its newline) and the line's size in bytes. */
export function recordLine(record) {
  const line = JSON.stringify(record) + "\n";
  return { line, bytes: utf8Length(line) };
}

/** JSON Lines back into records; lines that are not records of this schema are skipped. */
export function parseJSONL(text) {
  const out = [];
  for (const line of String(text ?? "").split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      if (r && r.schema === CAPTURE_SCHEMA) out.push(r);
    } catch {
      // a torn last line (a write cut short) is dropped, not the whole log
    }
  }
  return out;
}
