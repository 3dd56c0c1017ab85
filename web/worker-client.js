// worker-client.js — a tagger whose engine runs in a dedicated Web Worker (a worker thread in Node), so the page's
// main thread stays responsive. Same methods as a Model, each returning a Promise.
//
//   import { createWorkerTagger } from "./edgetag.js";          // or load(source, {worker: true})
//   const tagger = await createWorkerTagger("/models/intent-clinc.gguf", {onProgress, signal});
//   const {label, score} = await tagger.classify("book a table for two");
//   tagger.dispose();                                             // ends the worker
//
// The model's bytes are fetched (and cached, and checked) inside the worker: the page never holds them.
// Results with typed arrays (logits, embed, tokenize) come back transferred, not copied.

import { EdgetagError } from "./errors.js";
import { LIMITS, own } from "./options.js";
import { nodeBuiltin } from "./runtime.js";
import { checkAborted, isModelName, resolveUrl } from "./source.js";

/** worker-main.js beside this file, for Node's worker threads (see spawn() for why it is not a literal there). */
const WORKER_MAIN = "./worker-main.js";

/**
 * A worker with one interface in browsers, Deno and Node: post(msg, transfer), onMessage(fn), onError(fn).
 * `url` is the caller's workerUrl; without one, worker-main.js beside this file, named in the literal
 * `new Worker(new URL("./worker-main.js", import.meta.url), …)` form that bundlers (Vite, webpack) recognise
 * and ship as a worker chunk. Nothing here runs at import time.
 */
async function spawn(url) {
  if (typeof Worker === "function") {
    const options = { type: "module", name: "edgetag" };
    let w;
    try {
      // The options are written out as a literal: Vite reads them to build the worker as a module.
      w = url ? new Worker(url, options) : new Worker(new URL("./worker-main.js", import.meta.url), { type: "module", name: "edgetag" });
    } catch (e) {
      // A page may not start a worker from another origin (the library served by a CDN): a same-origin blob:
      // module that imports it may, where the CDN allows CORS; import.meta.url inside is still the CDN's URL.
      if (e?.name !== "SecurityError") throw e;
      const blob = URL.createObjectURL(new Blob([`import ${JSON.stringify(String(url ?? new URL(WORKER_MAIN, import.meta.url)))};\n`],
        { type: "text/javascript" }));
      w = new Worker(blob, options);
      const free = () => URL.revokeObjectURL(blob);
      w.addEventListener("message", free, { once: true });
      w.addEventListener("error", free, { once: true });
    }
    return {
      post: (m, t) => w.postMessage(m, t ?? []),
      onMessage: (fn) => w.addEventListener("message", (e) => fn(e.data)),
      onError: (fn) => {
        w.addEventListener("error", (e) => { e.preventDefault?.(); fn(new Error(e.message || "the worker failed to start")); });
        w.addEventListener("messageerror", () => fn(new Error("a message from the worker could not be read")));
      },
      ref() {}, unref() {},
      terminate: () => w.terminate(),
    };
  }
  // Node: the URL is not written as a literal here, which would make bundlers ship a raw copy of the file for
  // browsers, where this branch never runs.
  const { Worker: NodeWorker } = await nodeBuiltin("node:worker_threads");
  const w = new NodeWorker(url ?? new URL(WORKER_MAIN, import.meta.url));
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (fn) => w.on("message", fn),
    onError: (fn) => {
      w.on("error", fn);
      w.on("exit", (code) => fn(new Error(`the worker exited (code ${code})`)));
    },
    ref: () => w.ref(), unref: () => w.unref(),
    terminate: () => w.terminate(),
  };
}

/** The wasmUrl option as the worker can read it: absolute URLs, of one build or of both ({relaxed, baseline}). */
function absoluteWasmUrl(option) {
  if (!option) return undefined;
  const absolute = (u) => (u === undefined || u === null ? undefined : new URL(u, globalThis.location?.href).href);
  if (typeof option === "object" && !(option instanceof URL))
    return { relaxed: absolute(option.relaxed), baseline: absolute(option.baseline) };
  return absolute(option);
}

