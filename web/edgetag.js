// edgetag.js — the ES-module face of the edgetag WebAssembly engine.
//
// This is the minimal loader: instantiate the engine (SIMD128 or relaxed SIMD), load a GGUF model from
// bytes, run token ids, read logits, hidden states and embeddings. It works unchanged in browsers,
// Node >= 20, Deno and workers: no build step, no dependencies.
//
//   import { load } from "./edgetag.js";
//   const model = await load(bytes);               // ArrayBuffer | Uint8Array of a .gguf file
//   const { rows, cols, data } = model.logits([101, 7592, 102]);
//   const batch = model.logits([[101, 7592, 102], [101, 2088, 102]]);  // one ragged batch
//   model.dispose();
//
// Memory: the model's bytes are copied once into wasm memory and used there in place; the engine
// allocates the context (all run buffers) once and grows it only when a batch needs more.

import { EdgetagError } from "./errors.js";
import { bytesIntoWasm, checkAborted, isModelName, openSource, parseIntegrity, resolveUrl, sha256Hex, streamIntoWasm } from "./source.js";
import { isQuotaError, resolveCache } from "./cache.js";
import { createWorkerTagger } from "./worker.js";

export { EdgetagError } from "./errors.js";
export { indexedDBCache } from "./cache.js";
export { createWorkerTagger, WorkerTagger } from "./worker.js";
export { withEscalation, EscalationHttpError, DEFAULT_THRESHOLD, POLICY_DEFAULTS } from "./escalate.js";
export { anyOf, patternRedactor } from "./redact.js";

/** The library version; equals the engine's et_version() and the C header's ET_VERSION_STRING. */
export const version = "0.1.0";

/** Stable error codes, one per C status (include/edgetag.h). */
const STATUS_CODES = [
  "OK", "INVALID_ARGUMENT", "OUT_OF_MEMORY", "BAD_MAGIC", "BAD_VERSION", "TRUNCATED", "CORRUPT",
  "UNSUPPORTED", "MISSING", "SHAPE", "ALIGNMENT", "INPUT", "CAPACITY", "IO", "STATE",
];

const CAPACITY = STATUS_CODES.indexOf("CAPACITY");

/** et_kernels_choice values (include/edgetag.h). */
const KERNELS = { auto: 0, reference: 1, baseline: 2, relaxedDot16: 3, relaxedDot32: 4 };

// A module whose only function uses f32x4.relaxed_madd: it validates exactly where relaxed SIMD runs.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11,
]);

/** True when this engine runs relaxed SIMD (Chromium, Node >= 22, Deno, workerd; not Safari). */
export function relaxedSimdSupported() {
  return WebAssembly.validate(RELAXED_PROBE);
}

const WASM_FILES = { baseline: "edgetag.wasm", relaxed: "edgetag-relaxed.wasm" };

/** Compiles the engine's .wasm: while it downloads where the platform can (application/wasm over HTTP). */
async function compileWasm(url) {
  if (url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    return WebAssembly.compile(await readFile(url));
  }
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new EdgetagError("IO", `edgetag: fetching ${url} failed: ${e?.message ?? e}`, { cause: e });
  }
  if (!res.ok) throw new EdgetagError("IO", `edgetag: fetching ${url} failed: HTTP ${res.status}`);
  if (typeof WebAssembly.compileStreaming === "function" && res.headers.get("content-type")?.startsWith("application/wasm"))
    return WebAssembly.compileStreaming(res);
  return WebAssembly.compile(await res.arrayBuffer());
}

/** The engine: one wasm instance and typed access to its exports. */
class Engine {
  constructor(instance, flavour) {
    this.exports = instance.exports;
    this.flavour = flavour;
    this.exports._initialize();
    // A small scratch area for out-parameters and structs, allocated once.
    this.scratch = this.exports.malloc(512);
    if (!this.scratch) throw new EdgetagError("OUT_OF_MEMORY", "edgetag: no memory for the scratch area");
    this.decoder = new TextDecoder();
    this.kernels = flavour === "relaxed" ? KERNELS.relaxedDot16 : KERNELS.baseline;
    this.#tuning = flavour === "relaxed" ? { d16: [], d32: [] } : null;
  }

  #tuning;

