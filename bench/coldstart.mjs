// coldstart.mjs — a Node process's first model loads, timed: compile, then load() of bytes already in
// memory, beside a plain copy of the same bytes into fresh memory (what this machine charges for touching
// pages no one has touched before). Run it in a fresh process: the first load is the one that counts.
// On this VM the first large copy of a process, whoever makes it, costs 30–40 ms more than later ones;
// --copy-first makes a plain copy before the loads, so that they are compared with copies that do not.
//
//   node bench/coldstart.mjs [--copy-first] [MODEL.gguf] [baseline,relaxed]   (default build/ref/minilm-i8.gguf, baseline)
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const t0 = performance.now();
const edgetag = await import("../web/edgetag.js");
const importMs = performance.now() - t0;
const args = process.argv.slice(2).filter((a) => a !== "--copy-first");
const bytes = readFileSync(args[0] ?? `${root}build/ref/minilm-i8.gguf`);
const flavours = (args[1] ?? "baseline").split(",");

/** ms to copy the bytes into memory no one has touched. */
function freshCopyMs() {
  const t = performance.now();
  new Uint8Array(bytes.length).set(bytes);
  return performance.now() - t;
}

console.log(`import ${importMs.toFixed(1)} ms; ${(bytes.length / 1e6).toFixed(1)} MB`);
if (process.argv.includes("--copy-first")) console.log(`the process's first plain copy: ${freshCopyMs().toFixed(1)} ms`);
for (const simd of flavours) {
  const wasm = readFileSync(`${root}build/${simd === "relaxed" ? "edgetag-relaxed" : "edgetag"}.wasm`);
  const t1 = performance.now();
  const wasmModule = await WebAssembly.compile(wasm);
  const t2 = performance.now();
  const model = await edgetag.load(bytes, { simd, wasmModule });
  const t3 = performance.now();
  const copy = freshCopyMs();
  console.log(`${simd}: compile ${(t2 - t1).toFixed(1)} ms, load ${(t3 - t2).toFixed(1)} ms ` +
    `(a plain copy into fresh memory: ${copy.toFixed(1)} ms; the rest: ${(t3 - t2 - copy).toFixed(1)} ms)`);
  model.dispose();
}
