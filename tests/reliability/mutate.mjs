// mutate.mjs — the mutation campaign over the shipped models through the wasm build: each model file corrupted
// N ways (seeded, so a run is repeatable), each corrupted file loaded by load() into ONE engine per build, and
// when it loads, run on a few texts. Every outcome falls into one class:
//   refused:<CODE>        load() threw an EdgetagError (the loader's validation)
//   answered              it loaded and every call answered, with finite scores in [0, 1]
//   call-error:<CODE>     it loaded and a call threw an EdgetagError (NUMERIC for non-finite logits, …)
//   BAD:<what>            anything else: a non-EdgetagError exception (a wasm trap, a RangeError), a score that is
//                         not finite or not in [0, 1], an entity outside the text, or the pristine model answering
//                         differently afterwards (the engine damaged). The campaign fails when any occurs.
// After the campaign the pristine model is loaded in the same engine and must answer exactly as before it, and the
// engine's memory must be within its maxMemory.
//   node tests/reliability/mutate.mjs [--per-model N] [--seed S] [--simd relaxed|baseline] [--json out.json]
import { readFileSync, writeFileSync } from "node:fs";
import { load } from "../../web/edgetag.js";
import { parseGguf } from "../js/gguf-edit.mjs";
import { rng } from "./corpus.mjs";

const root = new URL("../../", import.meta.url);
const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const perModel = Number(opt("--per-model", 300));
const seed = Number(opt("--seed", 15));
const simd = opt("--simd", "relaxed");
const MODELS = ["intent-clinc", "maint-ner", "pii-ner"];
const TEXTS = ["book a table for two at 7pm", "replaced the hydraulic pump seal on excavator 12",
  "Call Sarah Connor at +44 20 7946 0958", "", "🙂 ünïcödé ٠١٢ ＡＢＣ", "x".repeat(3000)];

/** Where a GGUF file's tensor data starts: before it, the header, metadata and tensor table (dense with counts,
 * lengths and offsets), which most mutations aim at. */
function headerEnd(bytes) {
  return parseGguf(bytes).dataStart;
}

/** One mutation of `bytes`: a fresh copy and a name saying what was done. */
function mutate(bytes, r) {
  const pick = (n) => Math.floor(r() * n);
  const hdr = headerEnd(bytes);
  const out = new Uint8Array(bytes);
  const kind = pick(8);
  const at = r() < 0.9 ? pick(hdr) : pick(bytes.length); // mostly the metadata and tensor table
  switch (kind) {
    case 0: { // flip one bit
      out[at] ^= 1 << pick(8);
      return [out, "bitflip"];
    }
    case 1: { // several random bytes
      const n = 1 + pick(16);
      for (let i = 0; i < n; i++) out[pick(hdr)] = pick(256);
      return [out, "bytes"];
    }
    case 2: { // a u64/u32 field (count, length, offset) made huge, zero or off by one
      const v = [0xffffffff, 0x7fffffff, 0, 1, 0x80000000][pick(5)];
      const dv = new DataView(out.buffer);
      const p = at & ~3;
      if (p + 8 <= out.length) {
        if (r() < 0.5) dv.setUint32(p, v, true);
        else dv.setUint32(p, (dv.getUint32(p, true) + (r() < 0.5 ? 1 : -1)) >>> 0, true);
      }
      return [out, "field"];
    }
    case 3: // truncated
      return [out.subarray(0, pick(bytes.length)), "truncate"];
    case 4: { // extended with garbage
      const more = new Uint8Array(bytes.length + 1 + pick(4096));
      more.set(bytes);
      for (let i = bytes.length; i < more.length; i++) more[i] = pick(256);
      return [more, "extend"];
    }
    case 5: { // a weight made NaN or infinite (f32 patterns) somewhere in the tensor data
      const dv = new DataView(out.buffer);
      const p = (hdr + pick(bytes.length - hdr - 4)) & ~3;
      dv.setUint32(p, [0x7fc00000, 0x7f800000, 0xff800000][pick(3)], true);
      return [out, "nonfinite"];
    }
    case 6: { // a block of the header copied elsewhere in it (shifts strings and counts)
      const len = 1 + pick(64), from = pick(hdr - len), to = pick(hdr - len);
      out.copyWithin(to, from, from + len);
      return [out, "shuffle"];
    }
    default: { // a run of zeros or 0xff
      const len = 1 + pick(256), v = r() < 0.5 ? 0 : 255;
      out.fill(v, at, Math.min(out.length, at + len));
      return [out, "fill"];
    }
  }
}

