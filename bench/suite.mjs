// suite.mjs — the engine-independent part of bench/run.mjs: edgetag (baseline and relaxed wasm, f32 and
// int8 GGUF, and 4-bit Q4_0 beside int8) side by side with onnxruntime-web (and onnxruntime-node in Node) on the
// same models and the same token ids. It runs unchanged in Node (bench/run.mjs's worker process) and in a
// Chromium or WebKitGTK page (bench/page.html); the host passes in what differs: how to read files, the runtimes,
// the timer policy. Not a command: `node bench/run.mjs` runs it.
//
// Per model and precision (int8 first, then f32: ORT-web's one wasm memory never shrinks), every runtime
// ("config") is created cold, warmed, then timed row by row — batch 1 at each sequence length, the 8 texts
// of mixed lengths as one batch, and the same 8 texts one at a time — with the configs interleaved in
// rounds, so that the load of a shared machine falls on all of them alike. The int8 group also times edgetag
// on the model's Q4_0 file (build/ref/MODEL-q4.gguf): onnxruntime has no 4-bit path for these encoders, so the
// 4-bit configs are compared with edgetag's own int8 ones, interleaved in the same rounds.

/** A one-node ONNX model (Identity): creating it times onnxruntime's own start (wasm fetch, compile, init). */
const NOOP_ONNX = "CAcSDWVkZ2V0YWcgYmVuY2g6OgoQCgF4EgF5IghJZGVudGl0eRIEbm9vcFoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0=";

/** Lengths of the mixed batch (768 tokens; padded to 8 × 256 = 2,048 for onnxruntime). */
export const MIXED = [16, 32, 48, 64, 96, 128, 128, 256];

/**
 * Wraps WebAssembly.Memory so that memories created from JavaScript are recorded: onnxruntime-web's
 * Emscripten build creates its (shared) memory that way; edgetag's module defines and exports its own.
 * Call before onnxruntime-web is loaded.
 */
export function hookWasmMemories() {
  const Original = WebAssembly.Memory;
  const created = [];
  function Memory(descriptor) {
    const memory = new Original(descriptor);
    created.push(memory);
    return memory;
  }
  Memory.prototype = Original.prototype;
  Object.setPrototypeOf(Memory, Original);
  WebAssembly.Memory = Memory;
  return () => {
    let max = 0;
    for (const m of created) max = Math.max(max, m.buffer.byteLength);
    return max || null;
  };
}

/** Deterministic token ids: [CLS], ids from a seeded LCG in [1000, 30000), [SEP]. */
export function tokenIds(length, stream) {
  let s = (stream * 2654435761 + 12345) >>> 0;
  const ids = new Array(length);
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = 1000 + (s % 29000);
  }
  ids[0] = 101;
  ids[length - 1] = 102;
  return ids;
}

