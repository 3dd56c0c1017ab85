// options.js — how the library reads the options it is given: own properties only, so that a polluted
// Object.prototype (a `redactLabels`, `cache` or `integrity` someone set on every object) changes nothing; and the
// limits that bound what one engine, one load and one call may take, with their defaults.

import { EdgetagError } from "./errors.js";

const MiB = 2 ** 20;

/** `object[key]` when `object` has `key` as its own property, else undefined (prototypes are not read). */
export function own(object, key) {
  return object !== null && (typeof object === "object" || typeof object === "function") &&
    Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/**
 * A copy of `object`'s own enumerable properties with no prototype, so that reading a key it lacks gives undefined
 * whatever Object.prototype holds (null and undefined give an empty one).
 */
export function ownCopy(object) {
  const out = Object.create(null);
  if (object === null || object === undefined) return out;
  if (typeof object !== "object") throw new EdgetagError("INVALID_ARGUMENT", "edgetag: options must be an object");
  for (const key of Object.keys(object)) out[key] = object[key];
  return out;
}

/**
 * The limits, each [default, min, max] (README "Limits" says what each bounds):
 *   maxMemory       bytes of wasm memory one engine may ever hold; more is split or refused (OUT_OF_MEMORY)
 *   maxBytes        bytes a model file may have, checked against Content-Length and as it streams (default: maxMemory)
 *   stallTimeoutMs  how long a model's body (or a fetch's answer) may send nothing before the load fails (IO)
 *   cacheTimeoutMs  how long a cache adapter's get, put or delete may take before it counts as failed
 *   batchTokens     tokens of one run of the encoder: classify's batches, extract's windows at a time (at least one
 *                   window of the model's positions)
 *   maxTextChars    UTF-16 code units of one text (INPUT beyond it)
 *   maxTexts        texts of one call (INPUT beyond it)
 *   maxTokens       tokens of one call, all texts together (INPUT beyond it)
 */
export const LIMITS = Object.freeze({
  maxMemory: Object.freeze([256 * MiB, 16 * MiB, 2 ** 32 - 2 ** 16]),
  maxBytes: Object.freeze([undefined, 1, 0x7ff00000]),
  stallTimeoutMs: Object.freeze([30_000, 1, 2 ** 31 - 1]),
  cacheTimeoutMs: Object.freeze([10_000, 1, 2 ** 31 - 1]),
  batchTokens: Object.freeze([2048, 1, 2 ** 24]),
  maxTextChars: Object.freeze([16 * MiB, 1, 2 ** 30]),
  maxTexts: Object.freeze([65_536, 1, 2 ** 24]),
  maxTokens: Object.freeze([4 * MiB, 1, 2 ** 30]),
});

/** The limits a Model enforces on its calls (the others belong to the engine and to loading). */
export const CALL_LIMITS = Object.freeze(["batchTokens", "maxTextChars", "maxTexts", "maxTokens"]);

/**
 * The limits among `names` as `options` gives them (own properties; each an integer in its range) or by default:
 * a frozen {name: value}. A wrong value is an INVALID_ARGUMENT naming the option.
 */
export function readLimits(options, names = Object.keys(LIMITS)) {
  const out = {};
  for (const name of names) {
    const [fallback, min, max] = LIMITS[name];
    const v = own(options, name);
    if (v === undefined) {
      out[name] = fallback;
      continue;
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: ${name} must be an integer in [${min}, ${max}], not ${String(v)}`);
    out[name] = v;
  }
  return Object.freeze(out);
}
