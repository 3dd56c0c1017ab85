// load.js — load(): a model from a URL, Request, Response, Blob, stream, bytes or a cached name, checked
// against its integrity, through the cache, into the engine (or into a Web Worker with `worker: true`).

import { EdgetagError } from "./errors.js";
import { checkAborted } from "./abort.js";
import { MAX_MODEL_BYTES, bytesIntoWasm, isModelName, openSource, parseIntegrity, resolveUrl, sha256Hex, streamIntoWasm } from "./source.js";
import { callCache, isQuotaError, resolveCache } from "./cache.js";
import { init, version } from "./engine.js";
import { Model } from "./model.js";
import { own, readLimits } from "./options.js";
import { createWorkerTagger } from "./worker-client.js";

const dbCaches = new WeakMap(); // IDBFactory → the IndexedDB cache adapter over it, one per realm

/**
 * `value instanceof globalThis[type]`, false where the type does not exist. Bytes and primitives are never
 * one of the types asked about, and are answered without the lookup: Node creates Request, Response and
 * Blob on first access, loading its whole fetch implementation, which a load from bytes does not need.
 */
function isA(value, type) {
  if (value === null || typeof value !== "object" || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return false;
  const T = globalThis[type];
  return typeof T === "function" && value instanceof T;
}

/** The key a source is cached under: options.key, a model name, or the absolute URL. */
function cacheKey(source, options) {
  const key = own(options, "key");
  if (key !== undefined) return String(key);
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

/**
 * Was this cache entry stored under `key` by a caller? Its manifest says under which key (and for "name@version",
 * a file of that version stored under the name). Entries of earlier versions of the library carry no key: they
 * answer only their own URL. A file's own general.name never makes an entry answer a name.
 */
function boundTo(manifest, key) {
  if (manifest.key !== undefined) {
    if (manifest.key === key) return true;
    const at = key.lastIndexOf("@");
    return isModelName(key) && at > 0 && manifest.key === key.slice(0, at) && manifest.version === key.slice(at + 1);
  }
  return typeof manifest.url === "string" && manifest.url === key;
}

/**
 * Reads the cache entry of `key` into wasm memory and checks it: null when there is none (or it is not bound to
 * this key), and null after dropping it when it fails — it cannot be read, is malformed or larger than maxBytes,
 * or its bytes are not its SHA-256, or not the integrity it was stored with. The caller then fetches the model.
 */
async function readCached(engine, cache, key, expected, limits, origin) {
  const { signal, cacheTimeoutMs } = limits;
  const call = (method, ...args) => callCache(cache, method, args, { ms: cacheTimeoutMs, signal });
  const drop = async (why, ptr = 0) => {
    if (ptr) engine.exports.free(ptr);
    origin.cacheError = `read: ${why}; the entry was dropped`;
    await call("delete", key).catch(() => {});
    checkAborted(signal);
    return null;
  };
  let entry;
  try {
    entry = await call("get", key);
  } catch (e) {
    checkAborted(signal);
    origin.cacheError = `read: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
    return null;
  }
  checkAborted(signal);
  if (entry === undefined || entry === null) return null;
  const m = entry.manifest;
  if (!m || typeof m !== "object") return drop("the entry has no manifest");
  if (!boundTo(m, key)) return null; // another key's entry, which an adapter may answer by name: not this one's
  if (!entry.data || typeof m.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(m.sha256)) return drop("the entry is not a file with its SHA-256");
  if (expected && m.sha256 !== expected) return null; // another file than the one asked for: go to the network
  if (m.integrity && m.integrity !== m.sha256) return drop("the entry's SHA-256 is not the integrity it was stored with");
  const bytes = bytesView(entry.data);
  const size = bytes ? bytes.byteLength : entry.data.size;
  if (!Number.isSafeInteger(size) || size !== m.size) return drop(`the entry's ${size} bytes are not its manifest's ${m.size}`);
  if (size > limits.maxBytes) return drop(`the entry has ${size} bytes; maxBytes allows ${limits.maxBytes}`);
  let got;
  try {
    got = bytes ? bytesIntoWasm(engine, bytes, limits) : await streamIntoWasm(engine, { stream: entry.data.stream(), size }, limits);
  } catch (e) {
    checkAborted(signal);
    if (e?.code === "OUT_OF_MEMORY") throw e; // the engine is full: not the entry's fault
    return drop(`${e?.name ?? "Error"}: ${e?.message ?? e}`);
  }
  let sha;
  try {
    sha = await sha256Hex(new Uint8Array(engine.memory, got.ptr, got.size));
  } catch (e) {
    engine.exports.free(got.ptr);
    throw e;
  }
  if (sha !== m.sha256) return drop("the stored bytes do not match their SHA-256", got.ptr);
  return { ...got, sha256: sha, manifest: m };
}

/** Stores a model in the cache; on a full disk evicts its other files and tries once more. Never throws. */
async function storeCached(cache, key, blob, manifest, ms) {
  const call = (method, ...args) => callCache(cache, method, args, { ms });
  try {
    await call("put", key, blob, manifest);
    return "stored";
  } catch (e) {
    if (!isQuotaError(e)) return `not stored: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
  }
  try {
    const evicted = typeof cache.evict === "function" ? await call("evict", manifest) : 0;
    if (!evicted) return "not stored: quota exceeded";
    await call("put", key, blob, manifest);
    return `stored after evicting ${evicted} older version${evicted === 1 ? "" : "s"}`;
  } catch (e) {
    return isQuotaError(e) ? "not stored: quota exceeded" : `not stored: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
  }
}

function checkLoadOptions(options) {
  if (options === null || typeof options !== "object")
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: load() options must be an object");
  const onProgress = own(options, "onProgress"), signal = own(options, "signal");
  if (onProgress !== undefined && typeof onProgress !== "function")
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: onProgress must be a function");
  if (signal !== undefined && !(typeof signal?.aborted === "boolean" && signal.addEventListener))
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: signal must be an AbortSignal");
  readLimits(options); // every limit in range, before anything starts
}

/**
 * Loads a GGUF model into the engine and returns it, ready to run.
 *
 * `source` is a URL (string or URL; file: URLs in Node), a Request, a Response, a Blob, an ArrayBuffer or
 * typed array, or the name a cached model was stored under ("intent-clinc", "intent-clinc@1.0.0": see `key`).
 * Network and Blob bodies stream straight into wasm memory.
 *
 * Options (read from the object's own properties only): `integrity` (SHA-256 the bytes must have, checked before
 * the engine reads them), `cache` ("indexeddb", the default where IndexedDB exists; "none"; or an adapter, see
 * cache.js), `key` (what the cache stores it under and a later load finds it by; default the URL),
 * `onProgress({loaded, total})`, `signal` (AbortSignal), `simd` ("auto" | "relaxed" | "baseline"), `worker`
 * (true: run in a Web Worker, see worker-client.js), `wasmUrl`, `wasmModule`, and the limits of options.js:
 * `maxMemory` (the engine's), `maxBytes`, `stallTimeoutMs`, `cacheTimeoutMs` (loading), `batchTokens`,
 * `maxTextChars`, `maxTexts`, `maxTokens` (the model's calls).
 * It resolves once the bytes are verified and the model loaded: a cache write of a model fetched or read
 * elsewhere starts after, `model.origin.cache` says "storing", and `model.cached` resolves with the final
 * origin ("stored", "not stored: …") when the write settles; a failed write never throws.
 * @returns {Promise<Model>}
 */
export async function load(source, options = {}) {
  checkLoadOptions(options);
  if (own(options, "worker")) return createWorkerTagger(source, options);
  const signal = own(options, "signal"), onProgress = own(options, "onProgress");
  checkAborted(signal);
  const expected = parseIntegrity(own(options, "integrity"));
  const engine = await init(options);
  checkAborted(signal);
  const given = readLimits(options, ["maxBytes", "stallTimeoutMs", "cacheTimeoutMs"]);
  const limits = { ...given, maxBytes: given.maxBytes ?? Math.min(engine.maxMemory, MAX_MODEL_BYTES), signal, onProgress };
  const bytes = bytesView(source);
  const key = cacheKey(source, options);
  const cache = key !== null ? resolveCache(own(options, "cache"), dbCaches) : null;
  const origin = { kind: "bytes", url: null, key, sha256: null, cache: cache ? "miss" : "none" };

  // 1. The cache, when there is one for this source.
  if (cache) {
    const hit = await readCached(engine, cache, key, expected, limits, origin);
    if (hit) {
      try {
        const model = new Model(engine, hit.ptr, hit.size, options);
        return settled(model, { ...origin, kind: "cache", url: hit.manifest.url ?? null, sha256: hit.sha256, cache: "hit" });
      } catch (e) {
        if (e?.code === "OUT_OF_MEMORY" || e?.code === "INVALID_ARGUMENT") throw e; // the engine's or the caller's, not the entry's
        origin.cacheError = `load: ${e.message}; the entry was dropped`;
        await callCache(cache, "delete", [key], { ms: limits.cacheTimeoutMs, signal }).catch(() => {});
        checkAborted(signal);
        if (isModelName(source)) throw e;
      }
    }
  }
  if (isModelName(source) && !bytes)
    throw new EdgetagError("MISSING", `edgetag: no cached model named ${source}` +
      (cache ? " (a name finds what was loaded with that key: load(url, {key: name}))" : " (there is no cache here: pass cache: an adapter)") +
      (origin.cacheError ? ` (${origin.cacheError})` : ""));

  // 2. The source itself, streamed into wasm memory, within maxBytes; a body that stalls fails.
  let got;
  if (bytes) {
    got = bytesIntoWasm(engine, bytes, limits);
  } else if (isA(source, "Blob")) {
    got = await streamIntoWasm(engine, { stream: source.stream(), size: source.size }, limits);
  } else if (isA(source, "ReadableStream")) {
    got = await streamIntoWasm(engine, { stream: source, size: own(options, "size") ?? null }, limits);
  } else if (typeof source === "string" || source instanceof URL || isA(source, "Request") || isA(source, "Response")) {
    const target = typeof source === "string" ? resolveUrl(source) : source;
    const opened = await openSource(target, limits);
    origin.kind = opened.url.startsWith("file:") ? "file" : "network";
    origin.url = opened.url;
    got = await streamIntoWasm(engine, opened, limits);
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
  const model = new Model(engine, got.ptr, got.size, options);
  if (!cache) return settled(model, origin);
  // 4. The answer does not wait for the cache: the write runs after, and its outcome lands in the origin. The entry
  // is bound to the key it is stored under and to the integrity it was checked against.
  const manifest = {
    key, integrity: expected, name: model.info.name || key, version: model.info.version || "0", sha256: origin.sha256,
    size: got.size, url: origin.url, task: model.info.task, labels: model.info.nLabels, storedAt: Date.now(), engine: version,
  };
  model.origin = Object.freeze({ ...origin, cache: "storing" });
  model.cached = storeCached(cache, key, blob, manifest, limits.cacheTimeoutMs)
    .catch((e) => `not stored: ${e?.name ?? "Error"}: ${e?.message ?? e}`)
    .then((outcome) => (model.origin = Object.freeze({ ...origin, cache: outcome })));
  return model;
}

/** A model whose origin is final: `cached` resolves with it at once. */
function settled(model, origin) {
  model.origin = Object.freeze({ ...origin });
  model.cached = Promise.resolve(model.origin);
  return model;
}
