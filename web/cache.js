// cache.js — where models are kept between page loads: an IndexedDB cache (the browsers' default) and the
// adapter contract a custom cache (KV, the file system, the Cache API…) implements.
//
// A cache adapter is any object with
//   get(key)                  → Promise<{data, manifest} | undefined>   data: Blob | ArrayBuffer | Uint8Array
//   put(key, data, manifest)  → Promise<void>                           data: Blob or Uint8Array
//   delete(key)               → Promise<void>
// and optionally evict(manifest) → Promise<number> (drop the other files stored under manifest.key: called when
// put fails for lack of room). `key` is what the caller loads the model by: its absolute URL, or a name the caller
// chose (load(url, {key: "intent-clinc"}); then load("intent-clinc"), or "intent-clinc@1.0.0" for that version).
// The manifest says what the bytes are and under what they were stored: {key, integrity, name, version, sha256,
// size, url, task, labels, storedAt, engine}. What load() trusts of an entry (web/load.js):
//   - only an entry bound to the key asked for (manifest.key; a file's own general.name never decides: a model
//     named "intent-clinc" fetched from anywhere does not answer load("intent-clinc"));
//   - only bytes whose SHA-256 is manifest.sha256, the integrity the caller stored them with (manifest.integrity)
//     and the integrity the caller asks for now;
//   - an entry that fails any check, cannot be read, or is larger than maxBytes is dropped and the model fetched
//     again; an adapter call that does not settle within cacheTimeoutMs counts as failed, and the caller's
//     AbortSignal stops the wait.

import { raceAbort } from "./abort.js";
import { EdgetagError } from "./errors.js";
import { idbDone, idbOpener, idbRequest } from "./idb.js";

const DB_VERSION = 1;
const STORE = "models";

/** True when `e` says the storage is full (IndexedDB's QuotaExceededError, however an engine spells it). */
export function isQuotaError(e) {
  return e?.name === "QuotaExceededError" || e?.name === "NS_ERROR_DOM_QUOTA_REACHED" ||
    (e?.name === "UnknownError" && /quota|space/i.test(e?.message ?? ""));
}

/** "name" or "name@version" → {name, version|null}. */
function parseName(key) {
  const at = key.lastIndexOf("@");
  return at > 0 ? { name: key.slice(0, at), version: key.slice(at + 1) } : { name: key, version: null };
}

/**
 * The IndexedDB cache: one record per model file, keyed by name + version + sha256, holding the bytes (a
 * Blob, which browsers keep on disk; an ArrayBuffer where the browser refuses Blobs) and the manifest, indexed by the key it was stored under (its URL) and
 * by model name. Works in pages and in workers.
 * @param {{dbName?: string, indexedDB?: IDBFactory}} [options]
 */