  /** False while the relaxed build is still timing its two int8 kernel sets (see tune()). */
  get tuned() { return this.#tuning === null; }

  /**
   * The relaxed build's int8 kernels: dot16 or dot32, whichever this engine runs faster once it has
   * optimized them. Which one wins depends on the CPU and on the JavaScript engine's code generation (on
   * this Zen 4, dot16 is 1.1× faster in Node 20, while Node 24 and Chromium 156 compile dot32 to one VNNI
   * instruction and run it twice as fast), and it cannot be told at start-up: engines that compile wasm
   * lazily (Chromium, Deno, workerd, Node ≥ 22) first run unoptimized code,
   * where the ranking differs. So runs start with dot16 and each run first calls this: it times one small
   * GEMM (16 × 384 × 384, four times) with each set — both from one wasm function, so both in the same tier
   * — until the sums of the last 12 rounds stop falling (within 15 % of the 12 before: the engine has
   * optimized the function), or after 200 rounds; then it keeps dot32 if it took < 0.9× dot16's time. The
   * cost: ~0.2–4 ms per run for the first 24 runs or more. Contexts are remade with the choice.
   */
  tune() {
    const t = this.#tuning;
    if (!t) return;
    const time = (k) => {
      const t0 = performance.now();
      this.exports.et_kernels_probe(k, 4);
      return performance.now() - t0;
    };
    const odd = t.d16.length % 2; // alternate which goes first
    const first = time(odd ? KERNELS.relaxedDot32 : KERNELS.relaxedDot16);
    const second = time(odd ? KERNELS.relaxedDot16 : KERNELS.relaxedDot32);
    t.d16.push(odd ? second : first), t.d32.push(odd ? first : second);
    const n = t.d16.length;
    if (n < 24) return;
    const sum = (a, from, to) => a.slice(from, to).reduce((x, y) => x + y, 0);
    const [r16, r32] = [sum(t.d16, n - 12, n), sum(t.d32, n - 12, n)];
    const settled = r16 > 0.85 * sum(t.d16, n - 24, n - 12) && r32 > 0.85 * sum(t.d32, n - 24, n - 12);
    if (!settled && n < 200) return;
    this.kernels = r32 < 0.9 * r16 ? KERNELS.relaxedDot32 : KERNELS.relaxedDot16;
    this.#tuning = null;
  }

  get memory() { return this.exports.memory.buffer; }
  i32(ptr, count) { return new Int32Array(this.memory, ptr, count); }
  f32(ptr, count) { return new Float32Array(this.memory, ptr, count); }

  string(ptr) {
    if (!ptr) return null;
    const bytes = new Uint8Array(this.memory, ptr);
    let end = 0;
    while (bytes[end] !== 0) end++;
    return this.decoder.decode(bytes.subarray(0, end));
  }

  /** Allocates `size` bytes aligned to 16 (the model loader's requirement); throws when out of memory. */
  alloc(size, what) {
    const ptr = this.exports.aligned_alloc(16, Math.max(16, Math.ceil(size / 16) * 16));
    if (!ptr) throw new EdgetagError("OUT_OF_MEMORY", `edgetag: no memory for ${what} (${size} bytes)`);
    return ptr;
  }

  error(status, message) {
    const code = STATUS_CODES[status] ?? "UNKNOWN";
    const text = message || this.string(this.exports.et_status_string(status));
    return new EdgetagError(code, text);
  }

  version() { return this.string(this.exports.et_version()); }
}

const engines = new Map(); // flavour → Promise<Engine>: init is memoized

/**
 * Instantiates the engine once per flavour (later calls return the same promise).
 * @param {{simd?: "auto"|"relaxed"|"baseline", wasmModule?: WebAssembly.Module, wasmUrl?: string|URL}} [options]
 */
export function init(options = {}) {
  const simd = options.simd ?? "auto";
  if (!["auto", "relaxed", "baseline"].includes(simd))
    throw new EdgetagError("INVALID_ARGUMENT", `edgetag: simd must be "auto", "relaxed" or "baseline", not ${simd}`);
  const flavour = simd === "auto" ? (relaxedSimdSupported() ? "relaxed" : "baseline") : simd;
  const key = options.wasmModule ? options.wasmModule : options.wasmUrl ? String(options.wasmUrl) : flavour;
  if (!engines.has(key)) {
    const promise = (async () => {
      if (flavour === "relaxed" && !options.wasmModule && !relaxedSimdSupported())
        throw new EdgetagError("UNSUPPORTED", "edgetag: this JavaScript engine has no relaxed SIMD");
      let module = options.wasmModule;
      if (!module) {
        const url = options.wasmUrl ? new URL(options.wasmUrl, import.meta.url)
          : new URL(`../build/${WASM_FILES[flavour]}`, import.meta.url);
        module = await compileWasm(url);
      }
      const instance = await WebAssembly.instantiate(module, {});
      return new Engine(instance, flavour);
    })();
    promise.catch(() => engines.delete(key));
    engines.set(key, promise);
  }
  return engines.get(key);
}

const TASKS = ["embedding", "sequence_classification", "token_classification"];
const AGGREGATIONS = ["none", "simple", "first", "average", "max"];

/** map[k] = the UTF-16 index of code point k of `text` (map[count] = text.length). */
function utf16Index(text) {
  const map = new Int32Array(text.length + 1);
  let k = 0, i = 0;
  for (const ch of text) { // one iteration per code point; a lone surrogate counts as one, as UTF-8's U+FFFD
    map[k++] = i;
    i += ch.length;
  }
  map[k] = i;
  return map;
}

const dbCaches = new WeakMap(); // IDBFactory → the IndexedDB cache adapter over it, one per realm

/**
 * `value instanceof globalThis[type]`, false where the type does not exist. Bytes and primitives are never
 * one of the types asked about, and are answered without the lookup: Node creates Request, Response and
 * Blob on first access, loading its fetch implementation (~40 ms of a cold start that needs none of it).
 */
function isA(value, type) {
  if (value === null || typeof value !== "object" || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return false;
  const T = globalThis[type];
  return typeof T === "function" && value instanceof T;
}

/** The key a source is cached under: options.key, a model name, or the absolute URL. */
function cacheKey(source, options) {
  if (options.key !== undefined) return String(options.key);
  if (isModelName(source)) return source;
  if (typeof source === "string" || source instanceof URL) return resolveUrl(source).href;
  if (isA(source, "Request")) return source.url;
  if (isA(source, "Response")) return source.url || null;
  return null;
}

/** The same model, whatever the source: bytes already in memory. */
function bytesView(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return null;
}

/** Reads a cache entry into wasm memory and checks it; null (and the entry dropped) when it fails. */
async function readCached(engine, cache, key, expected, options, origin) {
  let entry;
  try {
    entry = await cache.get(key);
  } catch (e) {
    origin.cacheError = `read: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
    return null;
  }
  checkAborted(options.signal);
  if (!entry?.data || !entry.manifest?.sha256) return null;
  if (expected && entry.manifest.sha256 !== expected) return null; // another file: go to the network
  const data = entry.data;
  const bytes = bytesView(data);
  const got = bytes ? bytesIntoWasm(engine, bytes, options)
    : await streamIntoWasm(engine, { stream: data.stream(), size: data.size }, options);
  let sha;
  try {
    sha = await sha256Hex(new Uint8Array(engine.memory, got.ptr, got.size));
  } catch (e) {
    engine.exports.free(got.ptr);
    throw e;
  }
  if (sha !== entry.manifest.sha256 || got.size !== entry.manifest.size) {
    engine.exports.free(got.ptr);
    origin.cacheError = "read: the stored bytes do not match their SHA-256; the entry was dropped";
    await cache.delete(key).catch(() => {});
    return null;
  }
  return { ...got, sha256: sha, manifest: entry.manifest };
}

/** Stores a model in the cache; on a full disk evicts other versions of it and tries once more. */
async function storeCached(cache, key, blob, manifest) {
  try {
    await cache.put(key, blob, manifest);
    return "stored";
  } catch (e) {
    if (!isQuotaError(e)) return `not stored: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
  }
  try {
    const evicted = typeof cache.evict === "function" ? await cache.evict(manifest) : 0;
    if (!evicted) return "not stored: quota exceeded";
    await cache.put(key, blob, manifest);
    return `stored after evicting ${evicted} older version${evicted === 1 ? "" : "s"}`;
  } catch (e) {
    return isQuotaError(e) ? "not stored: quota exceeded" : `not stored: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
  }
}

function checkLoadOptions(options) {
  if (options === null || typeof options !== "object")
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: load() options must be an object");
  if (options.onProgress !== undefined && typeof options.onProgress !== "function")
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: onProgress must be a function");
  if (options.signal !== undefined && !(typeof options.signal?.aborted === "boolean" && options.signal.addEventListener))
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: signal must be an AbortSignal");
}

/**
 * Loads a GGUF model into the engine and returns it, ready to run.
 *
 * `source` is a URL (string or URL; file: URLs in Node), a Request, a Response, a Blob, an ArrayBuffer or
 * typed array, or the name of a cached model ("intent-clinc", "intent-clinc@1.0.0"). Network and Blob
 * bodies stream straight into wasm memory.
 *
 * Options: `integrity` (SHA-256 the bytes must have, checked before the engine reads them), `cache`
 * ("indexeddb", the default where IndexedDB exists; "none"; or an adapter, see cache.js), `key` (the cache
 * key; default the URL), `onProgress({loaded, total})`, `signal` (AbortSignal), `simd`
 * ("auto" | "relaxed" | "baseline"), `worker` (true: run in a Web Worker, see worker.js), `wasmUrl`,
 * `wasmModule`.
 * @returns {Promise<Model>}
 */
export async function load(source, options = {}) {
  checkLoadOptions(options);
  if (options.worker) return createWorkerTagger(source, options);
  const { signal, onProgress } = options;
  checkAborted(signal);
  const expected = parseIntegrity(options.integrity);
  const engine = await init(options);
  checkAborted(signal);
  const bytes = bytesView(source);
  const key = cacheKey(source, options);
  const cache = key !== null ? resolveCache(options.cache, dbCaches) : null;
  const origin = { kind: "bytes", url: null, key, sha256: null, cache: cache ? "miss" : "none" };

  // 1. The cache, when there is one for this source.
  if (cache) {
    const hit = await readCached(engine, cache, key, expected, options, origin);
    if (hit) {
      try {
        const model = new Model(engine, hit.ptr, hit.size);
        model.origin = Object.freeze({ ...origin, kind: "cache", url: hit.manifest.url ?? null, sha256: hit.sha256, cache: "hit" });
        return model;
      } catch (e) {
        origin.cacheError = `load: ${e.message}; the entry was dropped`;
        await cache.delete(key).catch(() => {});
        if (isModelName(source)) throw e;
      }
    }
  }
  if (isModelName(source) && !bytes)
    throw new EdgetagError("MISSING", `edgetag: no cached model named ${source}` +
      (cache ? "" : " (there is no cache here: pass cache: an adapter)") + (origin.cacheError ? ` (${origin.cacheError})` : ""));

  // 2. The source itself, streamed into wasm memory.
  let got;
  if (bytes) {
    got = bytesIntoWasm(engine, bytes, { onProgress, signal });
  } else if (isA(source, "Blob")) {
    got = await streamIntoWasm(engine, { stream: source.stream(), size: source.size }, { onProgress, signal });
  } else if (isA(source, "ReadableStream")) {
    got = await streamIntoWasm(engine, { stream: source, size: options.size ?? null }, { onProgress, signal });
  } else if (typeof source === "string" || source instanceof URL || isA(source, "Request") || isA(source, "Response")) {
    const target = typeof source === "string" ? resolveUrl(source) : source;
    const opened = await openSource(target, { signal });
    origin.kind = opened.url.startsWith("file:") ? "file" : "network";
    origin.url = opened.url;
    got = await streamIntoWasm(engine, opened, { onProgress, signal });
  } else {
    throw new EdgetagError("INVALID_ARGUMENT",
      "edgetag: load() takes a URL, Request, Response, Blob, ReadableStream, ArrayBuffer, typed array or cached model name");
  }

  // 3. Integrity, the cache's copy (before the engine repacks the bytes in place), the model.
  let blob = null;
  try {
    if (expected || cache) {
      origin.sha256 = await sha256Hex(new Uint8Array(engine.memory, got.ptr, got.size));
      if (expected && origin.sha256 !== expected)
        throw new EdgetagError("INTEGRITY", `edgetag: the model's SHA-256 is ${origin.sha256}, not the expected ${expected}`);
    }
    checkAborted(signal);
    if (cache) blob = new Blob([new Uint8Array(engine.memory, got.ptr, got.size)]);
  } catch (e) {
    engine.exports.free(got.ptr);
    throw e;
  }
  const model = new Model(engine, got.ptr, got.size);
  if (cache) {
    const manifest = {
      name: model.info.name || key, version: model.info.version || "0", sha256: origin.sha256, size: got.size,
      url: origin.url, task: model.info.task, labels: model.info.nLabels, storedAt: Date.now(), engine: version,
    };
    origin.cache = await storeCached(cache, key, blob, manifest);
  }
  model.origin = Object.freeze({ ...origin });
  return model;
}

export class Model {
  /**
   * Takes over `size` bytes of a GGUF file at `ptr` in the engine's memory (freed here when loading fails).
   * Use load() rather than this constructor.
   * @param {Engine} engine @param {number} ptr @param {number} size
   */
  constructor(engine, ptr, size) {
    this.engine = engine;
    const x = engine.exports;
    this.buffer = ptr;
    this.size = size;
    const out = engine.scratch, err = engine.scratch + 8; // et_model*, then et_error {status, message[252]}
    const params = engine.scratch + 272; // et_model_params: the buffer is ours, let the model repack it
    x.et_model_default_params_by_ref(params);
    engine.i32(params, 2)[1] = 1; // pack_in_place
    const status = x.et_model_load_from_buffer(this.buffer, size, params, out, err);
    if (status !== 0) {
      const message = engine.string(err + 4);
      x.free(this.buffer);
      throw engine.error(status, message);
    }
    this.ptr = engine.i32(out, 1)[0];
    this.info = this.#readInfo();
    this.context = null; // created on first use, grown on demand
  }

