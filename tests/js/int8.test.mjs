// int8.test.mjs — the int8 models (build/edgetag quantize --type i8) against their f32 originals, through
// the wasm build under test: per-token argmax agreement on the token classifier, embedding similarity on
// the MiniLM shape, with the largest differences reported. (The f32 path's parity with PyTorch is
// tests/parity.test.mjs; these figures are the quantization's own cost.)
import assert from "node:assert/strict";
import test from "node:test";

import { init, load } from "../../web/edgetag.js";
import { caseArgs, cli, loadGolden, maxAbsDiff, path, readBuilt, simd } from "./helpers.mjs";

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

// The wasm build under test, in every int8 kernel set it has, against the native build of the same kernels
// (the CLI: wasm SIMD mapped onto SSE by SIMDe, bit-identical for the baseline operations, and the relaxed
// integer dots emulated exactly for our operand ranges). This holds whatever engine runs the suite to the
// relaxed instructions' results that the kernels rely on: make test runs it on Node 20, whose V8 lowers
// the dots to vpmaddubsw + vpmaddwd, and on Node 24, whose V8 emits VNNI vpdpbusd for dot32. A wrong
// integer sum moves most logits by far more than the bounds; only the relaxed build's fused multiply-adds
// (f32x4.relaxed_madd, one rounding in the engine, two natively) separate the two at all.
test(`int8 logits equal the native build's, in every kernel set this engine runs (${simd})`, async (t) => {
  const bin = path("build/edgetag");
  const wasmModule = new WebAssembly.Module(readBuilt(simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm", "make wasm"));
  const engine = await init({ simd, wasmModule });
  const model = await load(readBuilt("build/ref/odd-i8.gguf", "make refmodels"), { simd, wasmModule });
  // One text of each length of the golden cases: 1, 7, 40, 128, 512 tokens.
  const cases = loadGolden("odd").cases.flatMap((c) => c.ids.map((ids, i) => ({ ids: [ids], type_ids: [c.type_ids[i]] })))
    .filter((c, i, all) => all.findIndex((x) => x.ids[0].length === c.ids[0].length) === i);
  assert.deepEqual(cases.map((c) => c.ids[0].length).sort((x, y) => x - y), [1, 7, 40, 128, 512]);
  // The relaxed build first settles its own choice, so that its timing cannot override the sets set below.
  for (let i = 0; !engine.tuned && i < 300; i++) model.logits(cases[0].ids);
  const sets = simd === "relaxed" ? [3, 4] : [2]; // relaxed dot16, dot32 / SIMD128
  for (const c of cases) {
    const r = await cli(bin, ["logits", "--model", path("build/ref/odd-i8.gguf"), ...caseArgs(c),
      "--kernels", simd === "relaxed" ? "relaxed-dot16" : "baseline"]);
    assert.equal(r.code, 0, r.stderr);
    const ref = JSON.parse(r.stdout).logits.flat(Infinity);
    const outs = sets.map((k) => {
      engine.kernels = k;
      return Array.from(model.logits(c.ids, { typeIds: c.type_ids })[0].data); // one text
    });
    for (const [i, out] of outs.entries()) {
      const d = maxAbsDiff([out], [ref]);
      const off = out.filter((v, j) => Math.abs(v - ref[j]) > 1e-5).length;
      t.diagnostic(`kernels ${sets[i]}, ${c.ids[0].length} tokens: max |Δ| vs the native build ${d.toExponential(1)}, ` +
        `${off} of ${out.length} logits off by > 1e-5`);
      // The relaxed build: a fused rounding can put an activation on the other side of a quantization
      // boundary; attention then carries that level's difference (≤ 0.05 here) to every token, as at 512
      // tokens, where half the logits move by more than 1e-5. Wrong integer sums move them by whole units.
      if (simd === "relaxed") assert.ok(d < 0.1, `kernel set ${sets[i]}: max |Δ| ${d}`);
      else assert.ok(d < 1e-6, `kernel set ${sets[i]}: max |Δ| ${d}`);
    }
    if (outs.length === 2) assert.deepEqual(outs[0], outs[1], "dot16 and dot32 sum the same integers");
  }
  model.dispose();
});
