// e2e-suite.mjs — the engine-independent part of bench/e2e.mjs: edgetag's library (load(), classify(), extract())
// against transformers.js's pipeline() ("text-classification", "token-classification") on the same weights, text in
// → labels and entities out, tokenization included. It runs unchanged in Node (bench/e2e.mjs's worker process) and
// in a browser page (bench/e2e.html); the host passes in what differs: how to read files, transformers.js's
// pipeline() with its backend settings, the timer policy. Not a command: `node bench/e2e.mjs` runs it.
//
// Per model and precision (edgetag int8 against transformers.js q8, then f32 against f32) every runtime is loaded,
// warmed, and timed row by row — each short text in its own call, all short texts in one call, each long text in its
// own call, all long texts in one call — with the runtimes interleaved in rounds, so that the load of a shared
// machine falls on all of them alike. Before the timing each runtime answers every text once, one call per text;
// those answers are compared afterwards: token ids, labels, entity spans, per-token labels.

/** A short text has at most this many tokens ([CLS] and [SEP] included) with every benchmarked tokenizer. */
export const SHORT_MAX_TOKENS = 32;

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- entities from per-token labels (for transformers.js, whose pipeline returns tokens, not entities) --------

/** "B-PER" → ["B", "PER"], "I-PER" → ["I", "PER"], anything else ("O") → ["I", itself], as Hugging Face splits tags. */
function splitTag(label) {
  if (label.startsWith("B-") || label.startsWith("I-")) return [label[0], label.slice(2)];
  return ["I", label];
}

/**
 * Entities from the labels of a text's tokens, as Hugging Face's token-classification pipeline (Python) aggregates
 * them: "none" — every token not labelled O, with its B-/I- label; "simple" — consecutive tokens of one type
 * merged, a B- label starting a new entity; "first" — the same over words, a word being a token and the "##"
 * pieces after it, labelled as its first token. O groups form like the others and are dropped.
 * @param {Array<{label: string, subword: boolean, index: number}>} tokens the text's tokens, special ones left out
 * @returns {Array<{type: string, first: number, last: number}>} token index ranges (of `index`), inclusive
 */
export function groupEntities(tokens, strategy) {
  if (strategy === "none")
    return tokens.filter((t) => t.label !== "O").map((t) => ({ type: t.label, first: t.index, last: t.index }));
  if (strategy !== "simple" && strategy !== "first")
    throw new Error(`groupEntities: the ${strategy} strategy needs probabilities, which transformers.js does not return`);
  const units = [];
  for (const t of tokens) {
    const open = units.at(-1);
    if (strategy === "first" && t.subword && open) open.last = t.index;
    else units.push({ label: t.label, first: t.index, last: t.index });
  }
  const out = [];
  let open = null;
  for (const u of units) {
    const [bi, type] = splitTag(u.label);
    if (open && type === open.type && bi !== "B") {
      open.last = u.last;
      continue;
    }
    if (open) out.push(open);
    open = { type, first: u.first, last: u.last };
  }
  if (open) out.push(open);
  return out.filter((e) => e.type !== "O");
}

// ---- runtimes ---------------------------------------------------------------------------------------------

/** edgetag: a fresh wasm module per runtime (its own instance and memory), the GGUF read as the host reads files. */
function edgetagRuntime(host, flavour, file, task) {
  let model = null;
  return {
    name: `edgetag ${flavour}`, family: "edgetag",
    async load() {
      const t0 = performance.now();
      const bytes = await host.read(file);
      const module = await WebAssembly.compile(host.wasm[flavour]);
      model = await host.edgetag.load(bytes, { simd: flavour, wasmModule: module });
      return performance.now() - t0;
    },
    call: (input) => (task === "classify" ? model.classify(input) : model.extract(input)),
    tuned: () => model.engine.tuned,
    get model() { return model; },
    dispose() { model.dispose(); model = null; },
  };
}

/** transformers.js: pipeline() on the host's local model folder, dtype q8 (onnx/model_quantized.onnx) or fp32. */
function tjsRuntime(host, precision, hf, task) {
  let pipe = null;
  return {
    name: "transformers.js", family: "transformers.js",
    async load() {
      const t0 = performance.now();
      pipe = await host.pipeline(task === "classify" ? "text-classification" : "token-classification", hf,
        precision === "int8" ? "q8" : "fp32");
      return performance.now() - t0;
    },
    call: (input) => pipe(input),
    get pipe() { return pipe; },
    async dispose() { await pipe.dispose(); pipe = null; },
  };
}

// ---- answers, for the agreement figures ---------------------------------------------------------------------

function softmaxMax(row) {
  let m = -Infinity, best = 0;
  for (let j = 0; j < row.length; j++) if (row[j] > m) m = row[j], best = j;
  let s = 0;
  for (let j = 0; j < row.length; j++) s += Math.exp(row[j] - m);
  return { best, p: 1 / s };
}

