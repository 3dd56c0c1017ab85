// manifest.js — the release manifest, edgetag.release/1 (models/RELEASE.md): its members checked whole, the
// canonical encoding its signature covers, and the engine-version bounds.
//
// The contract: parseManifest(text) answers a frozen, checked manifest or throws one EdgetagError that lists
// every problem ("UNSIGNED" when the signature is missing, "MANIFEST" otherwise). It checks the shape only:
// the signature, the channel and the validity window are verify.js's.

import { EdgetagError } from "../errors.js";

export const SCHEMA = "edgetag.release/1";
/** The largest manifest read (a 151-label classifier's is about 5 KB, its previous release included). */
export const MAX_MANIFEST_BYTES = 1 << 20;

const TASKS = Object.freeze(["sequence_classification", "token_classification", "embedding"]);
const CHANNEL = /^[a-z0-9][a-z0-9._-]{0,63}(\/[a-z0-9][a-z0-9._-]{0,63}){0,3}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const ENGINE = /^\d{1,6}(\.\d{1,6}){0,2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

/** The members of a release (the manifest's own, and previous's) and of the manifest around it. */
const RELEASE_KEYS = Object.freeze(["version", "sha256", "size", "task", "labels", "minEngine", "maxEngine", "urls", "test"]);
const PREVIOUS_KEYS = Object.freeze([...RELEASE_KEYS, "createdAt"]);
const MANIFEST_KEYS = Object.freeze(["schema", "channel", "name", ...RELEASE_KEYS, "rollout", "previous", "createdAt", "expiresAt",
  "keyId", "signature"]);
const OPTIONAL = new Set(["maxEngine", "test", "previous"]);

/**
 * RFC 8785 (JSON Canonicalization Scheme): members sorted by UTF-16 code units, no whitespace, strings and
 * numbers as ECMAScript's JSON.stringify writes them. Refuses what JSON cannot say exactly (undefined,
 * functions, non-finite numbers) rather than dropping it.
 */
export function canonicalize(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new EdgetagError("MANIFEST", `edgetag: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(",")}}`;
  }
  throw new EdgetagError("MANIFEST", `edgetag: a ${typeof value} has no JSON form`);
}

/** The bytes the signature covers: the canonical UTF-8 of the manifest without its signature member. */
export function signedBytes(manifest) {
  const { signature: _signature, ...rest } = manifest;
  return new TextEncoder().encode(canonicalize(rest));
}

/** A version's numeric parts: "0.1.0-rc.1" → [0, 1, 0] (what follows "-" or "+" is ignored). */
function parts(v) {
  return String(v).split(/[-+]/)[0].split(".").map((x) => Number.parseInt(x, 10) || 0);
}

/** <0, 0 or >0 as version a is older than, the same as or newer than b, comparing `length` parts (default all). */
export function compareVersions(a, b, length) {
  const [x, y] = [parts(a), parts(b)];
  const n = length ?? Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/**
 * Why a release cannot run on engine `engine` (the library's version), or null when it can: below minEngine,
 * or past maxEngine, which bounds as a prefix ("0.1" admits every 0.1.x).
 */
export function engineProblem(release, engine) {
  if (compareVersions(engine, release.minEngine) < 0) return `needs engine ${release.minEngine} or newer (this is ${engine})`;
  if (release.maxEngine !== undefined && compareVersions(engine, release.maxEngine, parts(release.maxEngine).length) > 0)
    return `needs engine ${release.maxEngine} or older (this is ${engine})`;
  return null;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isTime = (v) => typeof v === "string" && TIME.test(v) && Number.isFinite(Date.parse(v));

function checkTest(test, where, task, problems) {
  if (!isObject(test) || typeof test.input !== "string" || !test.input || test.input.length > 1000 || !isObject(test.expect)) {
    problems.push(`${where} must be {"input": a text of 1 to 1000 characters, "expect": {…}}`);
    return;
  }
  for (const k of Object.keys(test)) if (k !== "input" && k !== "expect") problems.push(`${where} has no member ${JSON.stringify(k)}`);
  const e = test.expect, keys = Object.keys(e);
  const label = keys.length === 1 && typeof e.label === "string";
  const entities = keys.length === 1 && Array.isArray(e.entities) && e.entities.every((x) => isObject(x) &&
    Object.keys(x).length === 2 && typeof x.label === "string" && typeof x.text === "string");
  if (task === "sequence_classification" && !label) problems.push(`${where}.expect must be {"label": "…"} for a sequence classifier`);
  else if (task === "token_classification" && !entities)
    problems.push(`${where}.expect must be {"entities": [{"label", "text"}, …]} for a token classifier`);
  else if (task === "embedding") problems.push(`${where}: an embedding model has no expected output to test`);
}

/** Checks one release's members (the manifest's own, or previous's) into `problems`. */
function checkRelease(r, where, problems) {
  const at = (k) => (where ? `${where}.${k}` : k);
  if (typeof r.version !== "string" || !VERSION.test(r.version))
    problems.push(`${at("version")} must be 1 to 128 of A-Z a-z 0-9 . _ + -, starting with a letter or digit`);
  if (typeof r.sha256 !== "string" || !HEX64.test(r.sha256)) problems.push(`${at("sha256")} must be 64 lowercase hex digits`);
  if (!Number.isSafeInteger(r.size) || r.size <= 0) problems.push(`${at("size")} must be a positive integer (bytes)`);
  if (!TASKS.includes(r.task)) problems.push(`${at("task")} must be one of ${TASKS.join(", ")}`);
  if (!Array.isArray(r.labels) || !r.labels.every((l) => typeof l === "string" && l.length > 0 && l.length <= 256))
    problems.push(`${at("labels")} must be the model's labels, an array of strings`);
  if (typeof r.minEngine !== "string" || !ENGINE.test(r.minEngine)) problems.push(`${at("minEngine")} must be MAJOR[.MINOR[.PATCH]]`);
  if (r.maxEngine !== undefined && (typeof r.maxEngine !== "string" || !ENGINE.test(r.maxEngine)))
    problems.push(`${at("maxEngine")} must be MAJOR[.MINOR[.PATCH]]`);
  if (!Array.isArray(r.urls) || r.urls.length < 1 || r.urls.length > 8 ||
      !r.urls.every((u) => typeof u === "string" && u.length > 0 && u.length <= 2048))
    problems.push(`${at("urls")} must list 1 to 8 URLs of the file`);
  if (r.test !== undefined) checkTest(r.test, at("test"), r.task, problems);
}

function unknown(object, known, where, problems) {
  for (const k of Object.keys(object))
    if (!known.includes(k)) problems.push(`${where ? `${where} has` : "it has"} no member ${JSON.stringify(k)} in ${SCHEMA}`);
}

function deepFreeze(o) {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * Reads a manifest: `text` is its JSON (a string or UTF-8 bytes) or the object already parsed. `where` names
 * it in messages (its URL). Answers the manifest, deep-frozen; throws EdgetagError "MANIFEST" (not JSON, too
 * big, any member wrong: all are listed) or "UNSIGNED" (well formed, but no signature).
 */
export function parseManifest(text, where = "the release manifest") {
  let m = text;
  if (typeof text === "string" || text instanceof Uint8Array) {
    const size = typeof text === "string" ? text.length : text.byteLength;
    if (size > MAX_MANIFEST_BYTES) throw new EdgetagError("MANIFEST", `edgetag: ${where} is over ${MAX_MANIFEST_BYTES} bytes`);
    try {
      m = JSON.parse(typeof text === "string" ? text : new TextDecoder().decode(text));
    } catch (e) {
      throw new EdgetagError("MANIFEST", `edgetag: ${where} is not JSON (${e.message})`);
    }
  }
  if (!isObject(m)) throw new EdgetagError("MANIFEST", `edgetag: ${where} is not a JSON object`);
  const problems = [];
  if (m.schema !== SCHEMA) problems.push(`schema must be "${SCHEMA}"`);
  unknown(m, MANIFEST_KEYS, "", problems);
  for (const k of MANIFEST_KEYS) if (!OPTIONAL.has(k) && k !== "signature" && !(k in m)) problems.push(`${k} is missing`);
  if (typeof m.channel !== "string" || !CHANNEL.test(m.channel))
    problems.push("channel must be lowercase a-z 0-9 . _ - segments joined by / (at most 4 of 64)");
  if (typeof m.name !== "string" || !m.name || m.name.length > 128) problems.push("name must be 1 to 128 characters");
  checkRelease(m, "", problems);
  if (typeof m.rollout !== "number" || !(m.rollout >= 0 && m.rollout <= 100)) problems.push("rollout must be a percentage, 0 to 100");
  if (m.previous !== undefined && m.previous !== null) {
    if (!isObject(m.previous)) problems.push("previous must be a release or null");
    else {
      unknown(m.previous, PREVIOUS_KEYS, "previous", problems);
      checkRelease(m.previous, "previous", problems);
      if (!isTime(m.previous.createdAt)) problems.push("previous.createdAt must be an RFC 3339 UTC time (2026-12-01T09:00:00Z)");
      if (m.previous.sha256 === m.sha256) problems.push("previous names the same file as the release itself");
    }
  }
  for (const k of ["createdAt", "expiresAt"]) if (!isTime(m[k])) problems.push(`${k} must be an RFC 3339 UTC time (2026-12-01T09:00:00Z)`);
  if (isTime(m.createdAt) && isTime(m.expiresAt) && Date.parse(m.expiresAt) <= Date.parse(m.createdAt))
    problems.push("expiresAt must be after createdAt");
  if (typeof m.keyId !== "string" || !KEY_ID.test(m.keyId)) problems.push("keyId must be 16 lowercase hex digits");
  if (m.signature !== undefined && (typeof m.signature !== "string" || !SIGNATURE.test(m.signature)))
    problems.push("signature must be the base64 of 64 bytes (88 characters)");
  if (problems.length) throw new EdgetagError("MANIFEST", `edgetag: ${where} is not a valid ${SCHEMA} manifest: ${problems.join("; ")}`);
  if (m.signature === undefined) throw new EdgetagError("UNSIGNED", `edgetag: ${where} is not signed (it has no signature member)`);
  return deepFreeze(structuredClone(m));
}

/** The manifest's two releases as the client chooses between them: {current, previous|null}, urls absolute. */
export function releasesOf(manifest, base) {
  const resolve = (r) => r && Object.freeze({
    ...Object.fromEntries(RELEASE_KEYS.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])),
    urls: Object.freeze(r.urls.map((u) => new URL(u, base).href)),
  });
  return { current: resolve(manifest), previous: resolve(manifest.previous ?? null) };
}
