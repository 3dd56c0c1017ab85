// text.js — texts as the engine takes them: checked against the call's limits (strings only, so null or 42 is
// refused rather than classified as "null" or "42"), their UTF-8 length without encoding them, and the engine's
// code-point offsets turned into UTF-16 indices (JavaScript's), for one token or for a stream of entities in order.

import { EdgetagError } from "./errors.js";

const invalid = (message) => new EdgetagError("INVALID_ARGUMENT", `edgetag: ${message}`);

/** A call's input: one string or an array of strings, within maxTexts and maxTextChars. Returns {single, texts}. */
export function checkTexts(input, limits, call) {
  const single = !Array.isArray(input);
  const texts = single ? [input] : input;
  if (texts.length > limits.maxTexts)
    throw new EdgetagError("INPUT", `edgetag: ${call}() got ${texts.length} texts; at most ${limits.maxTexts} in one call (maxTexts)`);
  for (let i = 0; i < texts.length; i++) checkText(texts[i], limits, call, single ? "the text" : `texts[${i}]`);
  return { single, texts };
}

/** One text: a string of at most maxTextChars UTF-16 code units. */
export function checkText(text, limits, call, name = "the text") {
  if (typeof text !== "string")
    throw invalid(`${call}() takes a string or an array of strings; ${name} is ${text === null ? "null" : typeof text}`);
  if (text.length > limits.maxTextChars)
    throw new EdgetagError("INPUT", `edgetag: ${name} has ${text.length} characters; at most ${limits.maxTextChars} (maxTextChars)`);
}

/** map[k] = the UTF-16 index of code point k of `text` (map[count] = text.length). */
export function utf16Index(text) {
  const map = new Int32Array(text.length + 1);
  let k = 0, i = 0;
  for (const ch of text) { // one iteration per code point; a lone surrogate counts as one, as UTF-8's U+FFFD
    map[k++] = i;
    i += ch.length;
  }
  map[k] = i;
  return map;
}

/**
 * Code points to UTF-16 indices for offsets that never go back (entities in text order): one walk over the text in
 * all, instead of a map as long as the text (a 10 MB document would need 40 MB for it).
 */
export class CodePointCursor {
  #text;
  #cp = 0;
  #i = 0;

  constructor(text) { this.#text = text; }

  /** The UTF-16 index of code point `cp` (at least the last one asked for). */
  index(cp) {
    const t = this.#text;
    let i = this.#i, k = this.#cp;
    if (cp < k) throw new RangeError("edgetag: offsets must not go back");
    while (k < cp && i < t.length) {
      const c = t.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < t.length && (t.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      k++;
    }
    this.#i = i, this.#cp = k;
    return i;
  }
}
