// models.js — the three on-device models, each loaded by the library in its own Web Worker with the
// IndexedDB cache: downloaded once with progress, read from the device on every later visit (offline too).
//
//   const models = await loadModels({ onProgress: (p) => … });   // p: {loaded, total, models: [...]}
//   models.notes.extract(text);      models.pii.extract(text);      models.intents.classify(text);
//   models.origins;                  // per model: "network" | "cache", and what the cache did

import { indexedDBCache, load } from "./web/edgetag.js";

/** What the app runs, in the order it shows them. */
export const MODEL_FILES = [
  { key: "notes", url: "models/maint-ner.gguf", title: "Equipment, activities & faults", name: "maint-ner" },
  { key: "pii", url: "models/pii-ner.gguf", title: "Personal data", name: "pii-ner" },
  { key: "intents", url: "models/intent-clinc.gguf", title: "Request intents", name: "intent-clinc" },
];

/**
 * Loads the three models, each in a dedicated worker (the page's thread stays free for typing), through the
 * library's IndexedDB cache. onProgress gets {loaded, total, fraction, models}: bytes so far, their total once
 * every size is known (Content-Length, or the cached file's size), the share done (each model a third) and
 * each model's state. Rejects with the first failure, after ending the workers that did start.
 *
 * One model after another, not all at once: WebKitGTK 2.50 fails to start a second and third module worker of
 * the same script while the first is starting, when a service worker serves the script with no network (the
 * offline reload tests/js/demo/webkit.test.mjs makes). One at a time they start, and from the cache the three
 * load in a fraction of a second.
 */
export async function loadModels({ onProgress, signal } = {}) {
  const state = MODEL_FILES.map((m) => ({ ...m, loaded: 0, total: null, done: false, origin: null }));
  const report = () => {
    const totals = state.map((s) => s.total);
    onProgress?.({
      loaded: state.reduce((n, s) => n + s.loaded, 0),
      total: totals.every((t) => typeof t === "number") ? totals.reduce((a, b) => a + b, 0) : null,
      fraction: state.reduce((f, s) => f + (s.done ? 1 : s.total ? s.loaded / s.total : 0), 0) / state.length,
      models: state.map((s) => ({ ...s })),
    });
  };
  report();
  const taggers = {};
  try {
    for (const s of state) {
      const tagger = await load(new URL(s.url, document.baseURI).href, {
        worker: true, cache: "indexeddb", signal,
        onProgress: ({ loaded, total }) => {
          s.loaded = loaded;
          s.total = total ?? s.total;
          report();
        },
      });
      taggers[s.key] = tagger;
      s.done = true;
      s.origin = tagger.origin;
      s.total = s.total ?? tagger.info.fileBytes;
      s.loaded = s.total;
      report();
    }
  } catch (e) {
    for (const t of Object.values(taggers)) t.terminate();
    throw e;
  }
  // The library answers before its cache write ends (origin.cache "storing"); `stored` settles with the
  // origins once every write has, stored or not.
  const stored = Promise.all(state.map(async (s) => [s.key, (await taggers[s.key].cached) ?? s.origin]))
    .then((entries) => Object.fromEntries(entries));
  return { ...taggers, origins: Object.fromEntries(state.map((s) => [s.key, s.origin])), stored };
}

/** Whether every model is in the library's cache already (then loading is quick and needs no network). */
export async function modelsStored() {
  try {
    const cache = indexedDBCache();
    const keys = new Set((await cache.list()).map((m) => m.key));
    await cache.close();
    return MODEL_FILES.every((m) => keys.has(new URL(m.url, document.baseURI).href));
  } catch {
    return false;
  }
}

/** True while a model's cache write is still running. */
export function storing(origins) {
  return Object.values(origins).some((o) => o?.cache === "storing");
}

/** True when every model is kept on the device (read from the cache, or stored there on this visit). */
export function allCached(origins) {
  return Object.values(origins).every((o) => o && (o.cache === "hit" || String(o.cache).startsWith("stored")));
}