  #readInfo() {
    const e = this.engine, s = e.scratch;
    e.exports.et_model_get_info(this.ptr, s);
    const i = e.i32(s, 27), f = e.f32(s, 27);
    const info = {
      task: TASKS[i[0]], nVocab: i[1], nCtx: i[2], nEmbd: i[3], nFF: i[4], nLayer: i[5], nHead: i[6],
      nTokenTypes: i[7], nLabels: i[8], nOut: i[9], hasPooler: i[10] === 1, layerNormEps: f[11],
      temperature: f[12], threshold: Number.isNaN(f[13]) ? null : f[13],
      name: e.string(i[14]), version: e.string(i[15]),
      specialIds: { cls: i[16], sep: i[17], pad: i[18], unk: i[19], mask: i[20] },
      nTensors: i[21], weightsBytes: i[22] >>> 0, ownedBytes: i[23] >>> 0, int8Matrices: i[24], fileBytes: this.size,
      aggregation: AGGREGATIONS[i[26]],
    };
    info.labels = [];
    for (let k = 0; k < info.nLabels; k++) info.labels.push(e.string(e.exports.et_model_label(this.ptr, k)));
    info.entityTypes = [];
    for (let k = 0; k < i[25]; k++) info.entityTypes.push(e.string(e.exports.et_model_entity_type(this.ptr, k)));
    return Object.freeze(info);
  }

