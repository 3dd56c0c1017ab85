// memory.mjs — peak wasm memory of classify() and extract() by input size, each case in an engine of its own
// (wasm memory never shrinks, so its size after the call is the peak). Prints a table and, with --json FILE,
// writes the figures. Usage: node tests/reliability/memory.mjs [--json out.json] [--cases a,b,…] [--simd relaxed]
import { readFileSync, writeFileSync } from "node:fs";
import { load } from "../../web/edgetag.js";
import { document, shortTexts } from "./corpus.mjs";

const root = new URL("../../", import.meta.url);
const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const simd = opt("--simd", "relaxed");
const wasm = readFileSync(new URL(simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm", root));
const MiB = 2 ** 20;

const CASES = {
  "classify-1": ["intent-clinc", (m) => m.classify(shortTexts(1)[0])],
  "classify-40": ["intent-clinc", (m) => m.classify(shortTexts(40))],
  "classify-1000": ["intent-clinc", (m) => m.classify(shortTexts(1000))],
  "extract-10KB": ["maint-ner", (m) => m.extract(document(10_000))],
  "extract-1MB": ["maint-ner", (m) => m.extract(document(1_000_000))],
  "extract-10MB": ["maint-ner", (m) => m.extract(document(10_000_000))],
  "pii-extract-1MB": ["pii-ner", (m) => m.extract(document(1_000_000, 7))],
  "pii-extract-1000": ["pii-ner", (m) => m.extract(shortTexts(1000))],
};
const wanted = (opt("--cases", Object.keys(CASES).join(","))).split(",");
const extra = JSON.parse(opt("--options", "{}"));

const rows = [];
for (const name of wanted) {
  const [model, run] = CASES[name];
  const m = await load(readFileSync(new URL(`models/${model}.gguf`, root)), { cache: "none", wasmModule: new WebAssembly.Module(wasm), ...extra });
  const loaded = m.wasmMemoryBytes;
  const t0 = performance.now();
  let outcome, detail;
  try {
    const r = run(m);
    outcome = "ok";
    detail = Array.isArray(r) ? `${r.length} answers` : r.entities ? `${r.entities.length} entities, last ends at ${r.entities.at(-1)?.end ?? "-"}` : r.label;
  } catch (e) {
    outcome = e.code ?? e.name;
    detail = String(e.message).slice(0, 120);
  }
  const ms = performance.now() - t0;
  rows.push({ case: name, model, loadedMiB: +(loaded / MiB).toFixed(1), peakMiB: +(m.wasmMemoryBytes / MiB).toFixed(1),
    grownMiB: +((m.wasmMemoryBytes - loaded) / MiB).toFixed(1), outcome, detail, seconds: +(ms / 1000).toFixed(2) });
  console.log(JSON.stringify(rows.at(-1)));
  m.dispose();
}
const out = opt("--json");
if (out) writeFileSync(out, JSON.stringify({ simd, node: process.version, rows }, null, 1) + "\n");
