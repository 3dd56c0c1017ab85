// pii-finder.js — a PII model as a finder for redaction, biased to recall. A tagger's extract() keeps the
// most likely tag of each word, so a word the model thinks 40 % likely to be a name stays untouched and
// reaches the cloud. For redaction the cheaper error is the other one: piiFinder() adds every word that the
// model gives at least `minProbability` of being personal data (its probability of the "O" tag at most
// 1 − minProbability), labelled with its most likely type. Measured with the shipped pii-ner and
// patternRedactor() on the realistic set (models/README.md): the leak rate falls from 20.5 % (extract()
// alone) to 5.1 % at 0.1, while MaintIE's work orders stay at 0.2 % of their characters replaced.
//
// It works with a Model and with a WorkerTagger alike (tokenizeWindows() and logits(), sync or async), over
// a text of any length: the text is cut into the model's windows, each window run once.

import { EdgetagError } from "./errors.js";

/** Letters, marks and digits: a marked piece is widened to the whole word it is part of. */
const WORD = /[\p{L}\p{M}\p{N}]/u;
/** What may stand between two marked words of one type that are one entity: blanks, or one joining mark. */
const JOIN = /^(?:[ \t]+|[-'’.]|,[ \t]*)$/;

/**
 * @param {{info: {labels: string[], temperature?: number, task: string} | null,
 *          extract(text: string): any, tokenizeWindows(text: string, o?: object): any, logits(ids: Int32Array): any}} model
 *   a token-classification PII model (a Model or a WorkerTagger) whose labels include "O"
 * @param {{minProbability?: number}} [options] a word is personal data from this probability on (default 0.1)
 * @returns {{minProbability: number, extract(text: string): Promise<{entities: Array<{label: string, score: number, start: number, end: number, text: string}>}>}}
 */
export function piiFinder(model, options = {}) {
  const minProbability = Object.hasOwn(options, "minProbability") ? options.minProbability : 0.1;
  if (typeof minProbability !== "number" || !(minProbability > 0 && minProbability <= 1))
    throw new EdgetagError("INVALID_ARGUMENT", `edgetag: piiFinder's minProbability must be a number in (0, 1], not ${minProbability}`);
  for (const f of ["extract", "tokenizeWindows", "logits"])
    if (typeof model?.[f] !== "function") throw new TypeError(`edgetag: piiFinder() takes a model with ${f}()`);
  const plan = () => {
    const info = model.info;
    if (!info) throw new EdgetagError("STATE", "edgetag: piiFinder's model is not loaded or was disposed");
    if (info.task !== "token_classification")
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: piiFinder needs a token-classification model, not ${info.task}`);
    const outside = info.labels.indexOf("O");
    if (outside < 0) throw new EdgetagError("INVALID_ARGUMENT", 'edgetag: piiFinder needs a model with an "O" label');
    const types = info.labels.map((l) => l.replace(/^[BIES]-/, ""));
    const t = info.temperature > 0 ? info.temperature : 1;
    return { outside, types, invT: 1 / t };
  };
  return {
    minProbability,
    async extract(text) {
      if (typeof text !== "string") throw new TypeError("edgetag: text must be a string");
      const p = plan();
      const [own, { windows }] = await Promise.all([model.extract(text), model.tokenizeWindows(text)]);
      const marks = [];
      for (const w of windows) {
        const out = await model.logits(w.ids);
        markWindow(text, out, w.offsets, p, minProbability, marks);
      }
      // The model's own entities and the marked spans, without those inside another (the own one first).
      const all = [...own.entities, ...mergeMarks(text, marks)].sort((a, b) => a.start - b.start || b.end - a.end);
      const entities = [];
      for (const e of all) if (!entities.some((k) => k.start <= e.start && e.end <= k.end)) entities.push(e);
      return { entities };
    },
  };
}

/** Pieces of one window whose probability of being personal data reaches minProbability: {start, end, label, score}. */
function markWindow(text, { rows, cols, data }, offsets, { outside, types, invT }, minProbability, marks) {
  if (cols !== types.length) // a release channel swapped in a model with other labels mid-call
    throw new EdgetagError("STATE", "edgetag: piiFinder's model changed its labels during the call");
  const probs = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const start = offsets[2 * i], end = offsets[2 * i + 1];
    if (end <= start) continue; // [CLS], [SEP]
    let max = -Infinity;
    for (let k = 0; k < cols; k++) max = Math.max(max, data[i * cols + k] * invT);
    let z = 0;
    for (let k = 0; k < cols; k++) z += (probs[k] = Math.exp(data[i * cols + k] * invT - max));
    const pii = 1 - probs[outside] / z;
    if (!(pii >= minProbability)) continue; // NaN too: the model's own extract() reports non-finite logits
    // The most likely type, summing its B- and I- tags.
    const byType = new Map();
    for (let k = 0; k < cols; k++) if (k !== outside) byType.set(types[k], (byType.get(types[k]) ?? 0) + probs[k] / z);
    let label = null, best = -1;
    for (const [t, q] of byType) if (q > best) (best = q), (label = t);
    marks.push({ start, end, label, score: pii, word: WORD.test(text.slice(start, end)) });
  }
}

/**
 * Marked pieces widened to whole words; a marked mark of punctuation joins the word it touches on its left
 * ("Dr." , "O'") and is dropped otherwise; neighbours of the same type join across blanks, a comma or one
 * hyphen, apostrophe or dot — but not across the end of a sentence ("tightened. Anna" stays two).
 */
function mergeMarks(text, marks) {
  marks.sort((a, b) => a.start - b.start);
  const spans = [];
  for (const m of marks) {
    const last = spans[spans.length - 1];
    if (!m.word) {
      if (last && m.start <= last.end) last.end = Math.max(last.end, m.end);
      continue;
    }
    let { start, end } = m;
    while (start > 0 && WORD.test(text[start - 1])) start--;
    while (end < text.length && WORD.test(text[end])) end++;
    const gap = last ? text.slice(last.end, start) : "";
    if (last && (start <= last.end || (last.label === m.label && JOIN.test(gap) && !/[.!?;:]$/.test(text.slice(last.start, last.end))))) {
      last.end = Math.max(last.end, end);
      last.score = Math.max(last.score, m.score);
    } else spans.push({ label: m.label, score: m.score, start, end });
  }
  for (const s of spans) s.text = text.slice(s.start, s.end);
  return spans;
}
