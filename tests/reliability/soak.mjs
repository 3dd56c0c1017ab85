// soak.mjs — N mixed requests (default 100,000) through one model in one process: single texts, batches of 2–12,
// long texts, empty and odd Unicode, token runs, and requests that must be refused (non-strings, too many texts,
// too long). Wasm memory and the JS heap are sampled every `--every` requests (memory must stay flat: no growth
// after the first tenth), and every `--check`-th answered request is compared with a fresh model's answer in a
// separate engine (it must be identical). Prints one line per sample and a summary; --json writes both.
//   node tests/reliability/soak.mjs [--requests N] [--model intent-clinc] [--every 10000] [--check 97] [--json out]
import { readFileSync, writeFileSync } from "node:fs";
import { load } from "../../web/edgetag.js";
import { SHORT, document, rng } from "./corpus.mjs";

const root = new URL("../../", import.meta.url);
const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const N = Number(opt("--requests", 100_000)), every = Number(opt("--every", 10_000)), check = Number(opt("--check", 97));
const name = opt("--model", "intent-clinc"), simd = opt("--simd", "relaxed");
const wasmBytes = readFileSync(new URL(simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm", root));
const bytes = readFileSync(new URL(`models/${name}.gguf`, root));
const limits = { maxTexts: 64, maxTextChars: 20_000 };
const model = await load(bytes, { cache: "none", wasmModule: new WebAssembly.Module(wasmBytes), ...limits });
const fresh = await load(bytes, { cache: "none", wasmModule: new WebAssembly.Module(wasmBytes), ...limits });
const classifier = model.info.task === "sequence_classification";
const run = (m, input) => (classifier ? m.classify(input) : m.extract(input));

const ODD = ["", " ", "🙂🙂🙂", "ünïcödé", "٠١٢٣ ４５６", "a\u0000b", "\ud800 lone", "ＡＢＣ", "x".repeat(600)];
const r = rng(100_000);
const pick = (a) => a[Math.floor(r() * a.length)];
/** The i-th request: [kind, input, wantError]. */
function request() {
  const u = r();
  if (u < 0.55) return ["single", pick(SHORT)];
  if (u < 0.80) return ["batch", Array.from({ length: 2 + Math.floor(r() * 11) }, () => pick(SHORT))];
  if (u < 0.92) return ["odd", pick(ODD)];
  if (u < 0.95) return ["long", document(1000 + Math.floor(r() * 4000), Math.floor(r() * 1000))];
  if (u < 0.97) return ["tokens", pick(SHORT)];
  const bad = [[null, 42], null, 42, Array(65).fill("x"), "y".repeat(20_001), [{}]];
  return ["refused", pick(bad), true];
}

const samples = [], counts = {};
let compared = 0, mismatches = 0, unexpected = 0;
const t0 = performance.now();
const sample = (i) => {
  const s = { requests: i, wasmMiB: +(model.wasmMemoryBytes / 2 ** 20).toFixed(2), heapMiB: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1),
    rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1), seconds: +((performance.now() - t0) / 1000).toFixed(1) };
  samples.push(s);
  console.log(JSON.stringify(s));
};
sample(0);
for (let i = 1; i <= N; i++) {
  const [kind, input, wantError] = request();
  counts[kind] = (counts[kind] ?? 0) + 1;
  let answer;
  try {
    answer = kind === "tokens" ? model.tokenize(input).ids : run(model, input);
    if (wantError) unexpected++;
  } catch (e) {
    if (!wantError || e?.name !== "EdgetagError") {
      unexpected++;
      if (unexpected < 5) console.error(kind, String(e));
    }
  }
  if (answer !== undefined && i % check === 0) {
    const want = kind === "tokens" ? fresh.tokenize(input).ids : run(fresh, input);
    compared++;
    if (JSON.stringify(answer, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v)) !==
        JSON.stringify(want, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v))) mismatches++;
  }
  if (i % every === 0) sample(i);
}
const settled = samples.filter((s) => s.requests >= N / 10);
const summary = { model: name, simd, node: process.version, requests: N, kinds: counts, compared, mismatches, unexpected,
  wasmMiB: { first: samples[1]?.wasmMiB, last: samples.at(-1).wasmMiB, growthAfterFirstTenth: +(settled.at(-1).wasmMiB - settled[0].wasmMiB).toFixed(2) },
  heapMiB: { min: Math.min(...settled.map((s) => s.heapMiB)), max: Math.max(...settled.map((s) => s.heapMiB)) },
  seconds: +((performance.now() - t0) / 1000).toFixed(1) };
console.log(JSON.stringify(summary, null, 1));
const out = opt("--json");
if (out) writeFileSync(out, JSON.stringify({ summary, samples }, null, 1) + "\n");
process.exit(mismatches || unexpected || summary.wasmMiB.growthAfterFirstTenth > 0 ? 1 : 0);
