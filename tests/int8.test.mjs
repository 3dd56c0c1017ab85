// int8.test.mjs — the int8 models (build/edgetag quantize --type i8) against their f32 originals, through
// the wasm build under test: per-token argmax agreement on the token classifier, embedding similarity on
// the MiniLM shape, with the largest differences reported. (The f32 path's parity with PyTorch is
// tests/parity.test.mjs; these figures are the quantization's own cost.)
import assert from "node:assert/strict";
import test from "node:test";

import { load } from "../web/edgetag.js";
import { loadGolden, readBuilt, simd } from "./helpers.mjs";

const pair = async (shape) => [
  await load(readBuilt(`build/ref/${shape}.gguf`, "make refmodels"), { simd }),
  await load(readBuilt(`build/ref/${shape}-i8.gguf`, "make refmodels"), { simd }),
];

// The random-weight token classifier has many near-ties (16 of its 1,336 golden tokens have a top-2 f32
// margin below 0.01), which any perturbation can flip; agreement is asserted where the f32 answer is
// not a tie (margin ≥ 0.05), and reported over all tokens.
test(`int8 token classifier agrees with f32 (odd shape, ${simd})`, async (t) => {
  const [f32, i8] = await pair("odd");
  assert.ok(i8.info.int8Matrices > 0 && f32.info.int8Matrices === 0);
  let tokens = 0, agree = 0, clear = 0, clearAgree = 0, worst = 0;
  for (const c of loadGolden("odd").cases) {
    const a = f32.logits(c.ids, { typeIds: c.type_ids }), b = i8.logits(c.ids, { typeIds: c.type_ids });
    a.forEach((ra, k) => {
      for (let r = 0; r < ra.rows; r++) {
        const row = (m) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
        const x = row(ra), y = row(b[k]);
        const same = x.indexOf(Math.max(...x)) === y.indexOf(Math.max(...y));
        const sorted = [...x].sort((p, q) => q - p);
        tokens++, agree += same;
        if (sorted[0] - sorted[1] >= 0.05) clear++, clearAgree += same;
        for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j] - y[j]));
      }
    });
  }
  t.diagnostic(`argmax agreement ${(100 * agree / tokens).toFixed(2)}% of ${tokens} tokens, ` +
    `${(100 * clearAgree / clear).toFixed(2)}% of the ${clear} with a margin ≥ 0.05; max |Δ logit| ${worst.toFixed(4)}`);
  assert.ok(clearAgree / clear >= 0.995, `argmax agrees on ${clearAgree} of ${clear} clear tokens`);
  assert.ok(worst < 0.15, `max |Δ logit| ${worst}`);
  f32.dispose(), i8.dispose();
});

test(`int8 MiniLM shape: pooled embeddings within cosine 0.999 of f32 (${simd})`, async (t) => {
  const [f32, i8] = await pair("minilm");
  let worst = 1;
  for (const c of loadGolden("minilm").cases) {
    const a = f32.embed(c.ids, { typeIds: c.type_ids, normalize: true }), b = i8.embed(c.ids, { typeIds: c.type_ids, normalize: true });
    a.forEach((ea, k) => { worst = Math.min(worst, ea.reduce((s, v, j) => s + v * b[k][j], 0)); });
  }
  t.diagnostic(`lowest cosine similarity of mean embeddings ${worst.toFixed(5)}`);
  assert.ok(worst >= 0.999, `cosine ${worst}`);
  f32.dispose(), i8.dispose();
});
