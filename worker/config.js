// config.js — the service's configuration: read from the environment (Workers vars, secrets and bindings;
// workerd bindings; Deno's and Node's process environment), checked whole on the first request, frozen.
// Every problem is collected and reported at once, as a ConfigError the handler answers with 500 on the
// API and 503 on /v1/health. Unknown keys are refused: a misspelt "sha265" must not silently skip a check.
//
// The variables (README "Edge service" has them with examples):
//   EDGETAG_MODELS          JSON object (a string, or an object where the platform has JSON bindings):
//                           name → {source, …} — see MODEL_KEYS. Unset: the entry point's bundled models
//                           (the three shipped int8 ones) by their own names.
//   EDGETAG_ESCALATION      JSON object: {url, kind, model, …} — see ESCALATION_KEYS. Unset: no escalation.
//   EDGETAG_CLOUD_KEY       secret: the cloud endpoint's API key (sent as keyHeader; never logged or returned).
//   EDGETAG_AUTH_TOKEN      secret: when set, every request needs "Authorization: Bearer <token>".
//   EDGETAG_CAPTURE         JSON object: {store: "kv" | "r2" | "file", binding, key, path, maxRecords, maxBytes,
//                           maxRecordBytes} — escalations the cloud answered, recorded for requests that say
//                           "capture": true (worker/capture.js). Needs EDGETAG_ESCALATION and EDGETAG_AUTH_TOKEN.
//   EDGETAG_CORS_ORIGINS    "*" or a comma-separated list of origins allowed to call from browsers.
//   EDGETAG_MAX_BODY_BYTES  largest request body (413 beyond it)                          default 65536
//   EDGETAG_MAX_TEXTS       most texts in one request (400 beyond it)                      default 32
//   EDGETAG_MAX_TEXT_CHARS  longest text, in UTF-16 code units (400 beyond it)             default 1000
//   EDGETAG_BATCH_TOKENS    texts of a classify request run in batches of at most this many tokens  default 512
//   EDGETAG_MAX_MEMORY      bytes of wasm memory the engine may hold; a request needing more gets 503      default 96 MiB
//   EDGETAG_LOAD_RETRY_MS   wait after a model fails to load, doubled per failure (to 5 min)         default 5000
//   EDGETAG_LOAD_TIMEOUT_MS longest a model may take to load                               default 30000
//   EDGETAG_STATS_FLUSH_SECONDS  how often the counters go to the log (0: every request; -1: never)  default 60
//   EDGETAG_LOG             debug | info | warn | error | off                              default info

import { CAPTURE_DEFAULTS, POLICY_DEFAULTS, withEscalation } from "../web/edgetag.js";
import { CAPTURE_STORES, DEFAULT_CAPTURE_KEY } from "./capture.js";
import { LOG_LEVELS } from "./log.js";

export const SOURCES = Object.freeze(["r2", "kv", "bundled", "url", "manifest"]);
/** The binding names a source reads when the model's entry does not name one. */
export const DEFAULT_BINDINGS = Object.freeze({ r2: "MODELS_BUCKET", kv: "MODELS_KV" });
const MODEL_KEYS = Object.freeze({
  common: ["source", "task", "escalate", "threshold"],
  r2: ["binding", "key", "sha256"],
  kv: ["binding", "key", "sha256"],
  bundled: ["module", "sha256"],
  url: ["manifest", "url", "sha256"],
  manifest: ["manifest", "publicKey", "channel", "installationId", "checkIntervalSeconds", "binding"],
});
/** A PII model in EDGETAG_ESCALATION.redact redacts every word it gives this probability of being personal data. */
export const DEFAULT_REDACT_MIN_PROBABILITY = 0.1;
/** How often a release channel's manifest is checked, in seconds, when its entry does not say. */
export const DEFAULT_CHECK_SECONDS = 300;
const PUBLIC_KEY = /^ed25519:[A-Za-z0-9+/]{43}=$/;
const ESCALATION_KEYS = Object.freeze(["url", "kind", "model", "keyHeader", "redact", "redactLabels", "redactMinProbability", "threshold",
  ...Object.keys(POLICY_DEFAULTS)]);
