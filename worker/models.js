// models.js — the isolate's models: one engine and, per configured name, one loaded model (and its
// escalating wrapper), made on first use and kept for the isolate's life.
//
// The contract:
//   - get(name) resolves the ready entry, loading it first when needed. Overlapping requests share one load
//     (one promise per model), so a cold isolate hit by many requests loads each model once.
//   - A load that fails (source missing, integrity, corrupt file, wrong task, timeout) is remembered: its
//     error is what /v1/health and /v1/models report, requests for the model get 503 model_unavailable with
//     that error and Retry-After, and the load is tried again only once the backoff has passed (loadRetryMs,
//     doubled per consecutive failure, at most 5 minutes), by the first request after it.
//   - A model that fails is never served: it is not kept, so nothing can run on bytes that failed a check.
//   - A model from a signed release (source "manifest", release.js) is a release channel: once ready, a request
//     that finds its check due starts one in the background (ctx.waitUntil); an update is swapped in between
//     requests, and a version that fails is marked bad while the last good one keeps serving (health says so).
// State per entry: idle → loading → ready | failed (→ loading again after the backoff).

import { init, load } from "../web/edgetag.js";
import { captureStoreFor } from "./capture.js";
import { escalatingTagger, redactor } from "./escalation.js";
import { ServiceError } from "./http.js";
import { describeRelease, openChannel } from "./release.js";
import { openSource } from "./sources.js";

const MAX_RETRY_MS = 300_000;

/** The task a request endpoint needs, by the model's info.task. */
export const TASKS = Object.freeze({ sequence_classification: "classify", token_classification: "extract" });