/**
 * Every text's answer from one runtime, one call per text. `ref` is an edgetag model of the same file, whose
 * tokenize() gives the character offsets of transformers.js's tokens (the token ids are checked equal first).
 * classify: {label, p} (p: the top label's softmax probability, no calibration temperature, so that both sides
 * compute the same number); extract: {entities: ["type start end", …], tokens: [label | null per content token]}.
 */
async function answers(c, texts, task, ref, strategy) {
  const out = [];
  for (const text of texts) {
    if (c.family === "edgetag") {
      const m = c.model, ids = m.tokenize(text).ids;
      if (task === "classify") {
        const label = m.classify(text).label;
        out.push({ label, p: softmaxMax(m.logits(ids).data).p });
      } else {
        const entities = m.extract(text).entities.map((e) => `${e.label} ${e.start} ${e.end}`);
        const { rows, cols, data } = m.logits(ids);
        const tokens = [];
        for (let t = 1; t < rows - 1; t++) tokens.push(m.info.labels[softmaxMax(data.subarray(t * cols, (t + 1) * cols)).best]);
        out.push({ entities, tokens });
      }
      continue;
    }
    const r = await c.call(text);
    if (task === "classify") {
      out.push({ label: r[0].label, p: r[0].score });
      continue;
    }
    // The pipeline's tokens: every one not labelled O and not special, with its index in input_ids.
    const tok = c.pipe.tokenizer, ids = Array.from(tok(text).input_ids.data, Number);
    const byIndex = new Map(r.map((t) => [t.index, t.entity]));
    const vocab = tok.model.vocab, content = [], tokens = [];
    for (let i = 1; i < ids.length - 1; i++) {
      const special = tok.decode([ids[i]], { skip_special_tokens: true }) === ""; // what the pipeline skips
      tokens.push(special ? null : byIndex.get(i) ?? "O");
      if (!special) content.push({ label: byIndex.get(i) ?? "O", subword: vocab[ids[i]].startsWith("##"), index: i });
    }
    const offsets = ref.tokenize(text).offsets;
    const entities = groupEntities(content, strategy).map((e) => `${e.type} ${offsets[2 * e.first]} ${offsets[2 * e.last + 1]}`);
    out.push({ entities, tokens });
  }
  return out;
}

/** How far two runtimes' answers agree (same texts, same order). */
function agree(a, b, task) {
  const r = { texts: a.length, sameTexts: 0 };
  if (task === "classify") {
    r.maxDiffP = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i].label !== b[i].label) continue;
      r.sameTexts++;
      r.maxDiffP = Math.max(r.maxDiffP, Math.abs(a[i].p - b[i].p));
    }
    return r;
  }
  Object.assign(r, { spansA: 0, spansB: 0, matched: 0, tokens: 0, sameTokens: 0 });
  for (let i = 0; i < a.length; i++) {
    const setB = new Set(b[i].entities);
    const matched = a[i].entities.filter((e) => setB.has(e)).length;
    r.spansA += a[i].entities.length, r.spansB += b[i].entities.length, r.matched += matched;
    if (matched === a[i].entities.length && matched === b[i].entities.length) r.sameTexts++;
    for (let t = 0; t < a[i].tokens.length; t++) {
      if (a[i].tokens[t] === null || b[i].tokens[t] === null) continue;
      r.tokens++;
      if (a[i].tokens[t] === b[i].tokens[t]) r.sameTokens++;
    }
  }
  return r;
}

// ---- the suite ------------------------------------------------------------------------------------------

/**
 * host: { engine, log(msg), read(path) → Promise<Uint8Array>, edgetag (web/edgetag.js), wasm: {baseline, relaxed}
 *         (bytes), relaxedSupported, pipeline(task, name, dtype) → Promise<transformers.js pipeline>, minSampleMs,
 *         pause?() (yields to the event loop between samples) }
 * cfg:  { models: [{name, task: "classify" | "extract", files: {int8, f32}, hf}], texts, runs, rounds }
 */
