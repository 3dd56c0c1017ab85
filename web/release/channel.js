// channel.js — opening a release channel, and load() for both kinds of source: a model (load.js) or a signed
// release, `load({manifest, publicKey}, options)`.
//
//   import { load } from "edgetag";
//   const intents = await load({ manifest: "https://models.example/intent-clinc/stable.json",
//                                publicKey: "ed25519:…" });           // tools/release.mjs keygen prints it
//   intents.classify("book a table");   // the version serving now; updates swap in between calls
//   intents.addEventListener("update", (e) => console.log(e.detail.version));
//   intents.state;                      // phase, version, rollout, bad versions with reasons, last check
//
// It resolves once a version serves: the last good one from the cache at once (then a check runs in the
// background), or on a first run the one the manifest names for this installation, installed and proven.

import { checkAdapter, indexedDBCache } from "../cache.js";
import { EdgetagError } from "../errors.js";
import { load as loadModel } from "../load.js";

/** The options of load() a channel passes on to each version it loads: the engine, and the limits. */
const LOAD_OPTIONS = ["worker", "workerUrl", "simd", "wasmUrl", "wasmModule", "maxMemory", "maxBytes", "stallTimeoutMs",
  "cacheTimeoutMs", "batchTokens", "maxTextChars", "maxTexts", "maxTokens"];
import { CLOCK_SKEW_MS } from "./verify.js";
import { resolveStore } from "./store.js";
import { Updater } from "./updater.js";

/** Every option of a release channel, with its default (README "Releasing models"). */
export const RELEASE_DEFAULTS = Object.freeze({
  checkIntervalMs: 3_600_000,
  clockSkewMs: CLOCK_SKEW_MS,
  keep: 2,
});
const SOURCE_KEYS = ["manifest", "publicKey", "channel"];
const OPTION_KEYS = [...SOURCE_KEYS, ...Object.keys(RELEASE_DEFAULTS), "cache", "store", "installationId", "fetch", "verifier",
  "onProgress", "signal", "worker", "workerUrl", "simd", "wasmUrl", "wasmModule", "maxMemory", "maxBytes", "stallTimeoutMs",
  "cacheTimeoutMs", "batchTokens", "maxTextChars", "maxTexts", "maxTokens"];

const invalid = (message) => new EdgetagError("INVALID_ARGUMENT", `edgetag: ${message}`);
const dbCaches = new WeakMap(); // IDBFactory → the release cache over it

/** True when `source` is a release ({manifest, …}) rather than a model source. */
export function isReleaseSource(source) {
  if (source === null || typeof source !== "object") return false;
  const proto = Object.getPrototypeOf(source);
  return (proto === Object.prototype || proto === null) && "manifest" in source;
}

/** The manifest's URL: absolute (resolved against the page), or the edge service's r2:// and kv:// URLs. */
function manifestUrl(value) {
  if (typeof value !== "string" && !(value instanceof URL)) throw invalid("manifest must be the manifest's URL");
  try {
    return new URL(value, globalThis.location?.href).href;
  } catch {
    throw invalid(`manifest ${JSON.stringify(String(value))} is not a URL`);
  }
}

/**
 * The cache of a channel's versions: in browsers by default an IndexedDB database of its own
 * ("edgetag-release-models", so load()'s entries and a channel's never share records); "none"; or an adapter.
 */
function releaseCache(option) {
  if (option === "none") return null;
  if (option === undefined || option === "indexeddb") {
    if (!globalThis.indexedDB) {
      if (option === "indexeddb") throw new EdgetagError("UNSUPPORTED", "edgetag: IndexedDB is not available here");
      return null;
    }
    let cache = dbCaches.get(globalThis.indexedDB);
    if (!cache) dbCaches.set(globalThis.indexedDB, cache = indexedDBCache({ dbName: "edgetag-release-models" }));
    return cache;
  }
  if (typeof option === "object" && option !== null) return checkAdapter(option);
  throw invalid(`cache is "indexeddb", "none" or an adapter, not ${String(option)}`);
}

/** The options checked and filled in, as the updater takes them. */
function resolveOptions(options) {
  if (options === null || typeof options !== "object") throw invalid("a release's options must be an object");
  for (const k of Object.keys(options)) if (!OPTION_KEYS.includes(k)) throw invalid(`a release has no option ${JSON.stringify(k)} (it takes ${OPTION_KEYS.join(", ")})`);
  const o = { ...RELEASE_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (o.publicKey === undefined) throw invalid("a release needs publicKey: the Ed25519 key its manifests are signed with");
  if (o.channel !== undefined && typeof o.channel !== "string") throw invalid("channel must be a string");
  if (!(Number.isFinite(o.checkIntervalMs) && o.checkIntervalMs >= 0)) throw invalid("checkIntervalMs must be a number of milliseconds ≥ 0 (0: only checkNow())");
  if (!(Number.isFinite(o.clockSkewMs) && o.clockSkewMs >= 0)) throw invalid("clockSkewMs must be a number of milliseconds ≥ 0");
  if (!(Number.isInteger(o.keep) && o.keep >= 1)) throw invalid("keep must be an integer ≥ 1 (the versions kept in the cache)");
  if (o.installationId !== undefined && !(typeof o.installationId === "string" && o.installationId.length > 0 && o.installationId.length <= 256))
    throw invalid("installationId must be a string of 1 to 256 characters");
  for (const k of ["fetch", "verifier", "onProgress"]) if (o[k] !== undefined && typeof o[k] !== "function") throw invalid(`${k} must be a function`);
  if (o.signal !== undefined && !(typeof o.signal?.aborted === "boolean" && o.signal.addEventListener)) throw invalid("signal must be an AbortSignal");
  return {
    manifest: manifestUrl(o.manifest), publicKey: o.publicKey, channel: o.channel, checkIntervalMs: o.checkIntervalMs,
    clockSkewMs: o.clockSkewMs, keep: o.keep, installationId: o.installationId, fetch: o.fetch, verifier: o.verifier,
    onProgress: o.onProgress, signal: o.signal, cache: releaseCache(o.cache), store: resolveStore(o.store),
    loadOptions: Object.fromEntries(LOAD_OPTIONS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])),
  };
}

/**
 * Opens a release channel: `options` holds the source's members (manifest, publicKey, channel) and the channel's
 * options. Resolves a ReleaseTagger once a version serves; rejects with the EdgetagError of the first check when
 * none can (SIGNATURE, EXPIRED, INTEGRITY, SMOKE_TEST, ENGINE_VERSION, ROLLOUT, IO…).
 * @returns {Promise<import("./tagger.js").ReleaseTagger>}
 */
export async function openRelease(options) {
  const o = resolveOptions(options);
  const updater = new Updater(o);
  try {
    return await updater.open(o.signal);
  } catch (e) {
    await updater.tagger.dispose();
    throw e;
  }
}

/**
 * load(): a model from a URL, bytes, a cached name… (load.js), or with `{manifest, publicKey, channel?}` as the
 * source, a release channel (openRelease) with `options` as its options.
 */
export function load(source, options = {}) {
  if (!isReleaseSource(source)) return loadModel(source, options);
  for (const k of Object.keys(source)) if (!SOURCE_KEYS.includes(k)) return Promise.reject(invalid(`a release source has no member ${JSON.stringify(k)} (it takes ${SOURCE_KEYS.join(", ")})`));
  return openRelease({ ...options, ...source });
}
