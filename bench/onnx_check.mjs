// onnx_check.mjs — checks bench/onnx_export.py's output in onnxruntime: model-f32.onnx against the PyTorch
// oracle (tools/eval/reference_bert.py, outputs stored in reference.json; max abs diff must be ≤ 1e-4), and
// model-int8.onnx against model-f32.onnx (reported: max and mean abs diff, per-token cosine). Both in
// onnxruntime-node (native) and onnxruntime-web (wasm, 1 thread).
//
//   node bench/onnx_check.mjs build/onnx/minilm [--web-only|--node-only]
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node bench/onnx_check.mjs ONNX_DIR");
  process.exit(2);
}
const ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8"));
const f32 = (b64) => { const b = Buffer.from(b64, "base64"); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
const refHidden = f32(ref.last_hidden_state), refPooled = f32(ref.pooler_output);
const [B, L, H] = ref.shape;

function feeds(ort) {
  const t = (rows) => new ort.Tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [B, L]);
  return { input_ids: t(ref.input_ids), attention_mask: t(ref.attention_mask), token_type_ids: t(ref.token_type_ids) };
}

/** Max abs diff over the real (unpadded) tokens of a [B, L, H] tensor, and mean abs diff. */
function diffHidden(a, b) {
  let max = 0, sum = 0, n = 0, cosMin = 1;
  for (let s = 0; s < B; s++)
    for (let i = 0; i < ref.lengths[s]; i++) {
      const o = (s * L + i) * H;
      let dot = 0, na = 0, nb = 0;
      for (let k = 0; k < H; k++) {
        const d = Math.abs(a[o + k] - b[o + k]);
        max = Math.max(max, d), sum += d, n++;
        dot += a[o + k] * b[o + k], na += a[o + k] ** 2, nb += b[o + k] ** 2;
      }
      cosMin = Math.min(cosMin, dot / Math.sqrt(na * nb));
    }
  return { max, mean: sum / n, cosMin };
}
const diffFlat = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

async function check(name, ort, opts) {
  const out = {};
  for (const precision of ["f32", "int8"]) {
    const session = await ort.InferenceSession.create(readFileSync(join(dir, `model-${precision}.onnx`)), opts);
    const r = await session.run(feeds(ort));
    out[precision] = { hidden: r.last_hidden_state.data, pooled: r.pooler_output.data };
    await session.release();
  }
  const f = diffHidden(out.f32.hidden, refHidden);
  const fp = diffFlat(out.f32.pooled, refPooled);
  const q = diffHidden(out.int8.hidden, out.f32.hidden);
  const qp = diffFlat(out.int8.pooled, out.f32.pooled);
  const ok = f.max <= 1e-4 && fp <= 1e-4;
  console.log(`${name}: f32 vs PyTorch: last_hidden_state max ${f.max.toExponential(2)}, pooler max ${fp.toExponential(2)} ` +
    `${ok ? "(≤ 1e-4: ok)" : "(> 1e-4: FAIL)"}; int8 vs f32: last_hidden_state max ${q.max.toFixed(4)}, ` +
    `mean ${q.mean.toFixed(4)}, min per-token cosine ${q.cosMin.toFixed(5)}; pooler max ${qp.toFixed(4)}`);
  return ok;
}

let ok = true;
if (!process.argv.includes("--web-only")) {
  const ort = await import("onnxruntime-node");
  ok = (await check("onnxruntime-node " + ort.env.versions.node, ort,
    { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1 })) && ok;
}
if (!process.argv.includes("--node-only")) {
  const ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
  ok = (await check("onnxruntime-web " + ort.env.versions.web, ort, { executionProviders: ["wasm"] })) && ok;
}
process.exit(ok ? 0 : 1);