export async function runE2E(host, cfg) {
  const { log } = host;
  const result = { engine: host.engine, models: [] };
  for (const spec of cfg.models) {
    const { task } = spec, short = cfg.texts[task].short, long = cfg.texts[task].long, all = [...short, ...long];
    const entry = { name: spec.name, task, groups: [], agreement: [] };
    result.models.push(entry);
    const kept = {}; // "runtime precision" → answers
    for (const precision of ["int8", "f32"]) {
      const candidates = [edgetagRuntime(host, "relaxed", spec.files[precision], task),
        edgetagRuntime(host, "baseline", spec.files[precision], task), tjsRuntime(host, precision, spec.hf, task)];
      const runtimes = candidates.filter((c) => c.name !== "edgetag relaxed" || host.relaxedSupported);
      const group = { precision, peer: precision === "int8" ? "q8" : "fp32", runtimes: {}, rows: [],
        unsupported: candidates.filter((c) => !runtimes.includes(c)).map((c) => c.name) };
      entry.groups.push(group);
      for (const c of runtimes) group.runtimes[c.name] = { loadMs: await c.load() };
      const ref = runtimes[0].model;
      const tjs = runtimes.find((c) => c.family === "transformers.js");

      if (!entry.shape) {
        const i = ref.info;
        entry.shape = { nLayer: i.nLayer, nEmbd: i.nEmbd, nHead: i.nHead, nFF: i.nFF, nCtx: i.nCtx, nLabels: i.nLabels,
          nVocab: i.nVocab, aggregation: i.aggregation };
        // Token ids: transformers.js's BertTokenizer (tokenizer.json) against edgetag's (the GGUF's vocabulary).
        const tok = { texts: all.length, same: 0, diffs: [], short: [], long: [] };
        for (const text of all) {
          const mine = Array.from(ref.tokenize(text).ids), theirs = Array.from(tjs.pipe.tokenizer(text).input_ids.data, Number);
          if (mine.length === theirs.length && mine.every((id, k) => id === theirs[k])) tok.same++;
          else if (tok.diffs.length < 3) tok.diffs.push({ text, edgetag: mine, transformers: theirs });
          (short.includes(text) ? tok.short : tok.long).push(mine.length);
        }
        entry.tokens = tok;
        const over = tok.short.filter((n) => n > SHORT_MAX_TOKENS).length;
        if (over) throw new Error(`${spec.name}: ${over} short texts have more than ${SHORT_MAX_TOKENS} tokens`);
        if (Math.max(...tok.long) > entry.shape.nCtx)
          throw new Error(`${spec.name}: a long text has more tokens than the model's ${entry.shape.nCtx} positions`);
      }

      // Warm-up with short calls (the relaxed build also settles on its int8 kernels) and two rounds of the long texts
      // (code that only long inputs reach gets compiled by the engine's optimizing tier too), then the answers.
      for (const c of runtimes) {
        const t0 = performance.now();
        for (let i = 0; i < 10 || performance.now() - t0 < 300 || (c.tuned && !c.tuned() && i < 300); i++) await c.call(short[i % short.length]);
        for (let i = 0; i < 2 * long.length; i++) await c.call(long[i % long.length]);
        kept[`${c.name} ${precision}`] = await answers(c, all, task, ref, entry.shape.aggregation);
        await host.pause?.();
      }

      const inputs = [
        { label: "1 short text per call", calls: short, tokens: entry.tokens.short },
        { label: `${short.length} short texts in one call`, calls: [short], tokens: entry.tokens.short },
        { label: "1 long text per call", calls: long, tokens: entry.tokens.long },
        { label: `${long.length} long texts in one call`, calls: [long], tokens: entry.tokens.long },
      ];
      for (const input of inputs) {
        const row = { input: input.label, calls: input.calls.length, texts: input.tokens.length,
          tokens: input.tokens.reduce((a, b) => a + b, 0), results: {} };
        const pass = async (c) => {
          for (const x of input.calls) await c.call(x);
        };
        const reps = {};
        for (const c of runtimes) { // untimed passes at this shape, and the passes per sample
          let best = Infinity;
          for (let i = 0; i < 2; i++) {
            const t0 = performance.now();
            await pass(c);
            best = Math.min(best, performance.now() - t0);
          }
          reps[c.name] = best < host.minSampleMs ? Math.ceil(host.minSampleMs / Math.max(best, 0.05)) : 1;
          row.results[c.name] = { samples: [], reps: reps[c.name] };
        }
        const perRound = Math.ceil(cfg.runs / cfg.rounds);
        for (let r = 0; r < cfg.rounds; r++)
          for (const c of runtimes) {
            await host.pause?.();
            for (let i = 0; i < perRound; i++) {
              const k = reps[c.name];
              const t0 = performance.now();
              for (let j = 0; j < k; j++) await pass(c);
              row.results[c.name].samples.push((performance.now() - t0) / k / input.calls.length); // ms per call
            }
          }
        for (const c of runtimes) {
          const res = row.results[c.name];
          res.median = median(res.samples);
          res.min = Math.min(...res.samples);
        }
        group.rows.push(row);
        log(`${spec.name} ${precision} ${input.label}: ` + runtimes.map((c) => `${c.name} ${row.results[c.name].median.toFixed(2)}`).join(", ") + " ms per call");
      }
      for (const c of runtimes) await c.dispose();
    }

    // Agreement: each edgetag build against transformers.js at the same precision, then int8 against f32 within
    // each runtime (what quantization alone changes).
    const pairs = [];
    for (const [p, peer] of [["int8", "q8"], ["f32", "fp32"]])
      for (const f of ["relaxed", "baseline"]) pairs.push([`edgetag ${f} ${p}`, `transformers.js ${p}`, `edgetag ${f} ${p}`, `transformers.js ${peer}`]);
    for (const f of ["relaxed", "baseline"]) pairs.push([`edgetag ${f} int8`, `edgetag ${f} f32`, `edgetag ${f} int8`, `edgetag ${f} f32`]);
    pairs.push(["transformers.js int8", "transformers.js f32", "transformers.js q8", "transformers.js fp32"]);
    for (const [a, b, nameA, nameB] of pairs)
      if (kept[a] && kept[b]) entry.agreement.push({ a: nameA, b: nameB, ...agree(kept[a], kept[b], task) });
  }
  return result;
}