/** The source as something that can cross into the worker: a URL string, a Blob, bytes, or a stream. */
async function portable(source, options) {
  if (isModelName(source)) return { source };
  if (typeof source === "string" || source instanceof URL) return { source: resolveUrl(source).href };
  if (typeof Request === "function" && source instanceof Request) {
    // A Request may carry headers and credentials the worker cannot see: fetch it here, stream the body over.
    source = await fetch(source, { signal: options.signal });
  }
  if (typeof Response === "function" && source instanceof Response) {
    if (!source.ok) throw new EdgetagError("IO", `edgetag: fetching ${source.url || "the model"} failed: HTTP ${source.status}`);
    const length = source.headers.get("content-length");
    const identity = (source.headers.get("content-encoding") ?? "identity") === "identity";
    const size = identity && length !== null && Number.isSafeInteger(Number(length)) ? Number(length) : null;
    return { source: source.body, transfer: [source.body], size, key: options.key ?? (source.url || undefined) };
  }
  if (source instanceof ArrayBuffer) return { source, transfer: options.transfer ? [source] : [] };
  if (ArrayBuffer.isView(source)) {
    const whole = source.byteOffset === 0 && source.byteLength === source.buffer.byteLength;
    return { source, transfer: options.transfer && whole ? [source.buffer] : [] };
  }
  return { source }; // Blob, ReadableStream (transferred), or an invalid source the worker rejects
}

/**
 * Loads a model in a new dedicated worker. Options are load()'s, except that `cache` is "indexeddb" or
 * "none" (an adapter object cannot cross into the worker) and `transfer: true` hands an ArrayBuffer
 * source over to the worker instead of copying it (the caller's buffer is detached).
 * @returns {Promise<WorkerTagger>}
 */
export async function createWorkerTagger(source, options = {}) {
  const { signal, onProgress } = options;
  checkAborted(signal);
  if (options.cache !== undefined && typeof options.cache === "object")
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: a cache adapter cannot cross into a worker; use \"indexeddb\" or \"none\"");
  if (options.wasmModule && typeof Worker !== "function")
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: wasmModule cannot be sent to a Node worker thread; use wasmUrl");
  const tagger = new WorkerTagger(await spawn(options.workerUrl ? new URL(options.workerUrl, globalThis.location?.href) : null));
  try {
    const p = await portable(source, options);
    const sent = {
      integrity: options.integrity, cache: options.cache, key: p.key ?? options.key, simd: options.simd,
      wasmUrl: absoluteWasmUrl(options.wasmUrl),
      wasmModule: options.wasmModule, size: p.size ?? options.size,
      ...Object.fromEntries(Object.keys(LIMITS).map((name) => [name, own(options, name)])), // numbers: they cross as they are
    };
    const { info, origin } = await tagger._send({ op: "load", source: p.source, options: sent, progress: !!onProgress },
      p.transfer ?? [], { signal, onProgress });
    tagger.info = info;
    tagger._loaded(origin);
    return tagger;
  } catch (e) {
    tagger.terminate();
    throw e;
  }
}

/** A Model in a worker: the same methods, returning promises. */
export class WorkerTagger {
  #worker;
  #pending = new Map(); // id → {resolve, reject, onProgress}
  #next = 1;
  #dead = null; // the error every later call gets, once the worker is gone
  #settleCache = null; // resolves `cached`, once