const NUMBERS = Object.freeze({
  maxBodyBytes: ["EDGETAG_MAX_BODY_BYTES", 65536, 64, 64 << 20],
  maxTexts: ["EDGETAG_MAX_TEXTS", 32, 1, 4096],
  maxTextChars: ["EDGETAG_MAX_TEXT_CHARS", 1000, 1, 1 << 20],
  batchTokens: ["EDGETAG_BATCH_TOKENS", 512, 16, 1 << 20],
  maxMemory: ["EDGETAG_MAX_MEMORY", 96 << 20, 16 << 20, 2 ** 32 - 2 ** 16],
  loadRetryMs: ["EDGETAG_LOAD_RETRY_MS", 5000, 0, 3_600_000],
  loadTimeoutMs: ["EDGETAG_LOAD_TIMEOUT_MS", 30000, 100, 3_600_000],
  statsFlushSeconds: ["EDGETAG_STATS_FLUSH_SECONDS", 60, -1, 86400],
});
/** Every variable the service reads (the README documents each; a test checks they agree). */
export const VARIABLES = Object.freeze(["EDGETAG_MODELS", "EDGETAG_ESCALATION", "EDGETAG_CLOUD_KEY", "EDGETAG_AUTH_TOKEN", "EDGETAG_CAPTURE",
  "EDGETAG_CORS_ORIGINS", ...Object.values(NUMBERS).map(([v]) => v), "EDGETAG_LOG"]);

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export class ConfigError extends Error {
  constructor(problems) {
    super(`configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** A variable's value: undefined when unset (workerd's fromEnvironment gives null, shells give ""). */
function value(env, name) {
  const v = env?.[name];
  return v === null || v === undefined || v === "" ? undefined : v;
}

/** A JSON variable: an object binding as it is, a string parsed. */
function json(env, name, problems) {
  const v = value(env, name);
  if (v === undefined) return undefined;
  if (typeof v === "object") return v;
  try {
    return JSON.parse(String(v));
  } catch (e) {
    problems.push(`${name} is not JSON (${e.message})`);
    return undefined;
  }
}

function number(env, [name, fallback, min, max], problems) {
  const v = value(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer in [${min}, ${max}], not ${JSON.stringify(v)}`);
    return fallback;
  }
  return n;
}

function unknownKeys(object, known, where, problems) {
  for (const k of Object.keys(object))
    if (!known.includes(k)) problems.push(`${where} has no key ${JSON.stringify(k)} (it takes ${known.join(", ")})`);
}

function isHttpUrl(s) {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

/** One model's entry, checked: {name, source, …} with the defaults filled in. */
function modelSpec(name, raw, bundledNames, problems) {
  const where = `EDGETAG_MODELS.${name}`;
  if (!MODEL_NAME.test(name)) problems.push(`model name ${JSON.stringify(name)} must be letters, digits, ".", "_" or "-" (at most 64)`);
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push(`${where} must be an object {source, …}`);
    return null;
  }
  if (!SOURCES.includes(raw.source)) {
    problems.push(`${where}.source must be one of ${SOURCES.join(", ")}, not ${JSON.stringify(raw.source)}`);
    return null;
  }
  const spec = { name, ...raw };
  unknownKeys(raw, [...MODEL_KEYS.common, ...MODEL_KEYS[raw.source]], where, problems);
  if (raw.sha256 !== undefined && !(typeof raw.sha256 === "string" && SHA256.test(raw.sha256.toLowerCase())))
    problems.push(`${where}.sha256 must be 64 hex digits (sha256sum's output)`);
  if (typeof raw.sha256 === "string") spec.sha256 = raw.sha256.toLowerCase();
  if (raw.task !== undefined && raw.task !== "classify" && raw.task !== "extract")
    problems.push(`${where}.task must be "classify" or "extract"`);
  if (raw.escalate !== undefined && typeof raw.escalate !== "boolean") problems.push(`${where}.escalate must be true or false`);
  if (raw.threshold !== undefined && typeof raw.threshold !== "number") problems.push(`${where}.threshold must be a number`);
  switch (raw.source) {
    case "r2":
    case "kv":
      spec.binding = raw.binding ?? DEFAULT_BINDINGS[raw.source];
      if (typeof spec.binding !== "string") problems.push(`${where}.binding must be a binding's name`);
      if (typeof raw.key !== "string" || !raw.key) problems.push(`${where}.key must name the ${raw.source === "r2" ? "object" : "entry"}`);
      if (raw.sha256 === undefined)
        problems.push(`${where}.sha256 is required for a${raw.source === "r2" ? "n r2" : " kv"} source (the file's sha256sum)`);
      break;
    case "bundled":
      spec.module = raw.module ?? name;
      if (!bundledNames.includes(spec.module))
        problems.push(`${where}: no bundled model ${JSON.stringify(spec.module)} in this build` +
          (bundledNames.length ? ` (it has ${bundledNames.join(", ")})` : " (this entry point bundles none: use worker/bundled.js)"));
      break;
    case "url":
      if ((raw.manifest === undefined) === (raw.url === undefined)) problems.push(`${where} takes either manifest or url`);
      else if (!isHttpUrl(raw.manifest ?? raw.url)) problems.push(`${where}.${raw.manifest ? "manifest" : "url"} must be an http(s) URL`);
      if (raw.url !== undefined && raw.sha256 === undefined) problems.push(`${where}.sha256 is required with url (or give a manifest)`);
      break;
    case "manifest":
      releaseSpec(spec, raw, where, problems);
      break;
  }
  return spec;
}

