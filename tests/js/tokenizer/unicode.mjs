// unicode.mjs — which code points the engine's Unicode 14 tables (Python's unicodedata, src/unicode_data.c) see
// otherwise than this JavaScript engine does: assigned since Unicode 14, or recategorized (U+1171E went from
// Mn to Mc). The only code points where the engine may differ from a tokenizer built on newer Unicode
// (tokenizers.js, llama.cpp) for reasons of data rather than of behaviour.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

let cache;

/** The set of such code points in planes 0-3 (computed once; needs /usr/bin/python3). */
export function changedAfterUnicode14() {
  if (cache) return cache;
  const r = spawnSync("/usr/bin/python3", ["-c",
    "import unicodedata as u; print(''.join(u.category(chr(c)) for c in range(0x40000)))"], { maxBuffer: 1 << 22 });
  assert.equal(r.status, 0, `python3 failed: ${r.stderr}`);
  const cats = String(r.stdout).trim(), re = {};
  cache = new Set();
  for (let cp = 0; cp < 0x40000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const gc = cats.slice(2 * cp, 2 * cp + 2);
    re[gc] ??= new RegExp(`^\\p{gc=${gc}}$`, "u");
    if (!re[gc].test(String.fromCodePoint(cp))) cache.add(cp);
  }
  return cache;
}
