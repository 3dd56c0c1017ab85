// stores.js — where captured escalations are kept: bounded logs that keep the newest records.
//
// A capture store is any object with
//   add(record)   → Promise<{stored: boolean, evicted: number, reason?: "too_large"}>
//   records()     → Promise<record[]>            oldest first
//   export()      → Promise<string>              JSON Lines, one record a line, oldest first
//   erase()       → Promise<void>                everything gone
//   usage()       → Promise<{records, bytes, maxRecords, maxBytes}>
// Bounds: at most maxRecords records and maxBytes bytes of JSONL; adding beyond either evicts the oldest
// records; a record over maxRecordBytes is not stored. The stores here:
//   memoryCaptureStore()       for tests and short-lived processes
//   indexedDBCaptureStore()    browsers (pages, Web Workers, Service Workers): a database of its own
//   textCaptureStore(backend)  the whole log as one JSONL text in anything that reads and writes a string
//                              (the edge service's KV, R2 or a file: worker/capture.js)

import { EdgetagError } from "../errors.js";
import { idbDone, idbOpener, idbRequest } from "../idb.js";
import { CAPTURE_DEFAULTS, parseJSONL, recordLine } from "./record.js";

function invalid(message) {
  return new EdgetagError("INVALID_ARGUMENT", `edgetag: ${message}`);
}

/** The bounds of a store from its options (unknown keys refused). */
export function captureBounds(options = {}, extraKeys = []) {
  const known = [...Object.keys(CAPTURE_DEFAULTS), ...extraKeys];
  for (const k of Object.keys(options))
    if (!known.includes(k)) throw invalid(`a capture store has no option ${JSON.stringify(k)} (it has ${known.join(", ")})`);
  const out = {};
  for (const [k, d] of Object.entries(CAPTURE_DEFAULTS)) {
    const v = options[k] ?? d;
    if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw invalid(`capture ${k} must be a positive integer, not ${v}`);
    out[k] = v;
  }
  out.maxRecordBytes = Math.min(out.maxRecordBytes, out.maxBytes); // a stored record always fits on its own
  return out;
}

/** Appends `line` to `entries` ([{line, bytes}], oldest first) within the bounds; returns how many were evicted. */
function append(entries, entry, bounds) {
  entries.push(entry);
  let bytes = entries.reduce((n, e) => n + e.bytes, 0), evicted = 0;
  while (entries.length > bounds.maxRecords || bytes > bounds.maxBytes) {
    bytes -= entries.shift().bytes;
    evicted++;
  }
  return evicted;
}

/** Runs fn after every earlier call of the returned function has settled (one read-modify-write at a time). */
function serial() {
  let tail = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

/**
 * A store keeping the whole log as one JSONL text through `backend`: {read() → Promise<string | null>,
 * write(text) → Promise<void>, remove() → Promise<void>}. Writes within one process are serialized; two
 * processes writing the same object can lose each other's records (last write wins), never corrupt them.
 */
export function textCaptureStore(backend, options = {}, kind = "text") {
  if (!backend || ["read", "write", "remove"].some((m) => typeof backend[m] !== "function"))
    throw invalid("textCaptureStore() takes a backend with read(), write(text) and remove()");
  const bounds = captureBounds(options);
  const queue = serial();
  const load = async () => parseJSONL(await backend.read()).map(recordLine);
  return {
    kind,
    bounds,
    add: (record) => queue(async () => {
      const entry = recordLine(record);
      if (entry.bytes > bounds.maxRecordBytes) return { stored: false, evicted: 0, reason: "too_large" };
      const entries = await load();
      const evicted = append(entries, entry, bounds);
      await backend.write(entries.map((e) => e.line).join(""));
      return { stored: true, evicted };
    }),
    records: () => queue(async () => parseJSONL(await backend.read())),
    export: () => queue(async () => (await load()).map((e) => e.line).join("")),
    erase: () => queue(() => backend.remove()),
    usage: () => queue(async () => {
      const entries = await load();
      return { records: entries.length, bytes: entries.reduce((n, e) => n + e.bytes, 0), maxRecords: bounds.maxRecords, maxBytes: bounds.maxBytes };
    }),
  };
}

/** A store in memory: gone when the process (or isolate) ends. */
export function memoryCaptureStore(options = {}) {
  let text = null;
  return textCaptureStore({
    async read() { return text; },
    async write(t) { text = t; },
    async remove() { text = null; },
  }, options, "memory");
}

/**
 * A store in IndexedDB: the database `dbName` (default "edgetag-capture"), one object store of records under
 * increasing keys, each with its size; adding, evicting and counting run in one transaction.
 * @param {{dbName?: string, indexedDB?: IDBFactory, maxRecords?: number, maxBytes?: number, maxRecordBytes?: number}} [options]
 */
export function indexedDBCaptureStore(options = {}) {
  const { dbName = "edgetag-capture", indexedDB = globalThis.indexedDB, ...rest } = options;
  const bounds = captureBounds(rest);
  if (!indexedDB) throw new EdgetagError("UNSUPPORTED", "edgetag: IndexedDB is not available here; use memoryCaptureStore() or a textCaptureStore");
  const { open, close } = idbOpener(indexedDB, dbName, 1, (db) => db.createObjectStore("records", { autoIncrement: true }));
  const all = async () => {
    const tx = (await open()).transaction("records", "readonly");
    return (await idbRequest(tx.objectStore("records").getAll())).map((v) => v.record);
  };
  return {
    kind: "indexeddb",
    bounds,
    async add(record) {
      const { line, bytes } = recordLine(record);
      if (bytes > bounds.maxRecordBytes) return { stored: false, evicted: 0, reason: "too_large" };
      const tx = (await open()).transaction("records", "readwrite");
      const store = tx.objectStore("records");
      store.add({ record: JSON.parse(line), bytes });
      // Oldest first: evict while over either bound (the new record counts).
      let evicted = 0;
      const sizes = await idbRequest(store.getAll());
      const keys = await idbRequest(store.getAllKeys());
      let n = sizes.length, total = sizes.reduce((s, v) => s + v.bytes, 0);
      for (let i = 0; i < keys.length - 1 && (n > bounds.maxRecords || total > bounds.maxBytes); i++) {
        store.delete(keys[i]);
        n--, total -= sizes[i].bytes, evicted++;
      }
      await idbDone(tx);
      return { stored: true, evicted };
    },
    records: all,
    async export() {
      return (await all()).map((r) => recordLine(r).line).join("");
    },
    async erase() {
      const tx = (await open()).transaction("records", "readwrite");
      tx.objectStore("records").clear();
      await idbDone(tx);
    },
    async usage() {
      const tx = (await open()).transaction("records", "readonly");
      const values = await idbRequest(tx.objectStore("records").getAll());
      return { records: values.length, bytes: values.reduce((s, v) => s + v.bytes, 0), maxRecords: bounds.maxRecords, maxBytes: bounds.maxBytes };
    },
    close,
  };
}

/** Whether `s` has the methods of a capture store. */
export function isCaptureStore(s) {
  return s !== null && typeof s === "object" && ["add", "records", "export", "erase", "usage"].every((m) => typeof s[m] === "function");
}
