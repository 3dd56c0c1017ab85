// redaction.mjs — what redaction before escalation does for a user, measured through the path users run:
// the library (web/edgetag.js) with the pii-ner model's extract() united with patternRedactor(), as
// withEscalation(..., {redact: anyOf(piiModel, patternRedactor())}) does (`make eval` runs it).
//
//   node tools/eval/redaction.mjs [--models models] [--data ../shared/data] [--json OUT]
//
// For models/pii-ner.gguf (int8) and models/pii-ner-f32.gguf, on
//   realistic   tests/fixtures/pii-eval/eval.jsonl: texts written for the purpose with hand-checked spans
//               (tools/data/pii_eval.py), never trained on;
//   presidio    Presidio's unseen dev templates (synth_dataset_v2.json, template_id % 10 == 8);
//   maintie     MaintIE dev work orders (no personal data at all);
//   free        the PII-free texts of the realistic set;
// it prints
//   F1          exact spans with their types (P, R), of the model alone and of model + patterns;
//   leak rate   the share of gold entities (any type) of which some character (blanks aside) is left
//               uncovered by every span found (model + patterns, of any type): what reaches the cloud;
//   over-redaction   the share of the characters of PII-free texts that spans found cover (would be replaced);
// and the same leak rate and over-redaction for piiFinder(model) with the patterns, the recall-biased finder
// (every word the model gives at least --min-probability, default 0.1, of being personal data).
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { anyOf, load, patternRedactor, piiFinder } from "../../web/edgetag.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function args(argv) {
  const o = { models: root + "models", data: root + "../shared/data", json: null, files: ["pii-ner.gguf", "pii-ner-f32.gguf"] };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--models") o.models = argv[++i];
    else if (k === "--data") o.data = argv[++i];
    else if (k === "--json") o.json = argv[++i];
    else if (k === "--files") o.files = argv[++i].split(",");
    else if (k === "--min-probability") o.minProbability = Number(argv[++i]);
    else throw new Error(`redaction.mjs: unknown option ${k}`);
  }
  return o;
}

/** UTF-16 index of each code point of `text` (map[count] = text.length). */
function utf16Map(text) {
  const map = [];
  let i = 0;
  for (const ch of text) { map.push(i); i += ch.length; }
  map.push(i);
  return map;
}

/** The realistic set, offsets turned into UTF-16 indices. */
export function readRealistic(file = root + "tests/fixtures/pii-eval/eval.jsonl") {
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => {
    const r = JSON.parse(line);
    const m = utf16Map(r.text);
    const entities = r.entities.map((e) => ({ ...e, start: m[e.start], end: m[e.end] }));
    for (const e of entities) if (r.text.slice(e.start, e.end) !== e.text) throw new Error(`${r.id}: offsets do not fit`);
    return { ...r, entities };
  });
}

/** Presidio's dev split (template_id % 10 == 8), as tools/data/datasets.py reads it. */
function readPresidioDev(data) {
  const recs = JSON.parse(readFileSync(`${data}/presidio_synth_pii/synth_dataset_v2.json`, "utf8"));
  return recs.filter((r) => r.template_id % 10 === 8).map((r) => {
    // The file's offsets count code points; its texts are all in the BMP but map anyway.
    const m = utf16Map(r.full_text);
    return { text: r.full_text, entities: r.spans.map((s) => ({ label: s.entity_type, start: m[s.start_position], end: m[s.end_position] })) };
  });
}

/** Texts of a CoNLL-style file: tokens joined by single blanks (tools/data/datasets.py). */
function readConllTexts(file) {
  const out = [];
  let cur = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) { if (cur.length) out.push(cur.join(" ")), (cur = []); continue; }
    const tok = (line.includes("\t") ? line.split("\t") : line.trim().split(/\s+/))[0].trim();
    if (tok) cur.push(tok);
  }
  if (cur.length) out.push(cur.join(" "));
  return out;
}

const key = (e) => `${e.start}:${e.end}:${e.label}`;

/** Micro P/R/F1 of exact typed spans. */
export function prf(gold, pred) {
  let tp = 0, np = 0, ng = 0;
  gold.forEach((g, i) => {
    const gs = new Set(g.map(key)), ps = new Set(pred[i].map(key));
    ng += gs.size, np += ps.size;
    for (const k of ps) if (gs.has(k)) tp++;
  });
  const p = np ? tp / np : 0, r = ng ? tp / ng : 0;
  return { precision: p, recall: r, f1: p + r ? (2 * p * r) / (p + r) : 0, gold: ng, predicted: np };
}

/** Characters of `text` inside any of `spans`. */
function covered(text, spans) {
  const c = new Uint8Array(text.length);
  for (const s of spans) c.fill(1, Math.max(0, s.start), Math.min(text.length, s.end));
  return c;
}

/** Gold entities with a non-blank character outside every found span: {leaked, total, byType, examples}
 * (byType: type → [leaked, total]). */
export function leaks(texts, found) {
  let leaked = 0, total = 0;
  const examples = [], byType = {};
  texts.forEach((t, i) => {
    const c = covered(t.text, found[i]);
    for (const e of t.entities) {
      total++;
      const counts = (byType[e.label] ??= [0, 0]);
      counts[1]++;
      let whole = true;
      for (let k = e.start; k < e.end; k++) if (!c[k] && !/\s/.test(t.text[k])) { whole = false; break; }
      if (!whole) {
        leaked++, counts[0]++;
        if (examples.length < 400) examples.push(`${e.label} ${JSON.stringify(t.text.slice(e.start, e.end))}`);
      }
    }
  });
  return { leaked, total, rate: total ? leaked / total : 0, byType, examples };
}