/** A signed release channel's entry (worker/release.js): where its manifest is, the keys it must be signed with. */
function releaseSpec(spec, raw, where, problems) {
  const m = typeof raw.manifest === "string" ? /^(r2|kv):(.+)$/.exec(raw.manifest) : null;
  if (m) {
    spec.binding = raw.binding ?? DEFAULT_BINDINGS[m[1]];
    if (typeof spec.binding !== "string") problems.push(`${where}.binding must be a binding's name`);
  } else if (!isHttpUrl(raw.manifest)) {
    problems.push(`${where}.manifest must be r2:<key>, kv:<key> or an http(s) URL of a release manifest`);
  } else if (raw.binding !== undefined) {
    problems.push(`${where}.binding goes with an r2: or kv: manifest`);
  }
  const keys = Array.isArray(raw.publicKey) ? raw.publicKey : [raw.publicKey];
  if (!keys.length || !keys.every((k) => typeof k === "string" && PUBLIC_KEY.test(k)))
    problems.push(`${where}.publicKey must be "ed25519:<base64 of 32 bytes>" (tools/release.mjs keygen prints it), or a list of them`);
  if (raw.channel !== undefined && !(typeof raw.channel === "string" && raw.channel.length > 0))
    problems.push(`${where}.channel must be the channel's name (e.g. "intent-clinc/stable")`);
  if (raw.installationId !== undefined && !(typeof raw.installationId === "string" && raw.installationId.length > 0 && raw.installationId.length <= 256))
    problems.push(`${where}.installationId must be a string (1 to 256 characters)`);
  spec.checkIntervalSeconds = raw.checkIntervalSeconds ?? DEFAULT_CHECK_SECONDS;
  if (!(Number.isInteger(spec.checkIntervalSeconds) && spec.checkIntervalSeconds >= 0 && spec.checkIntervalSeconds <= 86400))
    problems.push(`${where}.checkIntervalSeconds must be an integer in [0, 86400] (0: at every request)`);
}

function modelSpecs(env, bundledNames, defaultNames, problems) {
  const raw = json(env, "EDGETAG_MODELS", problems);
  if (raw === undefined) {
    const names = (defaultNames ?? bundledNames).filter((n) => bundledNames.includes(n));
    if (!names.length && !problems.length) problems.push("EDGETAG_MODELS is not set and this entry point bundles no model");
    return names.map((name) => ({ name, source: "bundled", module: name }));
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push('EDGETAG_MODELS must be a JSON object {"<name>": {"source": …}, …}');
    return [];
  }
  const specs = Object.entries(raw).map(([name, m]) => modelSpec(name, m, bundledNames, problems)).filter(Boolean);
  if (!specs.length) problems.push("EDGETAG_MODELS names no model");
  return specs;
}

/** A tagger that stands in for a model so the library checks an escalation policy before any model loads. */
const PROBE_TAGGER = { info: { task: "sequence_classification", labels: ["a"], threshold: null }, classify: () => ({}) };

function escalation(env, models, problems) {
  const raw = json(env, "EDGETAG_ESCALATION", problems);
  if (raw === undefined) return null;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push("EDGETAG_ESCALATION must be a JSON object {url, kind, model, …}");
    return null;
  }
  const before = problems.length;
  unknownKeys(raw, ESCALATION_KEYS, "EDGETAG_ESCALATION", problems);
  if (!isHttpUrl(raw.url)) problems.push("EDGETAG_ESCALATION.url must be an http(s) URL");
  const redact = raw.redact ?? [];
  if (!Array.isArray(redact) || redact.some((r) => typeof r !== "string"))
    problems.push('EDGETAG_ESCALATION.redact must be a list of PII model names and/or "patterns"');
  else for (const r of redact)
    if (r !== "patterns" && !models.some((m) => m.name === r))
      problems.push(`EDGETAG_ESCALATION.redact names ${JSON.stringify(r)}, which is neither "patterns" nor a configured model`);
  const mp = raw.redactMinProbability;
  if (mp !== undefined && !(typeof mp === "number" && mp > 0 && mp <= 1))
    problems.push("EDGETAG_ESCALATION.redactMinProbability must be a number in (0, 1]");
  if (raw.keyHeader !== undefined && !(typeof raw.keyHeader === "string" && /^[A-Za-z0-9-]+$/.test(raw.keyHeader)))
    problems.push("EDGETAG_ESCALATION.keyHeader must be a header name");
  const spec = { ...raw, kind: raw.kind ?? "openai", redact: Array.isArray(redact) ? redact : [], keyHeader: raw.keyHeader ?? "authorization",
    redactMinProbability: mp ?? DEFAULT_REDACT_MIN_PROBABILITY };
  if (problems.length === before) {
    // The library's own checks of the policy (numbers in range, the endpoint), on a stand-in tagger.
    try {
      const { url, kind, model, keyHeader, redact: _r, redactLabels: _l, redactMinProbability: _p, ...rest } = spec;
      withEscalation(PROBE_TAGGER, { endpoint: { url, kind, ...(model !== undefined && { model }) }, ...rest });
    } catch (e) {
      problems.push(`EDGETAG_ESCALATION: ${String(e?.message ?? e).replace(/^edgetag: /, "")}`);
    }
  }
  return spec;
}

