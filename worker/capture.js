// capture.js — where the service records escalations the cloud answered (web/capture/), when EDGETAG_CAPTURE
// says where and a request consents: a KV value, an R2 object or (Node, Deno) a file, each holding the whole
// bounded log as JSON Lines through the library's textCaptureStore().
//
//   EDGETAG_CAPTURE='{"store": "kv", "binding": "CAPTURE_KV", "key": "capture/intent.jsonl", "maxRecords": 5000}'
//   EDGETAG_CAPTURE='{"store": "r2", "binding": "MODELS_BUCKET", "key": "capture/escalations.jsonl"}'
//   EDGETAG_CAPTURE='{"store": "file", "path": "/var/lib/edgetag/capture.jsonl"}'
//
// Consent is per request: only a classify/extract body with "capture": true is recorded (the escalation
// policy's consent "per-call"). Only the text as it was sent to the cloud is stored — redacted when
// EDGETAG_ESCALATION.redact is set. GET /v1/capture exports the JSONL; POST /v1/capture/erase removes it.
// Several isolates writing one KV value or R2 object can lose each other's records (last write wins).

import { textCaptureStore } from "../web/edgetag.js";

export const CAPTURE_STORES = Object.freeze(["kv", "r2", "file"]);
export const DEFAULT_CAPTURE_KEY = "edgetag-capture.jsonl";

/** The backend of a configured store: read/write/remove of one text. */
function backend(spec, env, fileBackend) {
  // A missing binding fails each operation (an escalation is then not recorded; export/erase answer 500), not the service.
  const bound = () => {
    const b = env?.[spec.binding];
    if (typeof b?.get !== "function") throw new Error(`EDGETAG_CAPTURE: the ${spec.store.toUpperCase()} binding ${spec.binding} is missing`);
    return b;
  };
  if (spec.store === "kv")
    return { read: async () => bound().get(spec.key, "text"), write: async (t) => bound().put(spec.key, t), remove: async () => bound().delete(spec.key) };
  if (spec.store === "r2")
    return {
      read: async () => { const o = await bound().get(spec.key); return o ? o.text() : null; },
      write: async (t) => { await bound().put(spec.key, t, { httpMetadata: { contentType: "application/x-ndjson" } }); },
      remove: async () => bound().delete(spec.key),
    };
  // A file: only the Node entry (worker/node.js) passes a file backend; Workers have no files.
  if (typeof fileBackend !== "function") throw new Error("EDGETAG_CAPTURE: a file store needs the Node entry point (worker/node.js)");
  return fileBackend(spec.path);
}

/**
 * The capture store of the configuration's `capture` ({store, binding, key, path, max…}), or null.
 * fileBackend(path) → {read, write, remove}: the Node entry's (worker/node.js), for store "file".
 */
export function captureStoreFor(spec, env, fileBackend) {
  if (!spec) return null;
  const { store, binding: _b, key: _k, path: _p, ...bounds } = spec;
  return textCaptureStore(backend(spec, env, fileBackend), bounds, store);
}
