// idb.js — the few IndexedDB steps the model cache (cache.js), the release state (release/store.js) and the
// capture log (capture/stores.js) share: a database opened once and opened again after another tab upgraded
// it, and requests and transactions as promises.
import { EdgetagError } from "./errors.js";

/**
 * open() opens `dbName` at `version` (running `upgrade(db)` when it is created or older) and gives the same
 * connection to every caller; when another tab upgrades the database, the connection closes and the next
 * call opens it again. A failed or blocked open is not remembered. close() closes it (a later open() reopens).
 * @param {IDBFactory} indexedDB @param {string} dbName @param {number} version @param {(db: IDBDatabase) => void} upgrade
 * @returns {{open(): Promise<IDBDatabase>, close(): Promise<void>}}
 */
export function idbOpener(indexedDB, dbName, version, upgrade) {
  let opening = null;
  const open = () => {
    opening ??= new Promise((resolve, reject) => {
      const req = indexedDB.open(dbName, version);
      req.onupgradeneeded = () => upgrade(req.result);
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      req.onerror = () => { opening = null; reject(req.error); };
      req.onblocked = () => { opening = null; reject(new EdgetagError("IO", `edgetag: the IndexedDB database ${dbName} is blocked by another tab`)); };
    });
    return opening;
  };
  const close = async () => {
    if (opening) (await opening.catch(() => null))?.close();
    opening = null;
  };
  return { open, close };
}

/** An IDBRequest's result, as a promise. */
export function idbRequest(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A transaction's completion, as a promise (an abort rejects with the transaction's error). */
export function idbDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException("The transaction was aborted", "AbortError"));
    tx.onerror = () => {}; // onabort follows with the transaction's error
  });
}
