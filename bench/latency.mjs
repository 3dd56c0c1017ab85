// latency.mjs — a first timing of the f32 forward pass in Node: the MiniLM-L6-H384 shape (random weights,
// build/ref/minilm.gguf), batch 1, per wasm flavour this Node can run. The side-by-side comparison with
// onnxruntime-web is the benchmark issue's work; this gives the engine's own figure.
//
//   node --experimental-wasm-relaxed-simd --no-liftoff bench/latency.mjs [--seq 16,64,128,256] [--runs 20]
import { readFileSync } from "node:fs";

import { load, relaxedSimdSupported } from "../web/edgetag.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seqs = arg("--seq", "16,64,128,256").split(",").map(Number);
const runs = Number(arg("--runs", "20"));
const file = new URL("../build/ref/minilm.gguf", import.meta.url);
const bytes = readFileSync(file);

const flops = (info, T) => {
  const { nLayer: N, nEmbd: H, nFF: F } = info;
  return N * (8 * T * H * H + 4 * T * H * F + 4 * T * T * H);
};

const rows = [];
for (const simd of relaxedSimdSupported() ? ["baseline", "relaxed"] : ["baseline"]) {
  const t0 = performance.now();
  const model = await load(bytes, { simd });
  const loadMs = performance.now() - t0;
  for (const seq of seqs) {
    const ids = Array.from({ length: seq }, (_, i) => (i === 0 ? 101 : i === seq - 1 ? 102 : 1000 + ((i * 7919) % 20000)));
    for (let i = 0; i < 5; i++) model.logits(ids.slice(0, 8)); // warm every export up with short calls
    for (let i = 0; i < 3; i++) model.logits(ids);
    const times = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      model.logits(ids);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(runs / 2)], min = times[0];
    rows.push({ simd, seq, median, min, gflops: flops(model.info, seq) / median / 1e6, loadMs, memMB: model.wasmMemoryBytes / 2 ** 20 });
  }
  model.dispose();
}

console.log(`edgetag f32, MiniLM-L6-H384 shape (random weights), batch 1, Node ${process.version}, ${runs} timed runs`);
console.log("| flavour | seq | median ms | min ms | GFLOP/s (median) | load ms | wasm memory MB |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows)
  console.log(`| ${r.simd} | ${r.seq} | ${r.median.toFixed(2)} | ${r.min.toFixed(2)} | ${r.gflops.toFixed(1)} | ${r.loadMs.toFixed(0)} | ${r.memMB.toFixed(0)} |`);