export function indexedDBCache({ dbName = "edgetag", indexedDB = globalThis.indexedDB } = {}) {
  if (!indexedDB) throw new EdgetagError("UNSUPPORTED", "edgetag: IndexedDB is not available here; use cache: \"none\" or an adapter");
  const { open, close } = idbOpener(indexedDB, dbName, DB_VERSION, (db) => {
    const store = db.createObjectStore(STORE, { keyPath: "id" });
    store.createIndex("key", "key");
    store.createIndex("name", "name");
  });

  /** Records stored under `key`; for "name@version", those stored under the name with that version. */
  async function find(store, key) {
    let records = await idbRequest(store.index("key").getAll(key));
    if (records.length === 0) {
      const { name, version } = parseName(key);
      if (version !== null) records = (await idbRequest(store.index("key").getAll(name))).filter((r) => r.version === version);
    }
    return records.sort((a, b) => b.storedAt - a.storedAt);
  }

  /**
   * Runs work(store) in a new transaction on the models' store (called at once, while the transaction is
   * active); resolves with its value, for a "readwrite" transaction once that has committed.
   */
  async function transact(mode, work) {
    const tx = (await open()).transaction(STORE, mode);
    const value = await work(tx.objectStore(STORE));
    if (mode === "readwrite") await idbDone(tx);
    return value;
  }

  return {
    kind: "indexeddb",
    get: (key) => transact("readonly", async (store) => {
      const [record] = await find(store, key);
      return record ? { data: record.data, manifest: record.manifest } : undefined;
    }),
    /**
     * Stores the bytes as a Blob. WebKit refuses Blob values in the IndexedDB of an ephemeral session ("UnknownError:
     * Error preparing Blob/File data to be stored in object store"; seen in WebDriver's WebKitGTK, whose sessions
     * are ephemeral, as Safari's Private Browsing windows are). Any failure but a full disk is then tried once
     * more with the bytes as an ArrayBuffer, which every engine stores (a full disk goes back to load(), which
     * evicts and retries).
     */
    async put(key, data, manifest) {
      const blob = data instanceof Blob ? data : new Blob([data]);
      const record = (bytes) => ({
        id: `${key}#${manifest.sha256}`, key, name: manifest.name,
        version: manifest.version, sha256: manifest.sha256, storedAt: manifest.storedAt ?? Date.now(), manifest, data: bytes,
      });
      try {
        await transact("readwrite", (store) => { store.put(record(blob)); });
      } catch (e) {
        if (isQuotaError(e)) throw e;
        const bytes = await blob.arrayBuffer();
        await transact("readwrite", (store) => { store.put(record(bytes)); });
      }
    },
    delete: (key) => transact("readwrite", async (store) => {
      for (const r of await find(store, key)) store.delete(r.id);
    }),
    /** Drops every record stored under manifest.key whose sha256 differs; returns how many. */
    evict: (manifest) => transact("readwrite", async (store) => {
      let n = 0;
      for (const r of await idbRequest(store.index("key").getAll(manifest.key)))
        if (r.sha256 !== manifest.sha256) { store.delete(r.id); n++; }
      return n;
    }),
    /** The manifests of every stored model, newest first. */
    list: () => transact("readonly", async (store) => {
      const records = await idbRequest(store.getAll());
      return records.sort((a, b) => b.storedAt - a.storedAt).map((r) => ({ ...r.manifest, key: r.key }));
    }),
    /** Deletes every stored model. */
    clear: () => transact("readwrite", (store) => { store.clear(); }),
    /** Closes the database (a later call reopens it). */
    close,
  };
}

/**
 * One call of an adapter's method, which must settle within `ms` and gives way to the signal: its value, or an IO
 * error saying it timed out (the call itself may still run on; its outcome is then ignored).
 */
export function callCache(cache, method, args, { ms, signal } = {}) {
  let result;
  try {
    result = Promise.resolve(cache[method](...args));
  } catch (e) {
    result = Promise.reject(e);
  }
  return raceAbort(result, signal, ms, () =>
    new EdgetagError("IO", `edgetag: the cache's ${method}() did not settle within ${ms} ms (cacheTimeoutMs)`));
}

/** An adapter's shape, checked once: get, put and delete must be functions. */
export function checkAdapter(cache) {
  for (const m of ["get", "put", "delete"])
    if (typeof cache?.[m] !== "function")
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: a cache adapter needs a ${m}() method`);
  return cache;
}

/** The cache load() uses: "indexeddb" (default where IndexedDB exists), "none" (default elsewhere) or an adapter. */
export function resolveCache(option, dbCaches) {
  if (option === "none" || option === false) return null;
  if (option === undefined || option === "indexeddb") {
    if (!globalThis.indexedDB) {
      if (option === "indexeddb") throw new EdgetagError("UNSUPPORTED", "edgetag: IndexedDB is not available here");
      return null;
    }
    let cache = dbCaches.get(globalThis.indexedDB);
    if (!cache) dbCaches.set(globalThis.indexedDB, cache = indexedDBCache());
    return cache;
  }
  if (typeof option === "object") return checkAdapter(option);
  throw new EdgetagError("INVALID_ARGUMENT", `edgetag: cache is "indexeddb", "none" or an adapter, not ${String(option)}`);
}
