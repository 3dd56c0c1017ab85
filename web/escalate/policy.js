// policy.js — the escalation policy: its defaults, frozen, and resolvePolicy(), which checks every option of
// a caller's policy (unknown keys included) and turns it into what the tagger runs on: numbers in range,
// thresholds per task, the endpoint as one function. Every problem is an EdgetagError("INVALID_ARGUMENT").

import { EdgetagError } from "../errors.js";
import { resolveCapture } from "../capture/consent.js";
import { ownCopy } from "../options.js";
import { httpAdapter } from "./adapters.js";

/** The escalation threshold when neither the policy nor the model's calibration gives one. */
export const DEFAULT_THRESHOLD = 0.5;

/** Every default of the escalation policy (see EscalationPolicy in index.d.ts). */
export const POLICY_DEFAULTS = Object.freeze({
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

export function invalid(message) {
  return new EdgetagError("INVALID_ARGUMENT", `edgetag: ${message}`);
}

function checkNumber(policy, name, { min = 0, integer = false, max = Infinity } = {}) {
  const v = policy[name] ?? POLICY_DEFAULTS[name];
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw invalid(`policy.${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], not ${v}`);
  return v;
}

export function isSignal(s) {
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

const POLICY_KEYS = ["endpoint", "threshold", "escalateLabels", "redact", "redactLabels", "signal", "fetch", "capture", ...Object.keys(POLICY_DEFAULTS)];
const ENDPOINT_KEYS = ["kind", "url", "model", "headers", "params"];

/** The endpoint as one function (request, signal) → answer, from {kind, url, …} or a custom function. */
function checkEndpoint(endpoint, fetchImpl, maxResponseBytes) {
  if (typeof endpoint === "function") return { call: endpoint, kind: "custom" };
  if (!endpoint || typeof endpoint !== "object") throw invalid("policy.endpoint must be {kind, url, …} or a function");
  checkKeys(endpoint, ENDPOINT_KEYS, "policy.endpoint");
  endpoint = ownCopy(endpoint);
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
  return { call: httpAdapter(spec, fetchImpl, maxResponseBytes), kind };
}

/** policy.threshold: one number for both tasks, or {classify, extract}; undefined leaves it to the model. */
function checkThresholds(t) {
  if (t !== null && typeof t === "object") {
    t = ownCopy(t);
    for (const k of Object.keys(t))
      if (k !== "classify" && k !== "extract") throw invalid(`policy.threshold has classify and extract, not ${k}`);
    return { classify: checkThreshold(t.classify, "policy.threshold.classify"), extract: checkThreshold(t.extract, "policy.threshold.extract") };
  }
  const v = checkThreshold(t ?? undefined, "policy.threshold");
  return { classify: v, extract: v };
}

/** policy.redact: false, true (the tagger's own entities) or a finder with extract(text). */
function checkRedact(tagger, r) {
  if (r === true) {
    if (typeof tagger.extract !== "function" || tagger.info.task === "sequence_classification")
      throw invalid("policy.redact = true needs a token-classification tagger; pass a PII tagger for a classifier");
  } else if (r !== false && (typeof r !== "object" || typeof r.extract !== "function")) {
    throw invalid("policy.redact must be true, false or a tagger with extract(text)");
  }
  return r;
}

/** Resolves and checks a policy (its own properties only); every problem is an EdgetagError("INVALID_ARGUMENT"). */
export function resolvePolicy(tagger, policy) {
  if (!tagger || typeof tagger !== "object" || (typeof tagger.classify !== "function" && typeof tagger.extract !== "function"))
    throw invalid("withEscalation() takes a tagger with classify() or extract()");
  if (!tagger.info || typeof tagger.info !== "object") throw invalid("the tagger has no info (labels, entityTypes)");
  if (!policy || typeof policy !== "object") throw invalid("withEscalation() takes a policy object");
  checkKeys(policy, POLICY_KEYS, "policy");
  // Own properties only: a polluted Object.prototype (a `redactLabels` or `redact` set on every object) must not
  // turn redaction off or change any other option.
  policy = ownCopy(policy);
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

  p.threshold = checkThresholds(policy.threshold);
  const modelThreshold = typeof tagger.info.threshold === "number" && !Number.isNaN(tagger.info.threshold) ? tagger.info.threshold : null;
  p.defaultThreshold = modelThreshold ?? DEFAULT_THRESHOLD;

  const labels = policy.escalateLabels ?? (typeof tagger.info.abstainLabel === "string" ? [tagger.info.abstainLabel] : []);
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string")) throw invalid("policy.escalateLabels must be an array of labels");
  p.escalateLabels = new Set(labels);

  p.redact = checkRedact(tagger, policy.redact ?? false);
  if (policy.redactLabels !== undefined &&
      (!Array.isArray(policy.redactLabels) || policy.redactLabels.some((l) => typeof l !== "string")))
    throw invalid("policy.redactLabels must be an array of entity types");
  p.redactLabels = policy.redactLabels ? new Set(policy.redactLabels) : null;

  if (policy.signal !== undefined && !isSignal(policy.signal)) throw invalid("policy.signal must be an AbortSignal");
  p.signal = policy.signal;
  p.capture = resolveCapture(policy.capture);
  return p;
}