  /** Makes sure the context and the input buffers hold `tokens` tokens in `texts` texts. */
  #ensureContext(tokens, texts) {
    const e = this.engine, x = e.exports;
    e.tune();
    const c = this.context;
    if (c && c.maxTokens >= tokens && c.maxTexts >= texts && c.kernels === e.kernels) return c;
    this.#freeContext();
    const maxTokens = Math.max(tokens, c?.maxTokens ?? 0, this.info.nCtx);
    const maxTexts = Math.max(texts, c?.maxTexts ?? 0, 16);
    const p = e.scratch;
    x.et_context_default_params_by_ref(p);
    const params = e.i32(p, 4);
    params[0] = maxTokens; // max_tokens
    params[1] = maxTexts;  // max_texts
    params[3] = e.kernels; // the engine's kernel set (tune() may change it once)
    const out = p + 16;
    const status = x.et_context_create(this.ptr, p, out);
    if (status !== 0) throw e.error(status, `edgetag: cannot create a context for ${maxTokens} tokens`);
    const ctx = {
      ptr: e.i32(out, 1)[0], maxTokens, maxTexts, kernels: e.kernels,
      ids: e.alloc(4 * maxTokens, "token ids"), types: e.alloc(4 * maxTokens, "type ids"),
      lengths: e.alloc(4 * maxTexts, "lengths"),
    };
    this.context = ctx;
    return ctx;
  }

  #freeContext() {
    const c = this.context, x = this.engine.exports;
    if (!c) return;
    x.et_context_free(c.ptr);
    x.free(c.ids), x.free(c.types), x.free(c.lengths);
    this.context = null;
  }

  /** Runs texts (arrays of token ids) as one batch; returns the context. */
  #run(texts, typeIds) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const e = this.engine, x = e.exports;
    const total = texts.reduce((n, t) => n + t.length, 0);
    const c = this.#ensureContext(total, texts.length);
    const ids = e.i32(c.ids, total), lengths = e.i32(c.lengths, texts.length);
    const types = typeIds ? e.i32(c.types, total) : null;
    let at = 0;
    texts.forEach((t, b) => {
      ids.set(t, at);
      if (types) {
        if (!typeIds[b] || typeIds[b].length !== t.length)
          throw new EdgetagError("INVALID_ARGUMENT", `edgetag: type ids of text ${b} do not match its ${t.length} tokens`);
        types.set(typeIds[b], at);
      }
      lengths[b] = t.length;
      at += t.length;
    });
    const status = x.et_context_run(c.ptr, c.ids, types ? c.types : 0, c.lengths, texts.length);
    if (status !== 0) throw e.error(status, e.string(x.et_context_last_error(c.ptr)));
    return c;
  }

  /** Reads a [rows][cols] result through one of the et_context_* getters; copies it out of wasm memory. */
  #result(getter, ...args) {
    const e = this.engine, s = e.scratch, c = this.context;
    const status = getter(c.ptr, ...args, s, s + 4, s + 8);
    if (status !== 0) throw e.error(status, e.string(e.exports.et_context_last_error(c.ptr)));
    const [ptr, rows, cols] = e.i32(s, 3);
    return { rows, cols, data: e.f32(ptr, rows * cols).slice() };
  }

  /** Splits a [rows][cols] batch result per text: a row per token (perToken) or one per text. */
  static #split(result, texts, perToken) {
    const out = [];
    let row = 0;
    for (const t of texts) {
      const rows = perToken ? t.length : 1;
      out.push({ rows, cols: result.cols, data: result.data.slice(row * result.cols, (row + rows) * result.cols) });
      row += rows;
    }
    return out;
  }

  static #batch(input) {
    const single = !(Array.isArray(input) && input.length > 0 && typeof input[0] !== "number");
    return { single, texts: single ? [input] : input };
  }

  /**
   * The head's output: per token for token classification, per text otherwise (for an embedding model,
   * the pooler output). `ids` is one text's token ids or an array of texts (run as one batch).
   * @returns {{rows:number, cols:number, data:Float32Array} | Array<{rows:number, cols:number, data:Float32Array}>}
   */
  logits(ids, { typeIds } = {}) {
    const { single, texts } = Model.#batch(ids);
    this.#run(texts, typeIds && (single ? [typeIds] : typeIds));
    const r = this.#result(this.engine.exports.et_context_logits);
    const split = Model.#split(r, texts, this.info.task === "token_classification");
    return single ? split[0] : split;
  }

  /** The last hidden states, a row of nEmbd per token. */
  hidden(ids, { typeIds } = {}) {
    const { single, texts } = Model.#batch(ids);
    this.#run(texts, typeIds && (single ? [typeIds] : typeIds));
    const split = Model.#split(this.#result(this.engine.exports.et_context_hidden), texts, true);
    return single ? split[0] : split;
  }

  /**
   * One embedding per text: mean (default) or "cls" pooling of the last hidden states, optionally
   * L2-normalized. `input` is a text, an array of texts (one batch), or token ids as for logits().
   */
  embed(input, { typeIds, pooling = "mean", normalize = false } = {}) {
    // Text (a string or an array of strings) is tokenized first, each cut to the model's context.
    const isText = typeof input === "string" || (Array.isArray(input) && input.length > 0 && typeof input[0] === "string");
    const ids = !isText ? input : typeof input === "string" ? this.tokenize(input).ids : input.map((t) => this.tokenize(t).ids);
    if (isText && typeIds !== undefined)
      throw new EdgetagError("INVALID_ARGUMENT", "edgetag: typeIds go with token ids, not with text");
    const { single, texts } = Model.#batch(ids);
    const mode = { mean: 1, cls: 2 }[pooling];
    if (!mode) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: pooling is "mean" or "cls", not ${pooling}`);
    this.#run(texts, typeIds && (single ? [typeIds] : typeIds));
    const r = this.#result(this.engine.exports.et_context_embeddings, mode, normalize ? 1 : 0);
    const split = Model.#split(r, texts, false).map((t) => t.data);
    return single ? split[0] : split;
  }

  /** A wasm buffer of at least `bytes` bytes for `name`, kept between calls and grown on demand. */
  #buffer(name, bytes) {
    const e = this.engine;
    this.buffers ??= {};
    const b = this.buffers[name];
    if (b && b.size >= bytes) return b.ptr;
    if (b) e.exports.free(b.ptr);
    const size = Math.max(bytes, 2 * (b?.size ?? 0), 256);
    this.buffers[name] = { ptr: e.alloc(size, name), size };
    return this.buffers[name].ptr;
  }

  /** Writes a string into wasm memory as UTF-8 (lone surrogates become U+FFFD, one code point each). */
  #utf8(name, text) {
    const e = this.engine;
    if (typeof text !== "string") throw new EdgetagError("INVALID_ARGUMENT", "edgetag: text must be a string");
    const ptr = this.#buffer(name, 3 * text.length + 1);
    const { written } = new TextEncoder().encodeInto(text, new Uint8Array(e.memory, ptr, 3 * text.length + 1));
    return { ptr, len: written };
  }

  /**
   * Tokenizes text (and a second text of a pair) as Hugging Face's BERT tokenizer does:
   * [CLS] text [SEP] (pair [SEP]), cut to maxLength tokens (default: the model's nCtx; Infinity: no cut).
   * Offsets are UTF-16 indices into the text each token came from, so text.slice(start, end) is exact;
   * the template's [CLS]/[SEP] get [0, 0].
   * @returns {{ids: Int32Array, typeIds: Int32Array, offsets: Int32Array}} offsets as start, end pairs
   */
  tokenize(text, { pair, maxLength } = {}) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const e = this.engine, x = e.exports, s = e.scratch;
    const limit = maxLength === undefined ? 0 : maxLength === Infinity ? 0x7fffffff : maxLength;
    if (!Number.isInteger(limit) || limit < 0 || limit > 0x7fffffff)
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: maxLength must be a positive integer or Infinity, not ${maxLength}`);
    const a = this.#utf8("text", text);
    const b = pair === undefined || pair === null ? null : this.#utf8("pair", pair);
    let capacity = Math.min(limit || this.info.nCtx, 2 * ((text.length + (pair?.length ?? 0))) + 3);
    for (;;) {
      const out = this.#buffer("tokens", 16 * capacity);
      const err = this.#buffer("error", 256);
      const status = x.et_tokenize(this.ptr, a.ptr, a.len, b ? b.ptr : 0, b ? b.len : 0, limit, out, out + 4 * capacity,
        out + 8 * capacity, capacity, s, err);
      const n = e.i32(s, 1)[0];
      if (status === CAPACITY && n > capacity) { capacity = n; continue; } // grow and retry
      if (status !== 0) throw e.error(status, e.string(err + 4));
      const ids = e.i32(out, n).slice(), typeIds = e.i32(out + 4 * capacity, n).slice();
      const offsets = e.i32(out + 8 * capacity, 2 * n).slice();
      // Code points to UTF-16: a map per text, applied to each token by the text it came from.
      const mapA = utf16Index(text), mapB = b ? utf16Index(pair) : null;
      for (let i = 0; i < n; i++) {
        const map = typeIds[i] === 1 ? mapB : mapA;
        offsets[2 * i] = map[offsets[2 * i]];
        offsets[2 * i + 1] = map[offsets[2 * i + 1]];
      }
      return { ids, typeIds, offsets };
    }
  }

  /**
   * A long text as overlapping windows ([CLS] … [SEP], at most maxLength tokens, `stride` tokens shared by
   * neighbours), ready for logits()/hidden(): windows[w] holds its ids and UTF-16 offsets, and
   * firstToken[w] the index of its first content token in the whole text's token sequence.
   */
  tokenizeWindows(text, { maxLength = 0, stride = 0 } = {}) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const e = this.engine, x = e.exports, s = e.scratch;
    const a = this.#utf8("text", text);
    const err = this.#buffer("error", 256);
    let status = x.et_tokenize_windows(this.ptr, a.ptr, a.len, maxLength, stride, 0, 0, 0, 0, 0, 0, s, s + 4, err);
    if (status !== 0) throw e.error(status, e.string(err + 4));
    const [nt, nw] = e.i32(s, 2);
    const out = this.#buffer("windows", 12 * nt + 8 * nw);
    const ids = out, offs = out + 4 * nt, lengths = out + 12 * nt, first = lengths + 4 * nw;
    status = x.et_tokenize_windows(this.ptr, a.ptr, a.len, maxLength, stride, ids, offs, nt, lengths, first, nw, s, s + 4, err);
    if (status !== 0) throw e.error(status, e.string(err + 4));
    const map = utf16Index(text), allIds = e.i32(ids, nt), allOffs = e.i32(offs, 2 * nt);
    const len = e.i32(lengths, nw).slice(), firstToken = e.i32(first, nw).slice();
    const windows = [];
    for (let w = 0, at = 0; w < nw; at += len[w], w++) {
      const o = allOffs.slice(2 * at, 2 * (at + len[w]));
      for (let i = 0; i < o.length; i++) o[i] = map[o[i]];
      windows.push({ ids: allIds.slice(at, at + len[w]), offsets: o });
    }
    return { windows, firstToken };
  }

  /**
   * Classifies a text or an array of texts (one batch) with a sequence classifier: the best label, its
   * calibrated probability, every label's, and whether the model's threshold says to escalate (or the
   * label is "oos").
   * @returns {{label: string, score: number, scores: Record<string, number>, escalate: boolean} | Array<...>}
   */
  classify(input) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const single = !Array.isArray(input), texts = single ? [input] : input;
    const e = this.engine, x = e.exports;
    const encoded = texts.map((t) => new TextEncoder().encode(String(t)));
    const bytes = encoded.reduce((n, b) => n + b.length, 0);
    const c = this.#ensureContext(Math.max(texts.length * this.info.nCtx, 1), texts.length);
    const mem = this.#buffer("texts", bytes + 8 * texts.length + 16);
    const ptrs = mem + bytes + ((4 - (bytes % 4)) % 4), lens = ptrs + 4 * texts.length;
    let at = mem;
    encoded.forEach((b, i) => {
      new Uint8Array(e.memory, at, b.length).set(b);
      e.i32(ptrs, texts.length)[i] = at;
      e.i32(lens, texts.length)[i] = b.length; // size_t is 32-bit in wasm32
      at += b.length;
    });
    const status = x.et_context_classify(c.ptr, ptrs, lens, texts.length);
    if (status !== 0) throw e.error(status, e.string(x.et_context_last_error(c.ptr)));
    const s = e.scratch, out = [];
    for (let i = 0; i < texts.length; i++) {
      x.et_context_classification(c.ptr, i, s, s + 4, s + 8, s + 12);
      const [label, , probs, escalate] = e.i32(s, 4);
      const p = e.f32(probs, this.info.nLabels);
      const scores = {};
      this.info.labels.forEach((name, j) => { scores[name] = p[j]; });
      out.push({ label: this.info.labels[label], score: e.f32(s + 4, 1)[0], scores, escalate: escalate === 1 });
    }
    return single ? out[0] : out;
  }

  /**
   * Extracts the entities of a text with a token classifier. Offsets are UTF-16 indices into the text
   * (text.slice(start, end) === entity.text). Long texts run as overlapping windows.
   * @param {string} text
   * @param {{aggregation?: "none"|"simple"|"first"|"average"|"max", stride?: number}} [options]
   * @returns {{entities: Array<{label: string, score: number, start: number, end: number, text: string}>, escalate: boolean}}
   */
  extract(text, { aggregation = this.info.aggregation, stride = -1 } = {}) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const mode = AGGREGATIONS.indexOf(aggregation);
    if (mode < 0) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: unknown aggregation ${aggregation}`);
    const e = this.engine, x = e.exports;
    const a = this.#utf8("text", text);
    // Every window of the text fits: at most about one token per byte, windows overlapping by a quarter.
    const window = this.info.nCtx, tokens = 2 * a.len + 2 * window;
    const c = this.#ensureContext(tokens, Math.ceil(tokens / Math.max(1, Math.floor((window - 2) * 0.75))) + 2);
    const s = e.scratch;
    const status = x.et_context_extract(c.ptr, a.ptr, a.len, mode, stride, s, s + 4, s + 8);
    if (status !== 0) throw e.error(status, e.string(x.et_context_last_error(c.ptr)));
    const [ptr, n, escalate] = e.i32(s, 3);
    const raw = e.i32(ptr, 5 * n), scores = e.f32(ptr, 5 * n);
    const map = utf16Index(text), entities = [];
    for (let i = 0; i < n; i++) {
      const [type, label] = [raw[5 * i], raw[5 * i + 1]];
      const start = map[raw[5 * i + 3]], end = map[raw[5 * i + 4]];
      entities.push({
        label: label >= 0 ? this.info.labels[label] : this.info.entityTypes[type],
        score: scores[5 * i + 2], start, end, text: text.slice(start, end),
      });
    }
    return { entities, escalate: escalate === 1 };
  }

  /** The file's tensor table as the engine read it: name, GGUF type id, ne (fastest first), offset, bytes. */
  tensors() {
    const e = this.engine, s = e.scratch, list = [];
    for (let k = 0; k < this.info.nTensors; k++) {
      const status = e.exports.et_model_tensor_info(this.ptr, k, s);
      if (status !== 0) throw e.error(status);
      const v = e.i32(s, 9);
      list.push({ name: e.string(v[0]), type: v[1], ne: Array.from(v.subarray(3, 3 + v[2])), offset: v[7] >>> 0, nBytes: v[8] >>> 0 });
    }
    return list;
  }

  /** Bytes of wasm memory the engine holds (the module's whole linear memory). */
  get wasmMemoryBytes() { return this.engine.memory.byteLength; }

  /** Frees the model and its context. The object is unusable afterwards; a second call does nothing. */
  dispose() {
    if (!this.ptr) return;
    this.#freeContext();
    for (const b of Object.values(this.buffers ?? {})) this.engine.exports.free(b.ptr);
    this.buffers = {};
    this.engine.exports.et_model_free(this.ptr);
    this.engine.exports.free(this.buffer);
    this.ptr = 0;
  }
}