async function sha256Hex(bytes) {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", view));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An error's message without the library's "edgetag: " prefix. */
const messageOf = (e) => String(e?.message ?? e).replace(/^edgetag: /, "");

export class Registry {
  #entries = new Map();
  #config;
  #deps;
  #redact;

  /**
   * @param {object} config the service's configuration (config.js)
   * @param {{env: object, wasmModule?: WebAssembly.Module, bundled?: object, log: object, now?: () => number,
   *          fetch?: typeof fetch}} deps
   */
  constructor(config, deps) {
    this.#config = config;
    this.#deps = { now: Date.now, ...deps };
    for (const spec of config.models)
      this.#entries.set(spec.name, { name: spec.name, spec, state: "idle", model: null, tagger: null, loading: null,
        error: null, failures: 0, failedLoads: 0, retryAt: 0, loads: 0, loadMs: null, loadedAt: null, sha256: null, manifest: null,
        checkedAt: 0, checking: null });
    this.#redact = config.escalation ? redactor(config.escalation.redact, this, config.escalation.redactMinProbability) : null;
    this.captureStore = config.capture ? captureStoreFor(config.capture, deps.env, deps.captureFile) : null;
  }

  names() {
    return [...this.#entries.keys()];
  }

  has(name) {
    return this.#entries.has(name);
  }

  /** The engine (instantiated once per isolate, by the first caller): flavour, kernels, version. */
  engine() {
    return init({ wasmModule: this.#deps.wasmModule, maxMemory: this.#config.maxMemory });
  }

  /**
   * The ready entry for `name` (loaded now if needed); throws ServiceError 404 or 503. `waitUntil` (the request's
   * ctx.waitUntil) lets a release channel whose check is due run one in the background.
   */
  async get(name, { waitUntil } = {}) {
    const entry = this.#entries.get(name);
    if (!entry) throw new ServiceError(404, "unknown_model", `there is no model named ${JSON.stringify(name)} (there are ${this.names().join(", ")})`);
    if (entry.state === "ready") {
      if (waitUntil && entry.spec.source === "manifest") this.#checkIfDue(entry, waitUntil);
      return entry;
    }
    if (!entry.loading) {
      const wait = entry.retryAt - this.#deps.now();
      if (entry.state === "failed" && wait > 0) throw this.#unavailable(entry, wait);
      entry.loading = this.#load(entry).finally(() => { entry.loading = null; });
    }
    await entry.loading;
    if (entry.state !== "ready") throw this.#unavailable(entry, entry.retryAt - this.#deps.now());
    return entry;
  }

  /** Loads every model that is not ready and not waiting out a backoff; resolves once all have settled. */
  async loadAll() {
    await Promise.all(this.names().map((n) => this.get(n).catch(() => {})));
  }

  /** Starts a release channel's check in the background when checkIntervalSeconds have passed since the last. */
  #checkIfDue(entry, waitUntil) {
    const { now, log } = this.#deps;
    if (entry.checking || now() - entry.checkedAt < entry.spec.checkIntervalSeconds * 1000) return;
    entry.checkedAt = now();
    entry.checking = entry.model.checkNow().then((r) => {
      const fields = { model: entry.name, outcome: r.outcome, version: r.version, ...(r.error && { code: r.error.code ?? r.error.name }) };
      if (r.outcome === "failed") log.warn("release_check_failed", fields);
      else log.info("release_check", fields);
    }).finally(() => { entry.checking = null; });
    waitUntil(entry.checking);
  }

  #unavailable(entry, waitMs) {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return new ServiceError(503, "model_unavailable", `model ${entry.name} is unavailable: ${entry.error.message}`,
      { "retry-after": String(seconds) });
  }

  async #load(entry) {
    const { log, now } = this.#deps;
    const t0 = now();
    entry.state = "loading";
    let model = null;
    try {
      const signal = AbortSignal.timeout(this.#config.loadTimeoutMs);
      let opened, sha256;
      if (entry.spec.source === "manifest") {
        model = await openChannel(entry.spec, this.#deps.env, { wasmModule: this.#deps.wasmModule, fetch: this.#deps.fetch, signal,
          limits: { maxMemory: this.#config.maxMemory, batchTokens: this.#config.batchTokens, maxTextChars: this.#config.maxTextChars,
            maxTexts: this.#config.maxTexts } });
        this.#watch(entry, model);
        opened = { where: `manifest ${entry.spec.manifest}`, manifest: null };
        sha256 = model.sha256;
        entry.checkedAt = now();
      } else {
        opened = await openSource(entry.spec, this.#deps.env, { bundled: this.#deps.bundled, fetch: this.#deps.fetch, signal });
        sha256 = opened.sha256 ?? await sha256Hex(opened.source); // a bundled model without one: computed, for /v1/models
        model = await load(opened.source, {
          wasmModule: this.#deps.wasmModule, cache: "none", signal, maxMemory: this.#config.maxMemory,
          batchTokens: this.#config.batchTokens, maxTextChars: this.#config.maxTextChars, maxTexts: this.#config.maxTexts,
          ...(opened.sha256 && { integrity: opened.sha256 }), ...(opened.size !== null && { size: opened.size }),
        });
      }
      const task = TASKS[model.info.task];
      if (!task) throw new ServiceError(500, "unsupported_task", `the model's task is ${model.info.task}; the service classifies and extracts`);
      if (entry.spec.task && entry.spec.task !== task)
        throw new ServiceError(500, "wrong_task", `the configuration says task ${entry.spec.task}, the file is a ${model.info.task} model`);
      if (opened.manifest?.task && opened.manifest.task !== task && opened.manifest.task !== model.info.task)
        throw new ServiceError(500, "wrong_task", `the manifest says task ${opened.manifest.task}, the file is a ${model.info.task} model`);
      entry.tagger = escalatingTagger(model, entry.spec, this.#config, this.#redact, this.captureStore);
      Object.assign(entry, { model, state: "ready", error: null, failures: 0, retryAt: 0, loadMs: now() - t0,
        loadedAt: new Date(now()).toISOString(), sha256, manifest: opened.manifest, where: opened.where });
      entry.loads++;
      log.info("model_loaded", { model: entry.name, source: opened.where, bytes: model.info.fileBytes, sha256, version: model.info.version,
        ms: entry.loadMs, wasmBytes: model.wasmMemoryBytes });
    } catch (e) {
      model?.dispose();
      entry.model = null;
      entry.tagger = null;
      entry.failures++;
      entry.failedLoads++;
      const backoff = Math.min(MAX_RETRY_MS, this.#config.loadRetryMs * 2 ** (entry.failures - 1));
      entry.retryAt = now() + backoff;
      entry.state = "failed";
      const code = e?.name === "TimeoutError" ? "TIMEOUT" : String(e?.code ?? "LOAD_FAILED").toUpperCase();
      const message = e?.name === "TimeoutError" ? `loading took more than ${this.#config.loadTimeoutMs} ms` : messageOf(e);
      entry.error = { code, message, at: new Date(now()).toISOString() };
      log.error("model_failed", { model: entry.name, source: entry.spec.source, code, message, failures: entry.failures, retryInMs: backoff });
    }
  }

  /** Logs a release channel's updates and rollbacks. */
  #watch(entry, channel) {
    const { log } = this.#deps;
    channel.addEventListener("update", (e) => log.info("model_updated", { model: entry.name, version: e.detail.version, previous: e.detail.previous }));
    channel.addEventListener("rollback", (e) => log.warn("model_rolled_back", { model: entry.name, version: e.detail.version, code: e.detail.code,
      serving: e.detail.serving }));
  }

  /** What /v1/models and /v1/health say about each model (never bytes, never secrets). */
  describe() {
    const now = this.#deps.now();
    return this.names().map((name) => {
      const e = this.#entries.get(name);
      const out = { name, state: e.state, source: e.spec.source };
      if (e.model) {
        const i = e.model.info;
        Object.assign(out, {
          version: e.model.version ?? i.version, sha256: e.model.sha256 ?? e.sha256, task: TASKS[i.task], modelTask: i.task, labels: [...i.labels],
          ...(i.task === "token_classification" && { entityTypes: [...i.entityTypes] }),
          abstainLabel: i.abstainLabel, threshold: i.threshold, maxTokens: i.nCtx, bytes: i.fileBytes,
          loadedAt: e.loadedAt, loadMs: e.loadMs, escalation: e.tagger !== null, ...(e.manifest && { manifest: e.manifest }),
        });
        if (e.spec.source === "manifest") out.release = describeRelease(e.model);
      }
      if (e.state === "failed") out.error = { ...e.error, failures: e.failures, retryInMs: Math.max(0, e.retryAt - now) };
      return out;
    });
  }

  /** Per model: loads, failures, and the escalating tagger's counters (web/escalate/stats.js: no text). */
  stats() {
    const out = {};
    for (const [name, e] of this.#entries)
      out[name] = { state: e.state, loads: e.loads, failedLoads: e.failedLoads, ...(e.tagger && { escalation: e.tagger.stats() }) };
    return out;
  }
}