/** Share of the characters of texts that the found spans cover, and the spans themselves. */
export function overRedaction(texts, found) {
  let chars = 0, hit = 0;
  const examples = [];
  texts.forEach((t, i) => {
    chars += t.length;
    const c = covered(t, found[i]);
    hit += c.reduce((a, b) => a + b, 0);
    for (const s of found[i]) if (examples.length < 400) examples.push(`${s.label} ${JSON.stringify(t.slice(s.start, s.end))}`);
  });
  return { chars, replaced: hit, share: chars ? hit / chars : 0, examples };
}

const pct = (x) => (100 * x).toFixed(1) + "%";

/** Every figure for one model file. */
export async function evaluate(file, { data, minProbability = 0.1 }) {
  const model = await load(readFileSync(file));
  const patterns = patternRedactor();
  const both = anyOf(model, patterns), finder = anyOf(piiFinder(model, { minProbability }), patterns);
  const run = async (texts) => {
    const m = texts.map((t) => model.extract(t).entities);
    const b = [], c = [];
    for (const t of texts) b.push((await both.extract(t)).entities), c.push((await finder.extract(t)).entities);
    return { model: m, both: b, finder: c };
  };
  const realistic = readRealistic();
  const withPii = realistic.filter((r) => r.entities.length);
  const free = realistic.filter((r) => !r.entities.length).map((r) => r.text);
  const out = {};
  const sets = [["realistic", withPii]];
  if (existsSync(`${data}/presidio_synth_pii/synth_dataset_v2.json`)) sets.push(["presidio", readPresidioDev(data)]);
  for (const [name, texts] of sets) {
    const f = await run(texts.map((t) => t.text));
    const dedupe = f.both.map((es) => [...new Map(es.map((e) => [key(e), e])).values()]);
    out[name] = {
      texts: texts.length,
      model: prf(texts.map((t) => t.entities), f.model),
      modelAndPatterns: prf(texts.map((t) => t.entities), dedupe),
      leakModel: leaks(texts, f.model),
      leak: leaks(texts, f.both),
      leakFinder: leaks(texts, f.finder),
      perType: perType(texts, f.model),
    };
  }
  const negatives = [["free", free]];
  const maint = `${data}/maintie/maintie_gold_dev.bio`;
  if (existsSync(maint)) negatives.unshift(["maintie", readConllTexts(maint)]);
  for (const [name, texts] of negatives) {
    const f = await run(texts);
    out[name] = { texts: texts.length, model: overRedaction(texts, f.model), modelAndPatterns: overRedaction(texts, f.both),
      finder: overRedaction(texts, f.finder) };
  }
  model.dispose();
  out.minProbability = minProbability;
  return out;
}

function perType(texts, pred) {
  const types = [...new Set(texts.flatMap((t) => t.entities.map((e) => e.label)))].sort();
  const o = {};
  for (const ty of types) {
    const g = texts.map((t) => t.entities.filter((e) => e.label === ty));
    const p = pred.map((es) => es.filter((e) => e.label === ty));
    const r = prf(g, p);
    o[ty] = { f1: r.f1, support: r.gold };
  }
  return o;
}

export function report(name, r) {
  const lines = [];
  for (const set of ["realistic", "presidio"]) {
    const s = r[set];
    if (!s) continue;
    const label = set === "realistic" ? "realistic set" : "Presidio dev";
    lines.push(`${name.padEnd(18)} ${label.padEnd(14)} ${String(s.texts).padStart(4)} texts  F1 ${s.model.f1.toFixed(4)} (P ${s.model.precision.toFixed(3)} R ${s.model.recall.toFixed(3)}), with patterns ${s.modelAndPatterns.f1.toFixed(4)} | leak rate ${pct(s.leak.rate)} of ${s.leak.total} entities with patterns (${pct(s.leakModel.rate)} model alone)`);
    const byType = Object.entries(s.leakFinder.byType).filter(([, [n]]) => n).map(([t, [n, of]]) => `${t} ${n}/${of}`).join(", ");
    lines.push(`${"".padEnd(18)} ${"".padEnd(14)} piiFinder (min probability ${r.minProbability}) with patterns: leak rate ${pct(s.leakFinder.rate)}` +
      (byType ? ` (leaked by type: ${byType})` : ""));
    lines.push(`${"".padEnd(18)} ${"".padEnd(14)} per type F1: ${Object.entries(s.perType).map(([t, v]) => `${t} ${v.f1.toFixed(2)} (${v.support})`).join(", ")}`);
  }
  for (const set of ["maintie", "free"]) {
    const s = r[set];
    if (!s) continue;
    const label = set === "maintie" ? "MaintIE dev" : "PII-free set";
    lines.push(`${name.padEnd(18)} ${label.padEnd(14)} ${String(s.texts).padStart(4)} texts  over-redaction ${pct(s.modelAndPatterns.share)} of ${s.modelAndPatterns.chars} characters with patterns (${pct(s.model.share)} model alone); piiFinder with patterns ${pct(s.finder.share)}`);
  }
  return lines.join("\n");
}

async function main() {
  const o = args(process.argv);
  const results = {};
  for (const f of o.files) {
    const file = `${o.models}/${f}`;
    if (!existsSync(file)) continue;
    results[f] = await evaluate(file, o);
    console.log(report(f, results[f]));
  }
  if (!Object.keys(results).length) console.log(`redaction: no pii-ner model in ${o.models}`);
  if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 1));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
