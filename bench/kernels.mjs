// kernels.mjs — GOP/s of each GEMM kernel alone, on the shapes of a MiniLM-L6-H384 layer at 128 tokens
// (and the FFN's second GEMM over a 768-token ragged batch), per wasm flavour this Node runs (the
// bench/kernels.c harness, built by `make bench`). Prints a table and writes it into bench/RESULTS.md.
//
//   node --no-liftoff bench/kernels.mjs [--no-write]   (Node 20: also --experimental-wasm-relaxed-simd)
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const SHAPES = [["qkvo", 128, 384, 384], ["ffn_up", 128, 1536, 384], ["ffn_down", 128, 384, 1536],
  ["ffn_down, 768 rows", 768, 384, 1536]];
// [name, kind of bench/kernels.c's bk_run]: the kernels the engine uses are the packed ones (weights
// repacked at load); the row-major ones run models whose buffer the engine may not rewrite.
const KINDS = [["f32 row-major 2×4", 0], ["f32 packed 4×8", 7], ["int8 i16 row-major 2×4", 1], ["int8 i16 packed 2×4", 8],
  ["int8 dot16 row-major 2×4", 2], ["int8 dot16 packed 2×4", 9], ["int8 dot32 row-major 2×4", 3],
  ["int8 dot32 packed 2×4", 10], ["q4 i16 packed 2×4", 11], ["q4 dot16 packed 4×4", 12], ["q4 dot32 packed 4×4", 13]];
// The 4-bit kernels against the int8 ones they reuse the dots of (same build, same activations): the ratio of
// GOP/s (> 1: the 4-bit kernel is faster), median and best.
const PAIRS = [["q4 i16 packed 2×4", "int8 i16 packed 2×4"], ["q4 dot16 packed 4×4", "int8 dot16 packed 2×4"],
  ["q4 dot32 packed 4×4", "int8 dot32 packed 2×4"]];

const rows = [];
for (const flavour of ["simd", "relaxed"]) {
  let mod;
  try {
    mod = new WebAssembly.Module(readFileSync(`${root}build/bench-kernels-${flavour}.wasm`));
  } catch (e) {
    console.error(`skipping the ${flavour} build: ${e.message}`);
    continue;
  }
  const x = new WebAssembly.Instance(mod, {}).exports;
  x._initialize();
  for (const [name, m, n, k] of SHAPES) {
    const b = x.bk_setup(m, n, k);
    if (!b) throw new Error("setup failed");
    for (const [kname, kind] of KINDS) {
      if (!x.bk_run(b, kind, 1)) continue;
      const iters = Math.max(1, Math.round(2e8 / (m * n * k))); // ~0.2 G multiply-adds per sample
      x.bk_run(b, kind, iters); // tier up
      const times = [];
      for (let r = 0; r < 9; r++) {
        const t0 = performance.now();
        x.bk_run(b, kind, iters);
        times.push((performance.now() - t0) / iters);
      }
      times.sort((a, b) => a - b);
      const ms = times[4];
      rows.push({ flavour, shape: `${name} ${m}×${n}×${k}`, kernel: kname, ms, gops: (2 * m * n * k) / ms / 1e6,
        best: (2 * m * n * k) / times[0] / 1e6 });
    }
    x.bk_free(b);
  }
}
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const L = [`## GEMM kernels alone — Node ${process.version} (bench/kernels.mjs)`, "",
  `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, load average ${load}. Each sample is about 0.2 G ` +
  `multiply-adds of one kernel (after one warm-up sample); median and best of 9 samples. GOP/s = 2 × m·n·k / time. The ` +
  `engine runs the packed kernels (weights repacked at load); "simd" is the baseline build, "relaxed" the relaxed-SIMD one.`, "",
  "| build | shape (m×n×k) | kernel | ms | GOP/s median | GOP/s best |", "|---|---|---|---|---|---|"];
for (const r of rows) L.push(`| ${r.flavour} | ${r.shape} | ${r.kernel} | ${r.ms.toFixed(3)} | ${r.gops.toFixed(1)} | ${r.best.toFixed(1)} |`);
L.push("", "4-bit (Q4_0) vs int8, same build, same shape: GOP/s ratio, median (best).", "",
  "| build | shape (m×n×k) | kernels | q4 / int8 |", "|---|---|---|---|");
for (const r of rows) {
  const pair = PAIRS.find(([q]) => q === r.kernel);
  const base = pair && rows.find((x) => x.flavour === r.flavour && x.shape === r.shape && x.kernel === pair[1]);
  if (base) L.push(`| ${r.flavour} | ${r.shape} | ${r.kernel} / ${pair[1]} | ${(r.gops / base.gops).toFixed(2)} (${(r.best / base.best).toFixed(2)}) |`);
}
const text = L.join("\n");
console.log(text);

if (!process.argv.includes("--no-write")) {
  const file = `${root}bench/RESULTS.md`;
  const begin = "<!-- bench/kernels.mjs begin -->", end = "<!-- bench/kernels.mjs end -->";
  let md = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmark results\n";
  const block = `${begin}\n${text}\n${end}`;
  const i = md.indexOf(begin), j = md.indexOf(end);
  md = i >= 0 && j > i ? md.slice(0, i) + block + md.slice(j + end.length) : md.replace(/\n*$/, "\n\n") + block + "\n";
  writeFileSync(file, md);
}
