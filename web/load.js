// load.js — load(): a model from a URL, Request, Response, Blob, stream, bytes or a cached name, checked
// against its integrity, through the cache, into the engine (or into a Web Worker with `worker: true`).

import { EdgetagError } from "./errors.js";
import { bytesIntoWasm, checkAborted, isModelName, openSource, parseIntegrity, resolveUrl, sha256Hex, streamIntoWasm } from "./source.js";
import { isQuotaError, resolveCache } from "./cache.js";
import { init, version } from "./engine.js";
import { Model } from "./model.js";
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
 * ("auto" | "relaxed" | "baseline"), `worker` (true: run in a Web Worker, see worker-client.js), `wasmUrl`,
 * `wasmModule`.
 * It resolves once the bytes are verified and the model loaded: a cache write of a model fetched or read
 * elsewhere starts after, `model.origin.cache` says "storing", and `model.cached` resolves with the final
 * origin ("stored", "not stored: …") when the write settles; a failed write never throws.
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
        return settled(model, { ...origin, kind: "cache", url: hit.manifest.url ?? null, sha256: hit.sha256, cache: "hit" });
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
  if (!cache) return settled(model, origin);
  // 4. The answer does not wait for the cache: the write runs after, and its outcome lands in the origin.
  const manifest = {
    name: model.info.name || key, version: model.info.version || "0", sha256: origin.sha256, size: got.size,
    url: origin.url, task: model.info.task, labels: model.info.nLabels, storedAt: Date.now(), engine: version,
  };
  model.origin = Object.freeze({ ...origin, cache: "storing" });
  model.cached = storeCached(cache, key, blob, manifest)
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