/** Multiply-accumulates of all matmuls for one text of T tokens (QKVO, FFN, QKᵀ, PV, the pooler). */
export function macs(info, T) {
  const { nLayer: N, nEmbd: H, nFF: F } = info;
  return N * (4 * T * H * H + 2 * T * H * F + 2 * T * T * H) + H * H;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- runtimes ---------------------------------------------------------------------------------------

/** The most wasm memory an edgetag engine may hold here: all that wasm32 allows (the library's default, 256 MiB,
 * is below what the f32 base model needs). */
const MAX_MEMORY = 2 ** 32 - 2 ** 16;

/** edgetag: a fresh wasm module per config, so each has its own instance and memory. weights "q4": the Q4_0 file. */
function edgetagConfig(host, flavour, precision, weights = null) {
  let model = null;
  return {
    name: weights ? `edgetag ${flavour} ${weights}` : `edgetag ${flavour}`, family: weights ?? "edgetag", flavour, precision,
    file: weights ?? "edgetag",
    async cold(bytes, ids) {
      const t0 = performance.now();
      const module = await WebAssembly.compile(host.wasm[flavour]);
      const t1 = performance.now();
      model = await host.edgetag.load(bytes, { simd: flavour, wasmModule: module, maxMemory: MAX_MEMORY });
      const t2 = performance.now();
      const out = model.logits(ids);
      const t3 = performance.now();
      return { engineMs: t1 - t0, loadMs: t2 - t1, firstMs: t3 - t2, output: out.data };
    },
    run(texts) {
      const r = model.logits(texts);
      return Array.isArray(r) ? r.map((x) => x.data) : [r.data];
    },
    memory: () => model.wasmMemoryBytes,
    tuned: () => model.engine.tuned,
    /** The int8 kernel set in use, once the engine has settled on one (it times them over its first runs). */
    kernels: () => (model.engine.tuned ? ["", "scalar", "SIMD128", "relaxed dot16", "relaxed dot32"][model.engine.kernels] : "still timing"),
    dispose() { model.dispose(); model = null; },
  };
}

/** onnxruntime (web or node): padded batch with an attention mask; fetches only pooler_output. */
function ortConfig(host, ort, kind, precision) {
  let session = null;
  const options = kind === "ORT-web" ? { executionProviders: ["wasm"] }
    : { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" };
  const feeds = (texts) => {
    const B = texts.length, L = Math.max(...texts.map((t) => t.length));
    const ids = new BigInt64Array(B * L), mask = new BigInt64Array(B * L), types = new BigInt64Array(B * L);
    texts.forEach((t, b) => t.forEach((id, i) => { ids[b * L + i] = BigInt(id); mask[b * L + i] = 1n; }));
    return {
      input_ids: new ort.Tensor("int64", ids, [B, L]),
      attention_mask: new ort.Tensor("int64", mask, [B, L]),
      token_type_ids: new ort.Tensor("int64", types, [B, L]),
    };
  };
  const run = async (texts) => {
    const r = await session.run(feeds(texts), ["pooler_output"]);
    const d = r.pooler_output.data, H = d.length / texts.length;
    return texts.map((_, b) => d.subarray(b * H, (b + 1) * H));
  };
  return {
    name: kind, family: kind, precision, file: "onnx",
    async cold(bytes, ids) {
      const t0 = performance.now();
      session = await ort.InferenceSession.create(bytes, options);
      const t1 = performance.now();
      const out = await run([ids]);
      const t2 = performance.now();
      return { engineMs: null, loadMs: t1 - t0, firstMs: t2 - t1, output: out[0] };
    },
    run,
    memory: () => (kind === "ORT-web" ? host.ortWebMemory?.() ?? null : null),
    async dispose() { await session.release(); session = null; },
  };
}

/** Times onnxruntime's own start once per runtime (a one-node model), so model cold starts exclude it. */
async function ortStart(ort, kind) {
  const bytes = Uint8Array.from(atob(NOOP_ONNX), (c) => c.charCodeAt(0));
  const options = kind === "ORT-web" ? { executionProviders: ["wasm"] } : { executionProviders: ["cpu"], intraOpNumThreads: 1 };
  const t0 = performance.now();
  const s = await ort.InferenceSession.create(bytes, options);
  await s.run({ x: new ort.Tensor("float32", new Float32Array([1]), [1]) });
  const ms = performance.now() - t0;
  await s.release();
  return ms;
}

// ---- the suite ------------------------------------------------------------------------------------------

/**
 * host: { engine, read(path) → Promise<Uint8Array>, edgetag (web/edgetag.js), wasm: {baseline, relaxed}
 *         (bytes), ortWeb, ortNode?, ortWebMemory?(), log(msg), minSampleMs, skip?(model, precision, family, name),
 *         unsupported?(config) (true: the engine cannot run it, e.g. no relaxed SIMD), pause?() (yields to the
 *         event loop, outside the timed regions: a WebDriver-driven page answers its polls then) }
 * cfg:  { models, seqs, runs, rounds }
 */
export async function runSuite(host, cfg) {
  const { log } = host;
  const result = { engine: host.engine, models: [], startup: {} };
  result.startup["ORT-web"] = await ortStart(host.ortWeb, "ORT-web");
  if (host.ortNode) result.startup["ORT-node"] = await ortStart(host.ortNode, "ORT-node");
  log(`onnxruntime start (no-op model): ${Object.entries(result.startup).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ")}`);

  const ids128 = tokenIds(128, 7);
  const mixed = MIXED.map((n, i) => tokenIds(n, 100 + i));
  for (const modelName of cfg.models) {
    const hf = JSON.parse(new TextDecoder().decode(await host.read(`build/ref/${modelName}/config.json`)));
    const info = { nLayer: hf.num_hidden_layers, nEmbd: hf.hidden_size, nFF: hf.intermediate_size, nHead: hf.num_attention_heads };
    const entry = { name: modelName, shape: info, groups: [] };
    result.models.push(entry);
    for (const precision of ["int8", "f32"]) {
      const files = {
        edgetag: precision === "f32" ? `build/ref/${modelName}.gguf` : `build/ref/${modelName}-i8.gguf`,
        q4: precision === "int8" ? `build/ref/${modelName}-q4.gguf` : null,
        onnx: `build/onnx/${modelName}/model-${precision}.onnx`,
      };
      const candidates = [
        edgetagConfig(host, "baseline", precision), edgetagConfig(host, "relaxed", precision),
        ...(files.q4 ? [edgetagConfig(host, "baseline", precision, "q4"), edgetagConfig(host, "relaxed", precision, "q4")] : []),
        ortConfig(host, host.ortWeb, "ORT-web", precision),
        ...(host.ortNode ? [ortConfig(host, host.ortNode, "ORT-node", precision)] : []),
      ];
      const unsupported = candidates.filter((c) => host.unsupported?.(c));
      const configs = candidates.filter((c) => !unsupported.includes(c) && !host.skip?.(modelName, precision, c.family, c.name));
      if (!configs.length) continue;
      const group = { precision, files, configs: {}, rows: [], unsupported: unsupported.map((c) => c.name),
        skipped: candidates.filter((c) => !configs.includes(c) && !unsupported.includes(c)).map((c) => c.name) };
      entry.groups.push(group);
      const bytes = {};
      for (const f of new Set(configs.map((c) => c.file))) bytes[f] = await host.read(files[f]);
      group.bytes = { edgetag: bytes.edgetag?.byteLength ?? null, q4: bytes.q4?.byteLength ?? null, onnx: bytes.onnx?.byteLength ?? null };

      // What any runtime pays before it can use a model held in memory: copying it into memory no one has
      // touched yet. Measured as a plain ArrayBuffer copy of the file's size (the median of 3), so the
      // report can tell this page-fault cost (large in virtual machines) from the engines' own work.
      const src = bytes.edgetag ?? bytes.onnx ?? bytes.q4, size = src.byteLength;
      const touches = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        new Uint8Array(size).set(src);
        touches.push(performance.now() - t0);
      }
      group.firstTouchMs = median(touches);

      // Cold start: bytes in memory → first result at 128 tokens. Then warm with short calls (no OSR).
      for (const c of configs) {
        const cold = await c.cold(bytes[c.file], ids128);
        group.configs[c.name] = { cold: { engineMs: cold.engineMs, loadMs: cold.loadMs, firstMs: cold.firstMs }, output128: cold.output };
        if (cfg.coldOnly) {
          group.configs[c.name].memoryAfterRuns = c.memory();
          await c.dispose();
          continue;
        }
        const short = [tokenIds(8, 1)];
        const t0 = performance.now();
        // (edgetag's relaxed build times its two int8 kernel sets over its first runs: until it has chosen)
        for (let i = 0; i < 10 || performance.now() - t0 < 300 || (c.tuned && !c.tuned() && i < 300); i++) await c.run(short);
        if (c.kernels) group.configs[c.name].kernels = c.kernels();
        log(`${modelName} ${precision} ${c.name}: cold ${((cold.engineMs ?? 0) + cold.loadMs + cold.firstMs).toFixed(0)} ms`);
        await host.pause?.();
      }
      for (const f of Object.keys(bytes)) delete bytes[f];
      if (cfg.coldOnly) continue;

      const inputs = [
        ...cfg.seqs.map((n) => ({ label: `seq ${n}`, batches: [[tokenIds(n, 7)]], lengths: [n] })),
        { label: "8 mixed, one batch", batches: [mixed], lengths: MIXED },
        { label: "8 mixed, one at a time", batches: mixed.map((t) => [t]), lengths: MIXED },
      ];
      for (const input of inputs) {
        const tokens = input.lengths.reduce((a, b) => a + b, 0);
        const row = { input: input.label, tokens, macs: input.lengths.reduce((a, n) => a + macs(info, n), 0), results: {} };
        const call = async (c) => {
          let out = [];
          for (const b of input.batches) out = out.concat(await c.run(b));
          return out;
        };
        // Untimed calls at this shape (the runtime sizes its buffers), and the repetitions per sample.
        const reps = {};
        await host.pause?.();
        for (const c of configs) {
          let best = Infinity, out;
          for (let i = 0; i < 2; i++) {
            const t0 = performance.now();
            out = await call(c);
            best = Math.min(best, performance.now() - t0);
          }
          reps[c.name] = best < host.minSampleMs ? Math.ceil(host.minSampleMs / Math.max(best, 0.05)) : 1;
          row.results[c.name] = { samples: [], reps: reps[c.name] };
          if (input.label === "8 mixed, one batch") group.configs[c.name].outputBatch = out;
        }
        const perRound = Math.ceil(cfg.runs / cfg.rounds);
        for (let r = 0; r < cfg.rounds; r++)
          for (const c of configs) {
            await host.pause?.();
            for (let i = 0; i < perRound; i++) {
              const k = reps[c.name];
              const t0 = performance.now();
              for (let j = 0; j < k; j++) await call(c);
              row.results[c.name].samples.push((performance.now() - t0) / k);
            }
          }
        for (const c of configs) {
          const res = row.results[c.name];
          res.median = median(res.samples);
          res.min = Math.min(...res.samples);
        }
        group.rows.push(row);
        log(`${modelName} ${precision} ${input.label}: ` + configs.map((c) => `${c.name} ${row.results[c.name].median.toFixed(1)}`).join(", ") + " ms");
        if (input.label === `seq ${Math.max(...cfg.seqs)}`)
          for (const c of configs) group.configs[c.name].memoryAfterSeqMax = c.memory();
      }
      for (const c of configs) {
        group.configs[c.name].memoryAfterRuns = c.memory();
        await c.dispose();
      }
    }
    // Accuracy: each config's pooler output at 128 tokens and on the mixed batch vs ORT-web's f32 (or
    // ORT-node's, or edgetag baseline f32's, whatever of them ran).
    const f32 = entry.groups.find((g) => g.precision === "f32");
    const refName = f32 && ["ORT-web", "ORT-node", "edgetag baseline"].find((n) => f32.configs[n]);
    if (refName) {
      const ref = f32.configs[refName];
      entry.accuracyRef = `${refName} f32`;
      for (const g of entry.groups)
        for (const [name, c] of Object.entries(g.configs)) {
          c.maxDiff128 = maxDiff(c.output128, ref.output128);
          c.maxDiffBatch = c.outputBatch && ref.outputBatch ? Math.max(...c.outputBatch.map((o, i) => maxDiff(o, ref.outputBatch[i]))) : null;
        }
    }
    for (const g of entry.groups) for (const c of Object.values(g.configs)) delete c.output128, delete c.outputBatch;
  }
  return result;
}

function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
