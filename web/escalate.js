// escalate.js — local first, cloud when unsure: wraps a tagger so uncertain answers go to a cloud model.
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
// One escalation, in order: offline? → breaker open? → redact → wait for a slot (maxConcurrent, maxQueue)
// → attempts (timeoutMs each; retries with jittered exponential backoff, Retry-After honoured up to
// maxRetryAfterMs) → validate the answer → map spans back through the redaction → result.
//
// Portable: fetch, AbortController, setTimeout, TextDecoder; no node: imports, no dependencies.

import { EdgetagError } from "./errors.js";

// ---------------------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------------------

/** The escalation threshold when neither the policy nor the model's calibration gives one. */
export const DEFAULT_THRESHOLD = 0.5;

/** Every default of the escalation policy (see EscalationPolicy in escalate.d.ts). */
export const POLICY_DEFAULTS = Object.freeze({
  escalateLabels: Object.freeze(["oos"]),
  timeoutMs: 10_000,
  retries: 2,
  backoffMs: 200,
  maxBackoffMs: 5_000,
  maxRetryAfterMs: 10_000,
  breakerFailures: 5,
  breakerCoolDownMs: 30_000,
  maxConcurrent: 4,
  maxQueue: 16,
  maxResponseBytes: 1 << 20,
});

/** Upper bounds of the latency histograms' buckets, in milliseconds (the last bucket is open). */
const LATENCY_BOUNDS_MS = Object.freeze([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]);
/** Upper bounds of the confidence histogram's buckets (local scores; the last bucket holds [0.9, ∞)). */
const CONFIDENCE_BOUNDS = Object.freeze([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);

/** HTTP statuses worth another attempt; every other non-2xx status fails at once. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

const now = () => (globalThis.performance?.now ? globalThis.performance.now() : Date.now());

// ---------------------------------------------------------------------------------------------------------
// Policy validation
// ---------------------------------------------------------------------------------------------------------

function invalid(message) {
  return new EdgetagError("INVALID_ARGUMENT", `edgetag: ${message}`);
}

function checkNumber(policy, name, { min = 0, integer = false, max = Infinity } = {}) {
  const v = policy[name] ?? POLICY_DEFAULTS[name];
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw invalid(`policy.${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], not ${v}`);
  return v;
}

function isSignal(s) {
  return s !== null && typeof s === "object" && typeof s.aborted === "boolean" && typeof s.addEventListener === "function";
}

function checkThreshold(value, name) {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || Number.isNaN(value))
    throw invalid(`${name} must be a number (above 1 always escalates, 0 never does), not ${value}`);
  return value;
}

/** Unknown keys are mistakes (a misspelt "treshold" would silently keep the default): refuse them. */
function checkKeys(object, known, name) {
  for (const key of Object.keys(object))
    if (!known.includes(key)) throw invalid(`${name} has no option ${JSON.stringify(key)} (it has ${known.join(", ")})`);
}

const POLICY_KEYS = ["endpoint", "threshold", "redact", "redactLabels", "signal", "fetch", ...Object.keys(POLICY_DEFAULTS)];
const ENDPOINT_KEYS = ["kind", "url", "model", "headers", "params"];

/** The endpoint as one function (request, signal) → answer, from {kind, url, …} or a custom function. */
function checkEndpoint(endpoint, fetchImpl, maxResponseBytes) {
  if (typeof endpoint === "function") return { call: endpoint, kind: "custom" };
  if (!endpoint || typeof endpoint !== "object") throw invalid("policy.endpoint must be {kind, url, …} or a function");
  checkKeys(endpoint, ENDPOINT_KEYS, "policy.endpoint");
  const kind = endpoint.kind ?? "openai";
  if (kind !== "openai" && kind !== "json") throw invalid(`policy.endpoint.kind must be "openai" or "json", not ${kind}`);
  let url;
  try {
    url = new URL(String(endpoint.url));
  } catch {
    throw invalid("policy.endpoint.url must be an absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalid("policy.endpoint.url must be http(s)");
  if (kind === "openai" && (typeof endpoint.model !== "string" || !endpoint.model))
    throw invalid('policy.endpoint.model is required for kind "openai"');
  if (endpoint.model !== undefined && typeof endpoint.model !== "string") throw invalid("policy.endpoint.model must be a string");
  const given = endpoint.headers ?? {};
  const headers = typeof Headers !== "undefined" && given instanceof Headers ? Object.fromEntries(given) : given;
  if (typeof headers !== "object") throw invalid("policy.endpoint.headers must be an object of strings");
  for (const [k, v] of Object.entries(headers))
    if (typeof v !== "string") throw invalid(`policy.endpoint.headers[${JSON.stringify(k)}] must be a string`);
  const params = endpoint.params ?? {};
  if (typeof params !== "object") throw invalid("policy.endpoint.params must be an object");
  const spec = { kind, url: url.href, model: endpoint.model, headers: { ...headers }, params: { ...params } };
  return { call: (request, signal) => httpCall(spec, request, signal, fetchImpl, maxResponseBytes), kind };
}

/** Resolves and checks a policy; every problem is an EdgetagError("INVALID_ARGUMENT"). */
function resolvePolicy(tagger, policy) {
  if (!tagger || typeof tagger !== "object" || (typeof tagger.classify !== "function" && typeof tagger.extract !== "function"))
    throw invalid("withEscalation() takes a tagger with classify() or extract()");
  if (!tagger.info || typeof tagger.info !== "object") throw invalid("the tagger has no info (labels, entityTypes)");
  if (!policy || typeof policy !== "object") throw invalid("withEscalation() takes a policy object");
  checkKeys(policy, POLICY_KEYS, "policy");
  const fetchImpl = policy.fetch ?? ((...args) => globalThis.fetch(...args));
  if (typeof fetchImpl !== "function") throw invalid("policy.fetch must be a function");
  const p = {};
  for (const name of ["timeoutMs", "backoffMs", "maxBackoffMs", "maxRetryAfterMs", "breakerCoolDownMs", "maxResponseBytes"])
    p[name] = checkNumber(policy, name, { min: name === "timeoutMs" || name === "maxResponseBytes" ? 1 : 0, max: 2 ** 31 - 1 });
  p.retries = checkNumber(policy, "retries", { integer: true, max: 10 });
  p.breakerFailures = checkNumber(policy, "breakerFailures", { integer: true, min: 1, max: 2 ** 31 - 1 });
  p.maxConcurrent = checkNumber(policy, "maxConcurrent", { integer: true, min: 1, max: 2 ** 31 - 1 });
  p.maxQueue = checkNumber(policy, "maxQueue", { integer: true, max: 2 ** 31 - 1 });
  p.endpoint = checkEndpoint(policy.endpoint, fetchImpl, p.maxResponseBytes);

  const t = policy.threshold;
  if (t !== null && typeof t === "object") {
    for (const k of Object.keys(t))
      if (k !== "classify" && k !== "extract") throw invalid(`policy.threshold has classify and extract, not ${k}`);
    p.threshold = { classify: checkThreshold(t.classify, "policy.threshold.classify"), extract: checkThreshold(t.extract, "policy.threshold.extract") };
  } else {
    const v = checkThreshold(t ?? undefined, "policy.threshold");
    p.threshold = { classify: v, extract: v };
  }
  const modelThreshold = typeof tagger.info.threshold === "number" && !Number.isNaN(tagger.info.threshold) ? tagger.info.threshold : null;
  p.defaultThreshold = modelThreshold ?? DEFAULT_THRESHOLD;

  const labels = policy.escalateLabels ?? POLICY_DEFAULTS.escalateLabels;
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string")) throw invalid("policy.escalateLabels must be an array of labels");
  p.escalateLabels = new Set(labels);

  const r = policy.redact ?? false;
  if (r === true) {
    if (typeof tagger.extract !== "function" || tagger.info.task === "sequence_classification")
      throw invalid("policy.redact = true needs a token-classification tagger; pass a PII tagger for a classifier");
  } else if (r !== false && (typeof r !== "object" || typeof r.extract !== "function")) {
    throw invalid("policy.redact must be true, false or a tagger with extract(text)");
  }
  p.redact = r;
  if (policy.redactLabels !== undefined &&
      (!Array.isArray(policy.redactLabels) || policy.redactLabels.some((l) => typeof l !== "string")))
    throw invalid("policy.redactLabels must be an array of entity types");
  p.redactLabels = policy.redactLabels ? new Set(policy.redactLabels) : null;

  if (policy.signal !== undefined && !isSignal(policy.signal)) throw invalid("policy.signal must be an AbortSignal");
  p.signal = policy.signal;
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Signals and timers
// ---------------------------------------------------------------------------------------------------------

/**
 * The life of one call: stopped by the caller (policy.signal or the call's {signal}) or by dispose().
 * Everything that waits inside the call (the queue, backoff, attempts) subscribes here rather than on the
 * caller's AbortSignal, so a batch of many escalations adds one listener to it, not one per escalation.
 */
class CallScope {
  constructor() {
    this.stopped = null; // {byCaller, reason} once stopped
    this.callbacks = new Set();
  }

  stop(byCaller, reason) {
    if (this.stopped) return;
    this.stopped = { byCaller, reason };
    for (const cb of this.callbacks) cb();
    this.callbacks.clear();
  }

  /** Calls cb once the call stops (at once if it has); returns the unsubscribe function. */
  onStop(cb) {
    if (this.stopped) {
      cb();
      return () => {};
    }
    this.callbacks.add(cb);
    return () => this.callbacks.delete(cb);
  }

  /** Throws the caller's abort reason when the caller stopped the call. */
  throwIfCallerStopped() {
    if (this.stopped?.byCaller) throw this.stopped.reason;
  }
}

/** What waits inside a call reject with when the call stops; the caller's reason comes from the scope. */
const STOPPED = Object.freeze({ stopped: true });

/** Resolves after ms; rejects with STOPPED when the call stops first (and clears the timer). */
function sleep(ms, scope) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, ms);
    unsubscribe = scope.onStop(() => {
      clearTimeout(timer);
      reject(STOPPED);
    });
  });
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts (for work that ignores signals). */
function abortable(promise, signal) {
  promise.catch(() => {}); // a late failure of abandoned work is not unhandled
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort;
  const aborted = new Promise((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** Parses Retry-After (delay seconds, or an HTTP date) into milliseconds from now; undefined when absent or bad. */
function parseRetryAfter(value) {
  if (value === null || value === undefined) return undefined;
  const v = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!/^[A-Za-z]{3}, /.test(v)) return undefined; // an HTTP date starts with its day: "Wed, 21 Oct 2015 07:28:00 GMT"
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

// ---------------------------------------------------------------------------------------------------------
// Failures of one attempt
// ---------------------------------------------------------------------------------------------------------

/** The cloud could not answer: reason is "timeout" | "network" | "redirect" | "http_<status>". */
class CloudFailure extends Error {
  constructor(reason, retryable, retryAfterMs) {
    super(`edgetag: escalation failed: ${reason}`);
    this.reason = reason;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The cloud answered, but not acceptably: detail is "json" | "shape" | "label" | "span" | "score" | "refusal" | "too_large". */
class InvalidAnswer extends Error {
  constructor(detail) {
    super(`edgetag: the cloud's answer was rejected (${detail})`);
    this.detail = detail;
  }
}

/**
 * What a custom endpoint function throws to report an HTTP status (anything else it throws counts as
 * "network"); retryAfterMs is honoured like Retry-After.
 */
export class EscalationHttpError extends Error {
  constructor(status, { retryAfterMs } = {}) {
    super(`edgetag: the endpoint answered HTTP ${status}`);
    this.name = "EscalationHttpError";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Endpoint adapters: the request each protocol sends, and where its answer lies
// ---------------------------------------------------------------------------------------------------------

const PLACEHOLDER_NOTE = " Some personal data in the text was replaced by placeholders such as [PERSON_1]; " +
  "treat each placeholder as the value it stands for and copy it unchanged.";

function systemPrompt(request) {
  const note = request.redacted ? PLACEHOLDER_NOTE : "";
  if (request.task === "classify")
    return "Classify the user's text into exactly one of these labels: " + request.labels.join(", ") +
      ". Answer in JSON: label is the label, score your confidence between 0 and 1." + note;
  return "Extract the entities of these types from the user's text: " + request.entityTypes.join(", ") +
    ". Answer in JSON: entities is a list of {label, text, start, end}, where text is copied exactly from " +
    "the user's text and start, end are its character offsets (0-based, end exclusive). " +
    "Answer an empty list when there is none." + note;
}

/** The JSON schema of the answer: exactly the label set, or entities of exactly the entity types. */
function answerSchema(request) {
  if (request.task === "classify")
    return {
      type: "object",
      properties: { label: { type: "string", enum: [...request.labels] }, score: { type: "number" } },
      required: ["label", "score"],
      additionalProperties: false,
    };
  return {
    type: "object",
    properties: {
      entities: {
        type: "array",
        items: {
          type: "object",
          properties: {
            label: { type: "string", enum: [...request.entityTypes] },
            text: { type: "string" },
            start: { type: "integer" },
            end: { type: "integer" },
          },
          required: ["label", "text", "start", "end"],
          additionalProperties: false,
        },
      },
    },
    required: ["entities"],
    additionalProperties: false,
  };
}

function requestBody(spec, request) {
  if (spec.kind === "openai")
    return {
      ...spec.params,
      model: spec.model,
      messages: [{ role: "system", content: systemPrompt(request) }, { role: "user", content: request.text }],
      response_format: {
        type: "json_schema",
        json_schema: { name: request.task === "classify" ? "classification" : "entities", strict: true, schema: answerSchema(request) },
      },
    };
  const body = { ...spec.params, task: request.task, text: request.text, redacted: request.redacted };
  if (spec.model !== undefined) body.model = spec.model;
  if (request.task === "classify") body.labels = [...request.labels];
  else body.entityTypes = [...request.entityTypes];
  return body;
}

/** Reads a response body as text, at most maxBytes of it. */
async function readText(response, maxBytes) {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw new InvalidAnswer("too_large");
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidAnswer("json");
  }
}

/** One HTTP attempt of a built-in adapter: the answer object, or a thrown CloudFailure / InvalidAnswer. */
async function httpCall(spec, request, signal, fetchImpl, maxBytes) {
  let response;
  try {
    response = await fetchImpl(spec.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...spec.headers },
      body: JSON.stringify(requestBody(spec, request)),
      redirect: "manual", // the text goes to the configured URL only, never on to wherever it redirects
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new CloudFailure("network", true); // the message may name the host, never the text: dropped anyway
  }
  if (!response.ok) {
    response.body?.cancel().catch(() => {});
    const status = response.status;
    if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) throw new CloudFailure("redirect", false);
    throw new CloudFailure(`http_${status}`, RETRYABLE_STATUS.has(status), parseRetryAfter(response.headers.get("retry-after")));
  }
  let text;
  try {
    text = await readText(response, maxBytes);
  } catch (err) {
    if (err instanceof InvalidAnswer) throw err;
    if (signal.aborted) throw signal.reason;
    throw new CloudFailure("network", true); // the connection broke mid-body
  }
  const body = parseJson(text);
  if (spec.kind === "json") return body;
  const message = body?.choices?.[0]?.message;
  if (!message || typeof message !== "object") throw new InvalidAnswer("shape");
  if (typeof message.content !== "string") throw new InvalidAnswer(message.refusal ? "refusal" : "shape");
  return parseJson(message.content);
}

// ---------------------------------------------------------------------------------------------------------
// Validation of the cloud's answer
// ---------------------------------------------------------------------------------------------------------

/** The score of an answer: a number in [0, 1], or null when absent; anything else is invalid. */
function answerScore(value) {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) throw new InvalidAnswer("score");
  return value;
}

function validateClassification(answer, labels) {
  if (!answer || typeof answer !== "object" || typeof answer.label !== "string") throw new InvalidAnswer("shape");
  if (!labels.includes(answer.label)) throw new InvalidAnswer("label");
  return { label: answer.label, score: answerScore(answer.score) };
}

/**
 * Entities of an answer about `text` (the text that was sent). Each needs a known label, a string `text`
 * and integer offsets with text === sent.slice(start, end). Repair: when the offsets are wrong but the
 * entity's text occurs exactly once in the sent text, the offsets are taken from that occurrence (language
 * models copy well and count badly); otherwise the whole answer is rejected. Sorted by start; duplicates dropped.
 */
function validateEntities(answer, sent, entityTypes) {
  if (!answer || typeof answer !== "object" || !Array.isArray(answer.entities)) throw new InvalidAnswer("shape");
  const out = [];
  let repaired = 0;
  for (const e of answer.entities) {
    if (!e || typeof e !== "object" || typeof e.label !== "string" || typeof e.text !== "string") throw new InvalidAnswer("shape");
    if (!entityTypes.includes(e.label)) throw new InvalidAnswer("label");
    let { start, end } = e;
    const exact = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= sent.length &&
      sent.slice(start, end) === e.text;
    if (!exact) {
      const at = e.text ? sent.indexOf(e.text) : -1;
      if (at < 0 || sent.indexOf(e.text, at + 1) >= 0) throw new InvalidAnswer("span");
      start = at;
      end = at + e.text.length;
      repaired++;
    }
    out.push({ label: e.label, score: answerScore(e.score), start, end, text: e.text });
  }
  out.sort((a, b) => a.start - b.start || a.end - b.end);
  const entities = out.filter((e, i) => i === 0 || !(e.start === out[i - 1].start && e.end === out[i - 1].end && e.label === out[i - 1].label));
  return { entities, repaired };
}

// ---------------------------------------------------------------------------------------------------------
// Redaction: entity spans become placeholders before the text leaves; spans map back afterwards
// ---------------------------------------------------------------------------------------------------------

/** "B-PhysicalObject" → "PHYSICAL_OBJECT": the placeholder's type, letters, digits and _ only. */
function placeholderType(label) {
  const t = String(label).replace(/^[BIES]-/, "").replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return t || "ENTITY";
}

/**
 * Replaces each span of `entities` in `text` by a placeholder [TYPE_n]: the same entity text gets the same
 * placeholder, and no placeholder already occurs in the text (n skips those that do; since placeholders are
 * bracketed and types hold no brackets, none can then appear anywhere else in the result either).
 * Returns the redacted text, the segments that map it back, and the number of spans replaced; throws
 * for a span that does not fit the text (the caller then sends nothing).
 */
function redactText(text, entities, labels) {
  const spans = [];
  for (const e of entities) {
    if (labels && !labels.has(e.label) && !labels.has(String(e.label).replace(/^[BIES]-/, ""))) continue;
    const { start, end } = e;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > text.length || start > end)
      throw new Error("edgetag: a redaction span does not fit the text");
    if (start < end) spans.push({ start, end, label: e.label });
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  // Overlapping spans merge, and so do touching spans of one type (the tokens "Jo", "##hn" of aggregation "none").
  const merged = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && (s.start < last.end || (s.start === last.end && placeholderType(s.label) === placeholderType(last.label))))
      last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  const byText = new Map(), counters = new Map(), segments = [];
  let out = "", at = 0;
  const literal = (from, to) => {
    if (to > from) segments.push({ from: out.length, to: out.length + (to - from), origFrom: from, origTo: to, placeholder: false });
    out += text.slice(from, to);
  };
  for (const s of merged) {
    literal(at, s.start);
    const original = text.slice(s.start, s.end);
    let ph = byText.get(original);
    if (!ph) {
      const type = placeholderType(s.label);
      let n = counters.get(type) ?? 0;
      do ph = `[${type}_${++n}]`; while (text.includes(ph));
      counters.set(type, n);
      byText.set(original, ph);
    }
    segments.push({ from: out.length, to: out.length + ph.length, origFrom: s.start, origTo: s.end, placeholder: true });
    out += ph;
    at = s.end;
  }
  literal(at, text.length);
  return { text: out, segments, count: merged.length };
}

/** Maps [start, end) of the redacted text to the original; null when a bound falls inside a placeholder. */
function unredactSpan(segments, start, end) {
  let from = null, to = null;
  for (const s of segments) {
    if (from === null && start >= s.from && start < s.to) from = s.placeholder ? (start === s.from ? s.origFrom : NaN) : s.origFrom + (start - s.from);
    if (to === null && end > s.from && end <= s.to) to = s.placeholder ? (end === s.to ? s.origTo : NaN) : s.origFrom + (end - s.from);
  }
  if (from === null || to === null || Number.isNaN(from) || Number.isNaN(to) || from >= to) return null;
  return [from, to];
}

// ---------------------------------------------------------------------------------------------------------
// Circuit breaker and concurrency cap
// ---------------------------------------------------------------------------------------------------------

/**
 * Closed → open after `failures` consecutive failed attempts; open → half-open after `coolDownMs`, when one
 * escalation (a single attempt, no retries) probes the endpoint; its success closes the breaker, its failure
 * opens it again for another cool-down. Any HTTP 2xx counts as success, even with an answer that is rejected.
 */
class Breaker {
  constructor(failures, coolDownMs) {
    this.limit = failures;
    this.coolDownMs = coolDownMs;
    this.state = "closed";
    this.consecutiveFailures = 0;
    this.openedAt = 0;
    this.opens = 0;
    this.probing = false;
  }

  #refresh() {
    if (this.state === "open" && now() - this.openedAt >= this.coolDownMs) this.state = "half_open";
  }

  /** Whether an escalation may go ahead now (no change of state). */
  canPass() {
    this.#refresh();
    return this.state === "closed" || (this.state === "half_open" && !this.probing);
  }

  /** A ticket for an escalation ({probe}) or null when the breaker refuses it. */
  enter() {
    if (!this.canPass()) return null;
    if (this.state === "half_open") {
      this.probing = true;
      return { probe: true, settled: false };
    }
    return { probe: false, settled: false };
  }

  success(ticket) {
    this.state = "closed";
    this.consecutiveFailures = 0;
    if (ticket.probe) ticket.settled = true, this.probing = false;
  }

  failure(ticket) {
    this.consecutiveFailures++;
    if (this.state === "half_open" || (this.state === "closed" && this.consecutiveFailures >= this.limit)) {
      this.state = "open";
      this.openedAt = now();
      this.opens++;
    }
    if (ticket.probe) ticket.settled = true, this.probing = false;
  }

  /** An escalation ends: a probe that neither succeeded nor failed (aborted) lets the next one probe. */
  leave(ticket) {
    if (ticket.probe && !ticket.settled) this.probing = false;
  }
}

/** At most `max` escalations in flight; up to `maxQueue` more wait in order; beyond that, acquire() is null. */
class Limiter {
  constructor(max, maxQueue) {
    this.max = max;
    this.maxQueue = maxQueue;
    this.active = 0;
    this.peak = 0;
    this.waiting = [];
  }

  /** null when the queue is full; else a promise of a release function (rejected with STOPPED when the call stops). */
  acquire(scope) {
    if (scope.stopped) return Promise.reject(STOPPED);
    if (this.active < this.max) {
      this.active++;
      this.peak = Math.max(this.peak, this.active);
      return Promise.resolve(this.#release());
    }
    if (this.waiting.length >= this.maxQueue) return null;
    return new Promise((resolve, reject) => {
      const waiter = () => {
        unsubscribe();
        resolve(this.#release());
      };
      const unsubscribe = scope.onStop(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(STOPPED);
      });
      this.waiting.push(waiter);
    });
  }

  #release() {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes on: active stays
      else this.active--;
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Telemetry: counters and histograms, never any text
// ---------------------------------------------------------------------------------------------------------

function histogram(bounds) {
  return { bounds, counts: new Array(bounds.length + 1).fill(0) };
}

function observe(h, value) {
  if (typeof value !== "number" || Number.isNaN(value)) return;
  let i = 0;
  while (i < h.bounds.length && !(value < h.bounds[i])) i++;
  h.counts[i]++;
}

function bump(record, key) {
  record[key] = (record[key] ?? 0) + 1;
}

function emptyStats() {
  return {
    requests: { classify: 0, extract: 0 },
    localLatencyMs: histogram(LATENCY_BOUNDS_MS),
    cloudLatencyMs: histogram(LATENCY_BOUNDS_MS),
    confidence: histogram(CONFIDENCE_BOUNDS),
    escalations: { wanted: 0, answered: 0, byTrigger: {}, skipped: {}, failed: {}, rejected: {} },
    aborted: 0,
    attempts: 0,
    retries: 0,
    invalidAnswers: {},
    repairedSpans: 0,
  };
}

function copyStats(s) {
  const h = (x) => ({ bounds: [...x.bounds], counts: [...x.counts] });
  const e = s.escalations;
  return {
    ...s,
    requests: { ...s.requests },
    localLatencyMs: h(s.localLatencyMs),
    cloudLatencyMs: h(s.cloudLatencyMs),
    confidence: h(s.confidence),
    escalations: { ...e, byTrigger: { ...e.byTrigger }, skipped: { ...e.skipped }, failed: { ...e.failed }, rejected: { ...e.rejected } },
    invalidAnswers: { ...s.invalidAnswers },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The escalating tagger
// ---------------------------------------------------------------------------------------------------------

/** Why a local answer wants the cloud: "low_score", "label" (in escalateLabels) or "model" (its own flag); null if not. */
function classifyTrigger(local, threshold, modelFlag, escalateLabels) {
  if (!(local.score >= threshold)) return "low_score"; // NaN escalates too
  if (escalateLabels.has(local.label)) return "label";
  if (modelFlag && local.escalate === true) return "model";
  return null;
}

class EscalatingTagger {
  #tagger;
  #p;
  #breaker;
  #limiter;
  #stats = emptyStats();
  #calls = new Set(); // the CallScopes of calls under way
  #disposed = false;

  constructor(tagger, policy) {
    this.#tagger = tagger;
    this.#p = policy;
    this.#breaker = new Breaker(policy.breakerFailures, policy.breakerCoolDownMs);
    this.#limiter = new Limiter(policy.maxConcurrent, policy.maxQueue);
  }

  /** The wrapped tagger's info. */
  get info() {
    return this.#tagger.info;
  }

  /** The wrapped tagger itself. */
  get tagger() {
    return this.#tagger;
  }

  /** Passes through to the wrapped tagger. */
  async tokenize(...args) {
    return this.#passThrough("tokenize", args);
  }

  /** Passes through to the wrapped tagger. */
  async embed(...args) {
    return this.#passThrough("embed", args);
  }

  async #passThrough(name, args) {
    this.#checkLive();
    if (typeof this.#tagger[name] !== "function") throw new EdgetagError("UNSUPPORTED", `edgetag: the tagger has no ${name}()`);
    return this.#tagger[name](...args);
  }

  #checkLive() {
    if (this.#disposed) throw new EdgetagError("STATE", "edgetag: the escalating tagger was disposed");
  }

  /** policy.signal stops every call under way: one listener, there while there are calls. */
  #onPolicyAbort = () => {
    for (const scope of this.#calls) scope.stop(true, this.#p.signal.reason);
  };

  /**
   * Runs body(scope) as one call: the scope stops when the caller's signals abort or on dispose(). The
   * caller's abort rejects with its reason (counted in stats.aborted); the listeners go when the call ends.
   */
  async #call(signal, body) {
    if (signal !== undefined && !isSignal(signal)) throw invalid("options.signal must be an AbortSignal");
    const scope = new CallScope();
    const policySignal = this.#p.signal;
    const onAbort = () => scope.stop(true, signal.reason);
    if (policySignal?.aborted) scope.stop(true, policySignal.reason);
    else if (signal?.aborted) scope.stop(true, signal.reason);
    if (policySignal && this.#calls.size === 0) policySignal.addEventListener("abort", this.#onPolicyAbort);
    this.#calls.add(scope);
    signal?.addEventListener("abort", onAbort);
    try {
      scope.throwIfCallerStopped();
      return await body(scope);
    } catch (err) {
      if (scope.stopped?.byCaller) {
        this.#stats.aborted++;
        throw scope.stopped.reason;
      }
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#calls.delete(scope);
      if (policySignal && this.#calls.size === 0) policySignal.removeEventListener("abort", this.#onPolicyAbort);
    }
  }

  /** Runs the local tagger (sync or async), timing it. */
  async #local(name, input, options) {
    const t0 = now();
    const result = await this.#tagger[name](input, options);
    observe(this.#stats.localLatencyMs, now() - t0);
    return result;
  }

  /**
   * Classifies a text or an array of texts: one local batch, then each uncertain text is escalated
   * (concurrently, within maxConcurrent/maxQueue). Resolves the local answer whenever the cloud cannot give
   * one; rejects only when the caller aborts (with the signal's reason) or on bad arguments.
   */
  async classify(input, options = {}) {
    this.#checkLive();
    const single = !Array.isArray(input);
    const texts = single ? [input] : input;
    if (texts.some((t) => typeof t !== "string")) throw invalid("classify() takes a string or an array of strings");
    if (typeof this.#tagger.classify !== "function") throw new EdgetagError("UNSUPPORTED", "edgetag: the tagger has no classify()");
    if (!Array.isArray(this.info.labels) || !this.info.labels.length) throw invalid("the tagger's info has no labels");
    return this.#call(options?.signal, async (scope) => {
      const locals = texts.length ? await this.#local("classify", single ? input : texts) : [];
      scope.throwIfCallerStopped();
      const list = single ? [locals] : locals;
      if (!Array.isArray(list) || list.length !== texts.length)
        throw new EdgetagError("STATE", "edgetag: the tagger's classify() answered another number of results");
      const threshold = this.#p.threshold.classify ?? this.#p.defaultThreshold;
      const modelFlag = this.#p.threshold.classify === undefined;
      const results = await Promise.all(list.map(async (local, i) => {
        this.#stats.requests.classify++;
        observe(this.#stats.confidence, local.score);
        const base = { label: local.label, score: local.score, scores: local.scores, source: "local", localLabel: local.label, localScore: local.score };
        const trigger = classifyTrigger(local, threshold, modelFlag, this.#p.escalateLabels);
        if (!trigger) return { ...base, escalation: { wanted: false } };
        const e = await this.#escalate("classify", texts[i], trigger, scope, null);
        if (!e.answer) return { ...base, escalation: e.escalation };
        return { ...base, label: e.answer.label, score: e.answer.score, source: "cloud", escalation: e.escalation };
      }));
      return single ? results[0] : results;
    });
  }

  /**
   * Extracts entities: the local answer, escalated when an entity's score is below the threshold (a text
   * without entities counts as confidence 1), or, without policy.threshold, when the model flags it.
   * Resolves the local answer whenever the cloud cannot give one; rejects only on the caller's abort.
   */
  async extract(text, options = {}) {
    this.#checkLive();
    if (typeof text !== "string") throw invalid("extract() takes a string");
    if (typeof this.#tagger.extract !== "function") throw new EdgetagError("UNSUPPORTED", "edgetag: the tagger has no extract()");
    if (!entityTypesOf(this.info).length) throw invalid("the tagger's info has no entity types");
    const { signal, ...localOptions } = options ?? {}; // a signal cannot go to a worker: it stays here
    return this.#call(signal, async (scope) => {
      const local = await this.#local("extract", text, localOptions);
      scope.throwIfCallerStopped();
      if (!local || !Array.isArray(local.entities)) throw new EdgetagError("STATE", "edgetag: the tagger's extract() answered no entities");
      this.#stats.requests.extract++;
      const localScore = local.entities.reduce((m, e) => Math.min(m, e.score), 1);
      observe(this.#stats.confidence, localScore);
      const threshold = this.#p.threshold.extract ?? this.#p.defaultThreshold;
      const trigger = !(localScore >= threshold) ? "low_score"
        : this.#p.threshold.extract === undefined && local.escalate === true ? "model" : null;
      const base = { entities: local.entities, source: "local", localScore };
      if (!trigger) return { ...base, escalation: { wanted: false } };
      const e = await this.#escalate("extract", text, trigger, scope, this.#p.redact === true ? local.entities : null);
      if (!e.answer) return { ...base, escalation: e.escalation };
      return { entities: e.answer.entities, source: "cloud", localScore, localEntities: local.entities, escalation: e.escalation };
    });
  }

  /** Entities to redact from `text`, or null when there is no redaction. */
  async #redactionEntities(text, localEntities) {
    const r = this.#p.redact;
    if (r === false) return null;
    if (r === true) return localEntities ?? (await this.#tagger.extract(text)).entities;
    const found = await r.extract(text);
    if (!found || !Array.isArray(found.entities)) throw new Error("edgetag: the redaction tagger answered no entities");
    return found.entities;
  }

  /**
   * One escalation of one text: {answer, escalation}, answer null when the cloud did not give a valid one.
   * Throws only the caller's abort reason.
   */
  async #escalate(task, text, trigger, scope, localEntities) {
    const st = this.#stats, es = st.escalations;
    es.wanted++;
    bump(es.byTrigger, trigger);
    const give = (outcome, reason, extra = {}) => {
      bump(es[outcome], reason);
      return { answer: null, escalation: { wanted: true, trigger, outcome, reason, attempts: 0, ...extra } };
    };
    // Stopped: the caller's abort rejects; dispose() ends the escalation.
    const stopped = (outcome, extra) => {
      scope.throwIfCallerStopped();
      return give(outcome, "disposed", extra);
    };
    if (scope.stopped) return stopped("skipped");
    if (globalThis.navigator?.onLine === false) return give("skipped", "offline");
    if (!this.#breaker.canPass()) return give("skipped", "breaker_open");

    // Redaction: when the redactor fails, nothing is sent.
    let redaction = null;
    try {
      const entities = await this.#redactionEntities(text, localEntities);
      if (entities) redaction = redactText(text, entities, this.#p.redactLabels);
    } catch {
      if (scope.stopped) return stopped("skipped");
      return give("skipped", "redaction_failed");
    }
    if (scope.stopped) return stopped("skipped");

    const waiting = this.#limiter.acquire(scope);
    if (!waiting) return give("skipped", "concurrency");
    let release;
    try {
      release = await waiting;
    } catch {
      return stopped("skipped");
    }
    const ticket = this.#breaker.enter();
    try {
      if (!ticket) return give("skipped", "breaker_open");
      const sent = redaction ? redaction.text : text;
      const info = this.#tagger.info;
      const request = task === "classify"
        ? { task, text: sent, labels: info.labels, redacted: redaction !== null }
        : { task, text: sent, entityTypes: entityTypesOf(info), redacted: redaction !== null };
      const t0 = now();
      const maxAttempts = ticket.probe ? 1 : this.#p.retries + 1;
      for (let attempts = 1; ; attempts++) {
        st.attempts++;
        let answer;
        try {
          answer = await this.#attempt(request, scope);
          this.#breaker.success(ticket);
        } catch (err) {
          if (err === STOPPED) return stopped("failed", { attempts });
          if (err instanceof InvalidAnswer) { // a 2xx whose body is no answer: the endpoint is up
            this.#breaker.success(ticket);
            observe(st.cloudLatencyMs, now() - t0);
            bump(st.invalidAnswers, err.detail);
            return give("rejected", "invalid_answer", { attempts, detail: err.detail });
          }
          this.#breaker.failure(ticket);
          const extra = { attempts };
          if (err.retryAfterMs !== undefined) extra.retryAfterMs = err.retryAfterMs;
          const tooLong = err.retryAfterMs !== undefined && err.retryAfterMs > this.#p.maxRetryAfterMs;
          if (!err.retryable || attempts >= maxAttempts || tooLong || this.#breaker.state !== "closed") {
            observe(st.cloudLatencyMs, now() - t0);
            return give("failed", err.reason, extra);
          }
          const backoff = Math.min(this.#p.maxBackoffMs, this.#p.backoffMs * 2 ** (attempts - 1));
          const wait = Math.max(err.retryAfterMs ?? 0, backoff / 2 + (Math.random() * backoff) / 2);
          try {
            await sleep(wait, scope);
          } catch {
            return stopped("failed", extra);
          }
          st.retries++;
          continue;
        }
        // An answer: validated, and mapped back through the redaction.
        try {
          const result = this.#accept(task, answer, request, redaction, text);
          const latencyMs = now() - t0;
          observe(st.cloudLatencyMs, latencyMs);
          es.answered++;
          const escalation = { wanted: true, trigger, outcome: "answered", attempts, latencyMs };
          if (result.repaired) {
            escalation.repairedSpans = result.repaired;
            st.repairedSpans += result.repaired;
          }
          if (redaction) escalation.redacted = redaction.count;
          return { answer: result, escalation };
        } catch (err) {
          if (!(err instanceof InvalidAnswer)) throw err;
          observe(st.cloudLatencyMs, now() - t0);
          bump(st.invalidAnswers, err.detail);
          return give("rejected", "invalid_answer", { attempts, detail: err.detail });
        }
      }
    } finally {
      if (ticket) this.#breaker.leave(ticket);
      release();
    }
  }

  /**
   * One attempt, bounded by timeoutMs: the raw answer, or it throws CloudFailure, InvalidAnswer, or STOPPED
   * when the call stops.
   */
  async #attempt(request, scope) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new CloudFailure("timeout", true)), this.#p.timeoutMs);
    const unsubscribe = scope.onStop(() => controller.abort(STOPPED));
    const signal = controller.signal;
    try {
      const work = Promise.resolve().then(() => this.#p.endpoint.call(request, signal));
      return await abortable(work, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason; // STOPPED, or the CloudFailure("timeout")
      if (err instanceof CloudFailure || err instanceof InvalidAnswer) throw err;
      if (this.#p.endpoint.kind === "custom" && err && Number.isInteger(err.status)) // EscalationHttpError
        throw new CloudFailure(`http_${err.status}`, RETRYABLE_STATUS.has(err.status), err.retryAfterMs);
      throw new CloudFailure("network", true);
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  }

  /** Validates an answer and maps it back to the original text; throws InvalidAnswer. */
  #accept(task, answer, request, redaction, original) {
    if (task === "classify") return validateClassification(answer, request.labels);
    const { entities, repaired } = validateEntities(answer, request.text, request.entityTypes);
    if (!redaction) return { entities, repaired };
    const mapped = entities.map((e) => {
      const span = unredactSpan(redaction.segments, e.start, e.end);
      if (!span) throw new InvalidAnswer("span"); // a span cutting through a placeholder
      return { ...e, start: span[0], end: span[1], text: original.slice(span[0], span[1]) };
    });
    return { entities: mapped, repaired };
  }

  /**
   * Counters and histograms since creation (or resetStats()): requests per task, local and cloud latency,
   * local confidence, escalations by trigger and by outcome and reason, attempts, retries, rejected answers
   * by defect, and the breaker's and the concurrency cap's state. Never any text.
   */
  stats() {
    const b = this.#breaker;
    b.canPass(); // refresh open → half_open
    return {
      ...copyStats(this.#stats),
      breaker: { state: b.state, consecutiveFailures: b.consecutiveFailures, opens: b.opens },
      concurrency: { inFlight: this.#limiter.active, queued: this.#limiter.waiting.length, peak: this.#limiter.peak },
    };
  }

  /** Zeroes the counters and histograms (not the breaker's state). */
  resetStats() {
    this.#stats = emptyStats();
    this.#limiter.peak = this.#limiter.active;
    this.#breaker.opens = 0;
  }

  /**
   * Ends pending escalations (their calls resolve with the local answer, reason "disposed") and disposes
   * the wrapped tagger. Later calls throw EdgetagError("STATE"); a second dispose() does nothing.
   */
  async dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const scope of this.#calls) scope.stop(false, null);
    await this.#tagger.dispose?.();
  }
}

/** A token classifier's entity types: info.entityTypes, or its labels without B-/I- and "O". */
function entityTypesOf(info) {
  if (Array.isArray(info.entityTypes) && info.entityTypes.length) return info.entityTypes;
  const types = new Set();
  for (const l of info.labels ?? []) if (l !== "O") types.add(String(l).replace(/^[BIES]-/, ""));
  return [...types];
}

/**
 * Wraps a tagger (a Model, or any object whose classify()/extract() return results or promises of them)
 * so that uncertain answers are escalated to a cloud model under `policy`. The wrapper has the same
 * methods, all async. See EscalationPolicy in escalate.d.ts for every option and its default.
 * Throws EdgetagError("INVALID_ARGUMENT") for a bad tagger or policy.
 */
export function withEscalation(tagger, policy) {
  return new EscalatingTagger(tagger, resolvePolicy(tagger, policy));
}
