// corpus.mjs — the texts the reliability runs use: short requests, and maintenance notes of any length,
// made deterministically (a seeded generator), so every run measures the same inputs.

/** Short requests for the intent classifier (each a handful of tokens). */
export const SHORT = [
  "book a table for two at 7pm", "what's my balance", "set an alarm for 6am", "how tall is the eiffel tower",
  "transfer 200 dollars to my savings account", "what's the weather like in Paris tomorrow", "my card got declined",
  "play some jazz", "how do I say thank you in german", "remind me to call mom at noon",
];

const WORDS = ["replaced", "inspected", "hydraulic", "pump", "seal", "on", "excavator", "after", "an", "oil", "leak",
  "checked", "filter", "and", "hoses", "compressor", "bearing", "noisy", "vibration", "high", "tightened", "bolts",
  "belt", "worn", "motor", "overheating", "valve", "stuck", "open", "greased", "fitting", "cracked", "weld", "frame",
  "Anna", "Kowalski", "called", "unit", "pressure", "low", "gauge", "reading", "coolant", "topped", "up", "the", "of"];

/** A seeded generator (xorshift32): the same sequence on every run. */
export function rng(seed = 0x9e3779b9) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** A maintenance-note document of exactly `chars` UTF-16 units: sentences of the words above with numbers. */
export function document(chars, seed = 1) {
  const r = rng(seed);
  const parts = [];
  let n = 0;
  while (n < chars) {
    const len = 6 + Math.floor(r() * 10);
    const words = [];
    for (let i = 0; i < len; i++) words.push(r() < 0.08 ? String(Math.floor(r() * 1000)) : WORDS[Math.floor(r() * WORDS.length)]);
    const s = words.join(" ") + (r() < 0.5 ? ". " : "; ");
    parts.push(s);
    n += s.length;
  }
  return parts.join("").slice(0, chars);
}

/** `n` short texts, cycling through SHORT. */
export const shortTexts = (n) => Array.from({ length: n }, (_, i) => SHORT[i % SHORT.length]);
