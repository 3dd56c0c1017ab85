// history.js — saved notes in IndexedDB (their own database beside the library's model cache), kept
// across reloads and browser restarts, and exported as a JSON file.
//
//   const history = await openHistory();
//   const id = await history.add(record);    await history.list();   // newest first
//   history.download(await history.list());                           // field-notes-YYYY-MM-DD.json

const DB_NAME = "edgetag-field-notes";
const STORE = "notes";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException("The transaction was aborted", "AbortError"));
  });
}

/** Opens (or creates) the notes database. */
export async function openHistory() {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error("the notes database is open in an older version of this app in another tab"));
  });
  db.onversionchange = () => db.close();

  return {
    /** Stores a record; resolves its id. */
    async add(record) {
      const tx = db.transaction(STORE, "readwrite");
      const id = await request(tx.objectStore(STORE).add(record));
      await committed(tx);
      return id;
    },
    /** Every saved note, newest first. */
    async list() {
      const all = await request(db.transaction(STORE).objectStore(STORE).getAll());
      return all.reverse();
    },
    async clear() {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).clear();
      await committed(tx);
    },
    /** Saves the notes as a JSON file through the browser's download. */
    download(records) {
      const doc = {
        app: "edgetag field notes", format: 1, exportedAt: new Date().toISOString(), count: records.length,
        notes: records,
      };
      const blob = new Blob([JSON.stringify(doc, null, 2) + "\n"], { type: "application/json" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `field-notes-${doc.exportedAt.slice(0, 10)}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    },
  };
}
