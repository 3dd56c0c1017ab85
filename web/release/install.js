// install.js — one release made ready to serve, or refused: its bytes from the cache or the network, checked
// against the manifest's SHA-256 by load() before the engine reads them, the loaded model checked against the
// manifest (task, labels) and smoke-tested. Nothing is written to the cache here: the updater stores a
// version only once it has proven good (storeProven), so a cut download or a bad file leaves nothing behind.
//
// The contract: install() resolves {tagger, origin, copy} or rejects with the load's EdgetagError ("IO" for
// the network, "INTEGRITY", "CORRUPT"… for the file) or "MANIFEST" / "SMOKE_TEST"; an abort rejects with the
// signal's reason. A cache entry whose bytes fail is deleted and the file fetched again.

import { EdgetagError } from "../errors.js";
import { isQuotaError } from "../cache.js";
import { load } from "../load.js";
import { openModel } from "./download.js";
import { checkModel, smokeTest } from "./smoke.js";

/** The cache key of a release's file: the channel, the version and the SHA-256. */
export function cacheKeyOf(channel, release) {
  return `edgetag-release:${channel}@${release.version}#${release.sha256}`;
}

async function cached(cache, key) {
  try {
    const entry = await cache.get(key);
    return entry?.data ?? null;
  } catch {
    return null; // an unreadable cache is a miss
  }
}

/** Checks a loaded model against its release and smoke-tests it; disposes it and throws when it fails. */
async function prove(tagger, release) {
  let problem;
  try {
    problem = checkModel(tagger.info, release) ?? await smokeTest(tagger, release);
  } catch (e) {
    problem = { code: "SMOKE_TEST", reason: `the model failed on the test input: ${e?.message ?? e}` };
  }
  if (!problem) return;
  await tagger.dispose?.();
  throw new EdgetagError(problem.code, `edgetag: version ${release.version}: ${problem.reason}`);
}

/**
 * Loads `release` ready to serve. `cache` (an adapter or null) is read first under `key`; `loadOptions` are
 * load()'s (simd, worker, wasmModule…); `fetch`, `signal` and `onProgress({loaded, total})` as download.js
 * and load() take them. Answers {tagger, origin: {kind, url, key, sha256}, copy: Promise<Blob> | null (the
 * bytes, for storeProven, when they came from the network and there is a cache)}.
 */
export async function install(release, { cache, key, loadOptions = {}, fetch, signal, onProgress }) {
  const options = { ...loadOptions, cache: "none", integrity: release.sha256, signal, onProgress };
  const data = cache ? await cached(cache, key) : null;
  if (data) {
    let tagger = null;
    try {
      tagger = await load(data, options);
    } catch (e) {
      if (signal?.aborted) throw e;
      await cache.delete(key).catch(() => {}); // damaged on disk: fetched again below
    }
    if (tagger) {
      await prove(tagger, release);
      return { tagger, origin: { kind: "cache", url: null, key, sha256: release.sha256 }, copy: null };
    }
  }
  const opened = await openModel(release.urls, release.size, { fetch, signal, keep: Boolean(cache) });
  let tagger;
  try {
    tagger = await load(opened.response, options);
  } catch (e) {
    opened.discard();
    throw e;
  }
  try {
    await prove(tagger, release);
  } catch (e) {
    opened.discard();
    throw e;
  }
  return { tagger, origin: { kind: "network", url: opened.url, key, sha256: release.sha256 }, copy: opened.copy() };
}

/**
 * Writes a proven version's bytes to the cache. On a full disk, `evict()` (the updater's: versions it no longer
 * needs) makes room and the write is tried once more. Answers "stored", "stored after evicting N" or
 * "not stored: …"; never throws.
 */
export async function storeProven(cache, key, blob, manifest, evict) {
  try {
    await cache.put(key, blob, manifest);
    return "stored";
  } catch (e) {
    if (!isQuotaError(e)) return `not stored: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
  }
  const evicted = await evict().catch(() => 0);
  if (!evicted) return "not stored: quota exceeded";
  try {
    await cache.put(key, blob, manifest);
    return `stored after evicting ${evicted}`;
  } catch (e) {
    return isQuotaError(e) ? "not stored: quota exceeded" : `not stored: ${e?.name ?? "Error"}: ${e?.message ?? e}`;
  }
}
