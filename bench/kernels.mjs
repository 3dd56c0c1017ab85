// kernels.mjs — GOP/s of each GEMM kernel on the shapes of a MiniLM-L6-H384 layer at 128 tokens, per wasm
// flavour this Node runs (bench/kernels.c harness). Part of `make bench`.
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const SHAPES = [["qkvo", 128, 384, 384], ["ffn_up", 128, 1536, 384], ["ffn_down", 128, 384, 1536],
  ["attn QKᵀ", 128, 128, 32], ["attn PV", 128, 32, 128]];
const KINDS = [["f32 nt 2×4", 0], ["f32 nn 4×8", 6], ["f32 panels 4×8", 7], ["int8 i16 (baseline)", 1], ["int8 dot16", 2], ["int8 dot32", 3]];
const rows = [];
for (const flavour of ["simd", "relaxed"]) {
  let mod;
  try { mod = new WebAssembly.Module(readFileSync(`${root}build/bench-kernels-${flavour}.wasm`)); } catch { continue; }
  const x = new WebAssembly.Instance(mod, {}).exports;
  x._initialize();
  for (const [name, m, n, k] of SHAPES) {
    if (!x.bk_setup(m, n, k)) throw new Error("setup failed");
    for (const [kname, kind] of KINDS) {
      if (!x.bk_run(kind, 1)) continue;
      x.bk_run(kind, 20); // tier up
      const times = [];
      for (let r = 0; r < 7; r++) {
        const t0 = performance.now();
        x.bk_run(kind, 20);
        times.push((performance.now() - t0) / 20);
      }
      times.sort((a, b) => a - b);
      const ms = times[3];
      rows.push({ flavour, shape: `${name} ${m}×${n}×${k}`, kernel: kname, ms, gops: (2 * m * n * k) / ms / 1e6 });
    }
  }
}
console.log(`GEMM kernels, Node ${process.version}, median of 7 × 20 calls`);
console.log("| build | shape (m×n×k) | kernel | ms | GOP/s |");
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.flavour} | ${r.shape} | ${r.kernel} | ${r.ms.toFixed(3)} | ${r.gops.toFixed(1)} |`);
