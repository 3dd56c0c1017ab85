// capture/ — escalations answered by the cloud, recorded (with consent) as training data for the next student.
//
//   import { load, withEscalation, indexedDBCaptureStore } from "./edgetag.js";
//   const store = indexedDBCaptureStore({ maxRecords: 2000 });
//   const tagger = withEscalation(model, { endpoint, redact: piiModel, capture: { store, consent: () => userAgreed } });
//   await tagger.classify("…");            // an escalation the cloud answered is recorded when consent is given
//   const jsonl = await store.export();    // for tools/distill
//   await store.erase();
//
// Only what was sent is stored: the redacted text, never the original; spans are offsets into that text.
// record.js: a record and its JSONL; stores.js: the bounded stores; consent.js: the policy's option.

export { CAPTURE_SCHEMA, CAPTURE_DEFAULTS, parseJSONL } from "./record.js";
export { memoryCaptureStore, indexedDBCaptureStore, textCaptureStore } from "./stores.js";
