// escalate/ — local first, cloud when unsure: wraps a tagger so uncertain answers go to a cloud model.
//
//   import { load, withEscalation } from "./edgetag.js";
//   const model = await load(bytes);
//   const tagger = withEscalation(model, {
//     endpoint: { kind: "openai", url: "https://api.example.com/v1/chat/completions", model: "gpt-4o-mini",
//                 headers: { authorization: `Bearer ${key}` } },
//     redact: piiModel,                        // optional: entities found by piiModel never leave the device
//   });
//   const r = await tagger.classify("what's my balance");
//   r.source;      // "local" | "cloud"
//   r.escalation;  // {wanted: false} | {wanted: true, outcome: "answered" | "skipped" | "failed" | "rejected", …}
//   tagger.stats(); // counters and histograms, never any text
//
// The contract: a network fault never throws. When the cloud cannot answer (offline, breaker open, too many
// calls in flight, timeout, HTTP error, an answer that fails validation) the local answer comes back, marked
// with the outcome and the reason. Only the caller's own abort (policy.signal or the per-call {signal})
// rejects, with the signal's reason; bad arguments throw EdgetagError("INVALID_ARGUMENT").
//
// Portable: fetch, AbortController, setTimeout, TextDecoder; no node: imports, no dependencies.
//
// The modules: policy.js (the defaults and the checking of a policy), tagger.js (withEscalation's tagger,
// one escalation step by step), adapters.js (what each endpoint kind sends and how its answer is read and
// validated), resilience.js (call scopes, timers, retries' failures, the circuit breaker and the concurrency
// cap), stats.js (counters and histograms); redaction's placeholders are ../redact.js's.

export { DEFAULT_THRESHOLD, POLICY_DEFAULTS } from "./policy.js";
export { EscalationHttpError } from "./adapters.js";
export { withEscalation } from "./tagger.js";
