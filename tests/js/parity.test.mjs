// parity.test.mjs — edgetag's outputs against PyTorch's (tests/fixtures/golden, made by tools/fixtures/make_golden.py from a
// hand-written BERT forward in torch), within PARITY_TOL, through the wasm build (the flavour named by
// EDGETAG_SIMD), and, in the baseline run, the native CLI and the native CLI under ASan + UBSan.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import test from "node:test";

import { load } from "../../web/edgetag.js";
import {
  PARITY_TOL, SHAPES, caseArgs, checkGoldenFresh, cli, loadGolden, maxAbsDiff, path, readBuilt, refModelPath,
  rowsOf, simd,
} from "./helpers.mjs";

const goldens = Object.fromEntries(SHAPES.map((s) => [s, loadGolden(s)]));

test("goldens cover the shapes, lengths and batches the engine must match", () => {
  const lengths = new Set();
  let mixed = 0;
  for (const s of SHAPES) {
    const g = goldens[s];
    assert.match(g.tool, /PyTorch/);
    assert.match(g.regenerate, /make golden/);
    checkGoldenFresh(s, g);
    for (const c of g.cases) {
      c.ids.forEach((t) => lengths.add(t.length));
      if (new Set(c.ids.map((t) => t.length)).size > 1) mixed++;
    }
  }
  for (const n of [1, 7, 128, 512]) assert.ok(lengths.has(n), `no case of length ${n}`);
  assert.ok(mixed >= SHAPES.length, "each shape needs a batch of mixed lengths");
  // The MiniLM-L6-H384 shape and the odd one are what the issue names.
  const mini = JSON.parse(readFileSync(path("build/ref/minilm/config.json"), "utf8"));
  assert.deepEqual([mini.num_hidden_layers, mini.hidden_size, mini.num_attention_heads, mini.intermediate_size], [6, 384, 12, 1536]);
  const odd = JSON.parse(readFileSync(path("build/ref/odd/config.json"), "utf8"));
  assert.ok(odd.hidden_size % 16 !== 0 && odd.hidden_size / odd.num_attention_heads === 24 && odd.intermediate_size === 1000);
  assert.notEqual(odd.layer_norm_eps, 1e-12);
});

for (const shape of SHAPES) {
  test(`wasm (${simd}) matches PyTorch on the ${shape} model`, async (t) => {
    const g = goldens[shape];
    checkGoldenFresh(shape, g);
    const model = await load(readBuilt(`build/ref/${shape}.gguf`, "make refmodels"), { simd });
    assert.equal(model.engine.flavour, simd);
    let worst = 0;
    for (const c of g.cases) {
      const logits = model.logits(c.ids, { typeIds: c.type_ids });
      const got = logits.map(rowsOf);
      const d = maxAbsDiff(got, c.logits);
      assert.ok(d <= PARITY_TOL, `${shape}/${c.name}: logits differ by ${d}`);
      const mean = model.embed(c.ids, { typeIds: c.type_ids }).map((e) => Array.from(e));
      const dm = maxAbsDiff(mean, c.mean);
      assert.ok(dm <= PARITY_TOL, `${shape}/${c.name}: mean embeddings differ by ${dm}`);
      // Each text alone gives what it gave inside the batch (ragged batching changes nothing).
      if (c.ids.length > 1) {
        c.ids.forEach((ids, i) => {
          const alone = rowsOf(model.logits(ids, { typeIds: c.type_ids[i] }));
          assert.deepEqual(alone, got[i], `${shape}/${c.name}: text ${i} alone differs from the batch`);
        });
      }
      worst = Math.max(worst, d, dm);
    }
    t.diagnostic(`${shape}: max |edgetag - PyTorch| = ${worst.toExponential(2)} over ${g.cases.length} cases`);
    model.dispose();
  });
}

// The native builds: the plain CLI, and the same CLI built with ASan + UBSan (make test sets
// EDGETAG_CLI_ASAN). Only in the baseline run; the relaxed run is about the relaxed wasm.
const natives = simd === "baseline"
  ? [["native CLI", path("build/edgetag")], ...(process.env.EDGETAG_CLI_ASAN ? [["native CLI (ASan+UBSan)", path(process.env.EDGETAG_CLI_ASAN)]] : [])]
  : [];
for (const [name, binary] of natives) {
  for (const shape of SHAPES) {
    test(`${name} matches PyTorch on the ${shape} model`, async (t) => {
      assert.ok(existsSync(binary), `${binary} is missing: run make native asan`);
      const g = goldens[shape];
      let worst = 0;
      for (const c of g.cases) {
        const model = ["--model", refModelPath(shape)];
        const r = await cli(binary, ["logits", ...model, ...caseArgs(c)]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l).logits);
        assert.equal(lines.length, c.ids.length);
        const d = maxAbsDiff(lines, c.logits);
        assert.ok(d <= PARITY_TOL, `${shape}/${c.name}: logits differ by ${d}`);
        const e = await cli(binary, ["embed", ...model, "--pooling", "mean", ...caseArgs(c)]);
        assert.equal(e.code, 0, e.stderr);
        const dm = maxAbsDiff(e.stdout.trim().split("\n").map((l) => JSON.parse(l).embedding), c.mean);
        assert.ok(dm <= PARITY_TOL, `${shape}/${c.name}: mean embeddings differ by ${dm}`);
        assert.equal(r.stderr + e.stderr, "", "sanitizer or warning output");
        worst = Math.max(worst, d, dm);
      }
      t.diagnostic(`${shape}: max |edgetag - PyTorch| = ${worst.toExponential(2)}`);
    });
  }
}

test("the shipped reference model is the tiny reference, byte for byte, and matches PyTorch", async () => {
  const shipped = readFileSync(path("models/reference-tiny.gguf"));
  const built = readBuilt("build/ref/tiny.gguf", "make refmodels");
  assert.ok(shipped.equals(built), "models/reference-tiny.gguf differs from what the tools make: run `make models`");
  const model = await load(shipped, { simd });
  const c = goldens.tiny.cases.at(-1);
  assert.ok(maxAbsDiff(model.logits(c.ids, { typeIds: c.type_ids }).map(rowsOf), c.logits) <= PARITY_TOL);
  model.dispose();
});