const CAPTURE_KEYS = Object.freeze(["store", "binding", "key", "path", ...Object.keys(CAPTURE_DEFAULTS)]);

/** EDGETAG_CAPTURE: {store, binding, key, path, bounds} or null. Capture needs escalation, and auth for export/erase. */
function capture(env, escalationSpec, authToken, problems) {
  const raw = json(env, "EDGETAG_CAPTURE", problems);
  if (raw === undefined) return null;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push('EDGETAG_CAPTURE must be a JSON object {store: "kv" | "r2" | "file", …}');
    return null;
  }
  unknownKeys(raw, CAPTURE_KEYS, "EDGETAG_CAPTURE", problems);
  if (!CAPTURE_STORES.includes(raw.store)) problems.push(`EDGETAG_CAPTURE.store must be one of ${CAPTURE_STORES.join(", ")}`);
  if (raw.store === "file" && (typeof raw.path !== "string" || !raw.path)) problems.push("EDGETAG_CAPTURE.path must name a file");
  if (raw.key !== undefined && (typeof raw.key !== "string" || !raw.key)) problems.push("EDGETAG_CAPTURE.key must be a string");
  for (const k of Object.keys(CAPTURE_DEFAULTS))
    if (raw[k] !== undefined && !(Number.isInteger(raw[k]) && raw[k] >= 1)) problems.push(`EDGETAG_CAPTURE.${k} must be a positive integer`);
  if (!escalationSpec) problems.push("EDGETAG_CAPTURE records escalations: it needs EDGETAG_ESCALATION");
  if (!authToken) problems.push("EDGETAG_CAPTURE needs EDGETAG_AUTH_TOKEN, so that only the operator can export or erase the records");
  const binding = raw.binding ?? (raw.store === "kv" ? "CAPTURE_KV" : raw.store === "r2" ? DEFAULT_BINDINGS.r2 : undefined);
  return { ...raw, key: raw.key ?? DEFAULT_CAPTURE_KEY, ...(binding && { binding }) };
}

function corsOrigins(env, problems) {
  const v = value(env, "EDGETAG_CORS_ORIGINS");
  if (v === undefined) return null;
  const list = String(v).split(",").map((s) => s.trim()).filter(Boolean);
  if (list.includes("*")) return "*";
  for (const o of list) {
    let ok = false;
    try {
      ok = new URL(o).origin === o;
    } catch {
      // not a URL
    }
    if (!ok) problems.push(`EDGETAG_CORS_ORIGINS: ${JSON.stringify(o)} is not an origin (scheme://host[:port], no path)`);
  }
  return list;
}

/**
 * The configuration from `env`, or a ConfigError listing every problem.
 * @param {Record<string, unknown>} env
 * @param {string[]} bundledNames the models this entry point bundles
 * @param {string[]} [defaultNames] those served when EDGETAG_MODELS is unset (default: all bundled)
 */
export function readConfig(env, bundledNames = [], defaultNames) {
  const problems = [];
  const models = modelSpecs(env, bundledNames, defaultNames, problems);
  const limits = {};
  for (const [k, spec] of Object.entries(NUMBERS)) limits[k] = number(env, spec, problems);
  const log = value(env, "EDGETAG_LOG") ?? "info";
  if (!LOG_LEVELS.includes(log)) problems.push(`EDGETAG_LOG must be one of ${LOG_LEVELS.join(", ")}`);
  const authToken = value(env, "EDGETAG_AUTH_TOKEN");
  if (authToken !== undefined && typeof authToken !== "string") problems.push("EDGETAG_AUTH_TOKEN must be a string");
  const escalationSpec = escalation(env, models, problems);
  const config = {
    models,
    escalation: escalationSpec,
    capture: capture(env, escalationSpec, authToken, problems),
    cloudKey: value(env, "EDGETAG_CLOUD_KEY") ?? null,
    authToken: authToken ?? null,
    cors: corsOrigins(env, problems),
    log: LOG_LEVELS.includes(log) ? log : "info",
    ...limits,
  };
  if (problems.length) throw Object.assign(new ConfigError(problems), { partial: config });
  return deepFreeze(config);
}

function deepFreeze(o) {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
