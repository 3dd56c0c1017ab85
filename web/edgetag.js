// @ts-self-types="./edgetag.d.ts"
// edgetag.js — the ES-module face of the edgetag WebAssembly engine.
//
// The minimal loader: instantiate the engine (SIMD128 or relaxed SIMD), load a GGUF model from
// bytes, run token ids, read logits, hidden states and embeddings. It works unchanged in browsers,
// Node >= 20, Deno and workers: no build step, no dependencies.
//
//   import { load } from "./edgetag.js";
//   const model = await load(bytes);               // ArrayBuffer | Uint8Array of a .gguf file
//   const { rows, cols, data } = model.logits([101, 7592, 102]);
//   const batch = model.logits([[101, 7592, 102], [101, 2088, 102]]);  // one ragged batch
//   model.dispose();
//
// This module only gathers the public API. Each part is a module of its own, imported downward only:
// load.js (load(): sources, integrity, cache) → model.js (Model) → engine.js (the wasm instance) → abi.js
// (the C structs and enums); beside them cache.js, worker-client.js and worker-main.js (the two sides of the
// Web Worker), escalate/ and redact.js; release/ (signed release channels and telemetry) sits on top of load.js.

export { EdgetagError } from "./errors.js";
export { version, relaxedSimdSupported, init } from "./engine.js";
export { Model } from "./model.js";
// load() is release/'s: a model source goes on to load.js, a signed release ({manifest, publicKey}) opens a channel.
export { load, openRelease, ReleaseTagger, RELEASE_DEFAULTS, RELEASE_SCHEMA, canonicalize, verifyManifest, rolloutBucket,
  memoryStore, indexedDBStore, telemetry, TELEMETRY_DEFAULTS, TELEMETRY_SCHEMA } from "./release/index.js";
export { indexedDBCache } from "./cache.js";
export { createWorkerTagger, WorkerTagger } from "./worker-client.js";
export { withEscalation, EscalationHttpError, DEFAULT_THRESHOLD, POLICY_DEFAULTS } from "./escalate/index.js";
export { anyOf, patternRedactor, redactText } from "./redact.js";
export { piiFinder } from "./pii-finder.js";
export { CAPTURE_SCHEMA, CAPTURE_DEFAULTS, memoryCaptureStore, indexedDBCaptureStore, textCaptureStore, parseJSONL } from "./capture/index.js";
