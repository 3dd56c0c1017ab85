// models.test.mjs — the shipped trained models (models/*.gguf) against PyTorch: the same texts give the
// same token ids, logits and calibrated probabilities (within 1e-4) through the wasm build and the native
// CLI as tools/eval/reference_bert.py's forward of the trained checkpoint (tests/fixtures/golden/models/<model>.json,
// `make golden-models`); the int8 files give the same answers wherever the f32 answer is not a near tie.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gguf } from "@huggingface/gguf";
import { load } from "../../web/edgetag.js";
import { cli, maxAbsDiff, path, readBuilt, rowsOf, simd } from "./helpers.mjs";

const MODELS = ["intent-clinc", "maint-ner", "pii-ner"];
const CLI = path("build/edgetag");
const TOL = 1e-4;

/** edgetag.provenance of a GGUF file, read by an independent reader (npm @huggingface/gguf). */
async function provenance(file) {
  const { metadata } = await gguf(file, { allowLocalFile: true });
  return JSON.parse(metadata["edgetag.provenance"]);
}

const argmax = (row) => row.reduce((b, v, i) => (v > row[b] ? i : b), 0);
const softmax = (row, T) => {
  const m = Math.max(...row), e = row.map((v) => Math.exp((v - m) / T)), s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
/** Top probability minus the runner-up's. */
const margin = (p) => {
  const s = [...p].sort((a, b) => b - a);
  return s[0] - (s[1] ?? 0);
};

for (const name of MODELS) {
  describe(name, () => {
    let golden, f32, i8;
    before(async () => {
      golden = JSON.parse(readFileSync(path(`tests/fixtures/golden/models/${name}.json`), "utf8"));
      f32 = await load(readBuilt(`models/${name}-f32.gguf`, "make models"), { simd });
      i8 = await load(readBuilt(`models/${name}.gguf`, "make models"), { simd });
    });
    after(() => { f32?.dispose(); i8?.dispose(); });

    test("the golden was made from the shipped weights", async () => {
      const prov = await provenance(path(`models/${name}-f32.gguf`));
      assert.equal(prov.weights_sha256, golden.weights_sha256,
        `tests/fixtures/golden/models/${name}.json is from other weights than models/${name}-f32.gguf: run \`make golden-models\``);
      assert.deepEqual(f32.info.labels, golden.labels);
      assert.ok(Math.abs(f32.info.temperature - golden.temperature) < 1e-6);
      // The intent model declines with "oos" (its abstain label); the entity models have none.
      const abstain = name === "intent-clinc" ? "oos" : null;
      assert.equal(f32.info.abstainLabel, abstain);
      assert.equal(i8.info.abstainLabel, abstain);
    });

    test("wasm: token ids as the Python tokenizer, logits and probabilities as PyTorch within 1e-4", () => {
      let worst = 0;
      for (const g of golden.texts) {
        const tok = f32.tokenize(g.text, { maxLength: golden.max_length });
        assert.deepEqual(Array.from(tok.ids), g.ids, g.text);
        const out = f32.logits(tok.ids);
        const rows = rowsOf(out);
        const want = f32.info.task === "token_classification" ? g.logits : [g.logits];
        worst = Math.max(worst, maxAbsDiff(rows, want));
      }
      assert.ok(worst <= TOL, `logits differ by ${worst}`);
      if (f32.info.task === "sequence_classification") {
        const answers = f32.classify(golden.texts.map((g) => g.text));
        let pw = 0;
        answers.forEach((a, i) => {
          const p = golden.texts[i].probs;
          assert.equal(a.label, golden.labels[argmax(p)], golden.texts[i].text);
          pw = Math.max(pw, maxAbsDiff(golden.labels.map((l) => a.scores[l]), p));
        });
        assert.ok(pw <= TOL, `probabilities differ by ${pw}`);
      }
      console.log(`${name}: wasm (${simd}) logits within ${worst.toExponential(2)} of PyTorch on ${golden.texts.length} texts`);
    });

    test("native CLI: the same within 1e-4", async () => {
      let worst = 0;
      if (golden.task === "intent-clinc") {
        const input = golden.texts.map((g) => JSON.stringify(g.text)).join("\n") + "\n";
        const lines = execFileSync(CLI, ["classify", "--model", path(`models/${name}-f32.gguf`), "--jsonl"], { input, encoding: "utf8" })
          .trim().split("\n").map((l) => JSON.parse(l));
        lines.forEach((a, i) => {
          worst = Math.max(worst, maxAbsDiff(golden.labels.map((l) => a.scores[l]), golden.texts[i].probs));
        });
      } else {
        const args = ["logits", "--model", path(`models/${name}-f32.gguf`)];
        for (const g of golden.texts) args.push("--ids", g.ids.join(","));
        const r = await cli(CLI, args);
        assert.equal(r.code, 0, r.stderr);
        r.stdout.trim().split("\n").forEach((l, i) => {
          worst = Math.max(worst, maxAbsDiff(JSON.parse(l).logits, golden.texts[i].logits));
        });
      }
      assert.ok(worst <= TOL, `differs by ${worst}`);
    });

    test("int8: the f32 answer wherever it is not a near tie (margin ≥ 0.05)", () => {
      let same = 0, total = 0, clear = 0, clearSame = 0;
      for (const g of golden.texts) {
        const rowsF = f32.info.task === "token_classification" ? g.logits : [g.logits];
        const rowsQ = rowsOf(i8.logits(g.ids));
        rowsF.forEach((row, r) => {
          const p = softmax(row, golden.temperature);
          const agree = argmax(row) === argmax(rowsQ[r]);
          total++, same += agree;
          if (margin(p) >= 0.05) clear++, clearSame += agree;
        });
      }
      console.log(`${name}: int8 agrees with PyTorch f32 on ${same}/${total} ${f32.info.task === "token_classification" ? "tokens" : "texts"}` +
        ` (${clearSame}/${clear} with a margin ≥ 0.05)`);
      assert.equal(clearSame, clear);
    });
  });
}