/** Runs a loaded model on TEXTS; throws a "BAD:" Error for an answer no model should give. */
function exercise(m) {
  const bad = (what) => Object.assign(new Error(what), { bad: true });
  if (m.info.task === "sequence_classification") {
    for (const r of m.classify(TEXTS)) {
      if (!Number.isFinite(r.score) || r.score < 0 || r.score > 1.0001) throw bad("score");
      if (!m.info.labels.includes(r.label)) throw bad("label");
    }
  } else {
    for (const [i, r] of m.extract(TEXTS).entries())
      for (const e of r.entities) {
        if (!Number.isFinite(e.score) || e.score < 0 || e.score > 1.0001) throw bad("score");
        if (!(e.start >= 0 && e.start < e.end && e.end <= TEXTS[i].length) || TEXTS[i].slice(e.start, e.end) !== e.text) throw bad("span");
      }
  }
}

const wasm = new WebAssembly.Module(readFileSync(new URL(simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm", root)));
const options = { cache: "none", wasmModule: wasm };
const counts = {}, byKind = {}, bads = [];
const count = (table, k) => { table[k] = (table[k] ?? 0) + 1; };
const t0 = performance.now();
let slowest = { ms: 0 };
for (const name of MODELS) {
  const bytes = new Uint8Array(readFileSync(new URL(`models/${name}.gguf`, root)));
  const pristine = await load(bytes, options);
  const before = JSON.stringify(pristine.info.task === "sequence_classification" ? pristine.classify(TEXTS) : pristine.extract(TEXTS));
  pristine.dispose();
  const r = rng(seed * 7919 + name.length);
  for (let i = 0; i < perModel; i++) {
    const [file, kind] = mutate(bytes, r);
    const t = performance.now();
    let outcome;
    let m = null;
    try {
      m = await load(file, options);
      try {
        exercise(m);
        outcome = "answered";
      } catch (e) {
        outcome = e.bad ? `BAD:${e.message}` : e?.name === "EdgetagError" ? `call-error:${e.code}` : `BAD:${e?.name}: ${e?.message}`;
      }
    } catch (e) {
      outcome = e?.name === "EdgetagError" ? `refused:${e.code}` : `BAD:${e?.name}: ${e?.message}`;
    } finally {
      m?.dispose();
    }
    const ms = performance.now() - t;
    if (ms > slowest.ms) slowest = { ms: Math.round(ms), model: name, kind, outcome };
    count(counts, outcome.replace(/^(BAD):.*/, "$1"));
    count(byKind, `${kind} → ${outcome.split(":").slice(0, 2).join(":")}`);
    if (outcome.startsWith("BAD")) bads.push({ model: name, i, kind, outcome });
  }
  const again = await load(bytes, options);
  const after = JSON.stringify(again.info.task === "sequence_classification" ? again.classify(TEXTS) : again.extract(TEXTS));
  if (after !== before) bads.push({ model: name, outcome: "BAD: the pristine model answers differently after the campaign" });
  console.log(JSON.stringify({ model: name, mutations: perModel, wasmMiB: +(again.wasmMemoryBytes / 2 ** 20).toFixed(1) }));
  again.dispose();
}
const report = { simd, node: process.version, seed, perModel, models: MODELS, total: perModel * MODELS.length,
  seconds: +((performance.now() - t0) / 1000).toFixed(1), outcomes: counts, byKind, slowest, bad: bads };
console.log(JSON.stringify({ simd, seed, perModel, outcomes: counts, seconds: report.seconds, slowest, bad: bads }, null, 1));
const out = opt("--json");
if (out) writeFileSync(out, JSON.stringify(report, null, 1) + "\n");
process.exit(bads.length ? 1 : 0);
