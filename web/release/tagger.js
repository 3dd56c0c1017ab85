// tagger.js — ReleaseTagger: what a release channel hands its caller. It has a Model's (or a WorkerTagger's)
// methods and sends each call to the version serving when the call starts; a swap changes the version for
// the calls that start after it, while the calls already running finish on the old one, which is disposed
// once the last of them has returned. The updater (updater.js) decides what serves; this file only serves.
//
// Events (an EventTarget; each a CustomEvent whose `detail` is given): "update" {version, previous},
// "rollback" {version, code, reason, serving}, "progress" {version, loaded, total}, "skip" {version, reason},
// "check" {outcome, version, error?}.

import { EdgetagError } from "../errors.js";
import { CONFIDENCE_BOUNDS, LATENCY_BOUNDS_MS, histogram, observe } from "../escalate/stats.js";

/** The methods a ReleaseTagger passes through, as a Model and a WorkerTagger have them. */
export const METHODS = Object.freeze(["classify", "extract", "embed", "tokenize", "tokenizeWindows", "logits", "hidden", "tensors"]);

const now = () => globalThis.performance?.now() ?? Date.now();

function emptyStats() {
  return {
    requests: Object.fromEntries(METHODS.map((m) => [m, 0])),
    errors: {},
    latencyMs: histogram(LATENCY_BOUNDS_MS),
    confidence: histogram(CONFIDENCE_BOUNDS),
    byVersion: {},
    updates: 0,
    rollbacks: 0,
  };
}

/** One version serving, or retired and finishing its calls: the tagger, its release, its calls in flight. */
export class Slot {
  constructor(tagger, release, origin) {
    this.tagger = tagger;
    this.release = release;
    this.origin = origin;
    this.inFlight = 0;
    this.retired = false;
    this.disposed = null; // the promise of its dispose(), once started
  }

  /** Disposes the tagger now if no call is running, else when the last one returns. */
  retire() {
    this.retired = true;
    this.#disposeIfIdle();
  }

  done() {
    this.inFlight--;
    this.#disposeIfIdle();
  }

  #disposeIfIdle() {
    if (!this.retired || this.inFlight > 0 || this.disposed) return;
    this.disposed = Promise.resolve().then(() => this.tagger.dispose?.()).catch(() => {});
  }
}

export class ReleaseTagger extends EventTarget {
  #slot = null;
  #control;
  #stats = emptyStats();

  /**
   * @param {{async: boolean, state(): object, checkNow(options?: object): Promise<object>, abortUpdate(reason?: unknown): void,
   *          dispose(): Promise<void>}} control the updater; `async`: the versions are WorkerTaggers
   */
  constructor(control) {
    super();
    this.#control = control;
    for (const m of METHODS) this[m] = (...args) => this.#call(m, args);
  }

  /** The serving version's slot (the updater's view). */
  get slot() {
    return this.#slot;
  }

  /** Serves `slot` from now on; the slot it replaces finishes its calls and is then disposed. Answers that one. */
  swap(slot) {
    const old = this.#slot;
    this.#slot = slot;
    old?.retire();
    return old;
  }

  /** Emits a CustomEvent. */
  emit(type, detail) {
    if (type === "update" && detail.previous !== null) this.#stats.updates++; // not the first install
    if (type === "rollback") this.#stats.rollbacks++;
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** The serving model's info (null before the first version serves and after dispose()). */
  get info() {
    return this.#slot?.tagger.info ?? null;
  }

  /** The version serving, as its manifest names it. */
  get version() {
    return this.#slot?.release.version ?? null;
  }

  /** The serving file's SHA-256. */
  get sha256() {
    return this.#slot?.release.sha256 ?? null;
  }

  /** Where the serving version's bytes came from: {kind: "cache" | "network", url, key, sha256}. */
  get origin() {
    return this.#slot?.origin ?? null;
  }

  /** The engine build the serving model runs on ("relaxed" | "baseline"; null in a worker, where it is not known). */
  get flavour() {
    return this.#slot?.tagger.engine?.flavour ?? null;
  }

  /** The serving engine's wasm memory in bytes. */
  get wasmMemoryBytes() {
    return this.#slot?.tagger.wasmMemoryBytes ?? 0;
  }

  /** The channel's state: phase, versions, rollout, bad and skipped versions, the last check (updater.js). */
  get state() {
    return this.#control.state();
  }

  /** Checks the manifest now (a check under way is joined): resolves with the check's outcome. */
  checkNow(options) {
    return this.#control.checkNow(options);
  }

  /** Stops a download under way; the version is not marked bad and is tried again at the next check. */
  abortUpdate(reason) {
    this.#control.abortUpdate(reason);
  }

  #call(method, args) {
    const slot = this.#slot;
    if (!slot) return this.#fail(new EdgetagError("STATE", "edgetag: the release channel was disposed"));
    if (typeof slot.tagger[method] !== "function")
      return this.#fail(new EdgetagError("UNSUPPORTED", `edgetag: the serving tagger has no ${method}()`));
    const st = this.#stats, t0 = now();
    st.requests[method]++;
    st.byVersion[slot.release.version] = (st.byVersion[slot.release.version] ?? 0) + 1;
    slot.inFlight++;
    let result;
    try {
      result = slot.tagger[method](...args);
    } catch (e) {
      slot.done();
      this.#error(e);
      throw e;
    }
    if (typeof result?.then !== "function") {
      slot.done();
      this.#observe(method, result, t0);
      return result;
    }
    return result.then((value) => {
      slot.done();
      this.#observe(method, value, t0);
      return value;
    }, (e) => {
      slot.done();
      this.#error(e);
      throw e;
    });
  }

  /** A Model's methods throw; a WorkerTagger's reject: a failure looks like the serving tagger's own. */
  #fail(error) {
    if (this.#control.async) return Promise.reject(error);
    throw error;
  }

  #error(e) {
    const code = e?.code ?? e?.name ?? "Error";
    this.#stats.errors[code] = (this.#stats.errors[code] ?? 0) + 1;
  }

  #observe(method, value, t0) {
    const st = this.#stats;
    observe(st.latencyMs, now() - t0);
    const results = Array.isArray(value) ? value : [value];
    if (method === "classify") for (const r of results) observe(st.confidence, r?.score);
    if (method === "extract") for (const r of results) for (const e of r?.entities ?? []) observe(st.confidence, e.score);
  }

  /**
   * Counters since start (or resetStats()): calls per method and per version, errors by code, latency and
   * confidence histograms, updates and rollbacks; with the serving version and engine build. Never any text.
   */
  stats() {
    const s = this.#stats, h = (x) => ({ bounds: [...x.bounds], counts: [...x.counts] });
    const st = this.state;
    return {
      version: this.version, channel: st.channel, flavour: this.flavour,
      requests: { ...s.requests }, errors: { ...s.errors }, latencyMs: h(s.latencyMs), confidence: h(s.confidence),
      byVersion: { ...s.byVersion }, updates: s.updates, rollbacks: s.rollbacks,
    };
  }

  /** Zeroes the counters. */
  resetStats() {
    this.#stats = emptyStats();
  }

  /** Stops checking and downloading, and disposes the serving version once its calls have returned. Idempotent. */
  async dispose() {
    await this.#control.dispose();
    const old = this.swap(null);
    await old?.disposed;
  }
}