  constructor(worker) {
    this.#worker = worker;
    /** The model's info (as Model.info), once loaded. */
    this.info = null;
    /** Where the model came from (as Model.origin): origin.cache "storing" until the worker's cache write settles. */
    this.origin = null;
    /** Resolves with the final origin once the worker's cache write has settled (at once when there was none). */
    this.cached = new Promise((resolve) => { this.#settleCache = resolve; });
    /** Bytes of the worker's wasm memory, as of the last answer. */
    this.wasmMemoryBytes = 0;
    worker.onMessage((m) => this.#receive(m));
    worker.onError((e) => this.#die(new EdgetagError("STATE", `edgetag: the worker stopped: ${e?.message ?? e}`)));
    worker.unref();
  }

  /** The load's answer: the origin, final unless the worker is still writing the model to its cache. */
  _loaded(origin) {
    if (!this.#settleCache) return; // the write's outcome came first
    this.origin = origin;
    if (origin?.cache !== "storing") this.#cacheSettled(origin);
  }

  #cacheSettled(origin) {
    this.origin = origin;
    this.#settleCache?.(origin);
    this.#settleCache = null;
  }

  #receive(m) {
    if (m?.type === "cached") { this.#cacheSettled(m.origin); return; }
    const p = this.#pending.get(m?.id);
    if (!p) return;
    if (m.type === "progress") { p.onProgress?.({ loaded: m.loaded, total: m.total }); return; }
    this.#settle(m.id);
    if (m.type === "result") {
      this.wasmMemoryBytes = m.memory;
      p.resolve(m.value);
    } else {
      const { name, code, message } = m.error;
      p.reject(name === "EdgetagError" ? new EdgetagError(code, message)
        : name === "AbortError" ? new DOMException(message, "AbortError") : Object.assign(new Error(message), { name }));
    }
  }

  #settle(id) {
    const p = this.#pending.get(id);
    this.#pending.delete(id);
    p?.cleanup?.();
    if (this.#pending.size === 0) this.#worker.unref();
  }

  #die(error) {
    if (this.#dead) return;
    this.#dead = error;
    if (this.origin?.cache === "storing") this.#cacheSettled({ ...this.origin, cache: `not stored: ${error.message}` });
    else this.#settleCache?.(this.origin);
    for (const [id, p] of this.#pending) { this.#settle(id); p.reject(error); }
  }

  /** Posts a message and waits for its answer; `signal` rejects at once and tells the worker to stop. */
  _send(msg, transfer = [], { signal, onProgress } = {}) {
    if (this.#dead) return Promise.reject(this.#dead);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, onProgress };
      if (signal) {
        const onAbort = () => {
          this.#worker.post({ op: "abort", target: id });
          this.#settle(id);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        entry.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.#pending.set(id, entry);
      this.#worker.ref();
      try {
        this.#worker.post({ id, ...msg }, transfer);
      } catch (e) {
        this.#settle(id);
        reject(new EdgetagError("INVALID_ARGUMENT", `edgetag: cannot send this to the worker: ${e.message}`));
      }
    });
  }

  #call(method, args, signal) {
    if (!this.info) return Promise.reject(new EdgetagError("STATE", "edgetag: the model was disposed"));
    return this._send({ op: "call", method, args }, [], { signal });
  }

  /** As Model.classify; `options.signal` drops the call if it has not started. */
  classify(input, options = {}) { return this.#call("classify", [input], options.signal); }
  extract(text, options = {}) {
    const { signal, ...rest } = options;
    return this.#call("extract", [text, rest], signal);
  }
  tokenize(text, options = {}) { return this.#call("tokenize", [text, options]); }
  tokenizeWindows(text, options = {}) { return this.#call("tokenizeWindows", [text, options]); }
  embed(input, options = {}) { return this.#call("embed", [input, options]); }
  logits(ids, options = {}) { return this.#call("logits", [ids, options]); }
  hidden(ids, options = {}) { return this.#call("hidden", [ids, options]); }
  tensors() { return this.#call("tensors", []); }

  /**
   * Frees the model and ends the worker, once a cache write still running has settled. Later calls reject with
   * EdgetagError("STATE"). Idempotent.
   */
  async dispose() {
    if (!this.info) return;
    this.info = null;
    await this.cached;
    try {
      await this._send({ op: "dispose" });
    } catch { /* the worker is gone already */ }
    this.terminate();
  }

  /** Ends the worker at once (a running call is cut off and rejects). */
  terminate() {
    this.info = null;
    this.#die(new EdgetagError("STATE", "edgetag: the worker was terminated"));
    this.#worker.terminate();
  }
}
