// store.js — where a release channel keeps what it must remember between runs: the installation id, the
// manifest it last accepted (and its ETag), the version it serves, the versions it found bad.
//
// A state store is any object with
//   get(key)         → Promise<value | undefined>     values are plain JSON-able objects and strings
//   set(key, value)  → Promise<void>
// memoryStore() lives as long as the process (Node, an edge isolate); indexedDBStore() is the browsers'
// default (pages, Web Workers, Service Workers), a database of its own beside the model cache's.

import { EdgetagError } from "../errors.js";
import { idbDone, idbOpener, idbRequest } from "../idb.js";

/** A store in memory: forgotten when the process (or isolate) ends. */
export function memoryStore() {
  const values = new Map();
  return {
    kind: "memory",
    async get(key) { return values.has(key) ? structuredClone(values.get(key)) : undefined; },
    async set(key, value) { values.set(key, structuredClone(value)); },
  };
}

/**
 * A store in IndexedDB: one object store of key → value in the database `dbName` (default "edgetag-release").
 * @param {{dbName?: string, indexedDB?: IDBFactory}} [options]
 */
export function indexedDBStore({ dbName = "edgetag-release", indexedDB = globalThis.indexedDB } = {}) {
  if (!indexedDB) throw new EdgetagError("UNSUPPORTED", "edgetag: IndexedDB is not available here; pass a state store (memoryStore())");
  const { open, close } = idbOpener(indexedDB, dbName, 1, (db) => db.createObjectStore("state"));
  return {
    kind: "indexeddb",
    async get(key) {
      const db = await open();
      return idbRequest(db.transaction("state", "readonly").objectStore("state").get(key));
    },
    async set(key, value) {
      const tx = (await open()).transaction("state", "readwrite");
      tx.objectStore("state").put(value, key);
      await idbDone(tx);
    },
    close,
  };
}

/** The store a channel uses: the caller's, IndexedDB where it exists, else memory. */
export function resolveStore(option) {
  if (option === undefined) return globalThis.indexedDB ? indexedDBStore() : memoryStore();
  if (option === "memory") return memoryStore();
  if (option === "indexeddb") return indexedDBStore();
  if (typeof option?.get === "function" && typeof option?.set === "function") return option;
  throw new EdgetagError("INVALID_ARGUMENT", "edgetag: store is \"indexeddb\", \"memory\" or an object with get(key) and set(key, value)");
}
