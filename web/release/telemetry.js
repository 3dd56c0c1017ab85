// telemetry.js — the team's own counters from the devices: the taggers' stats() (counts, latency and
// confidence histograms, escalation outcomes) with the model version and engine build, sent to an endpoint the
// team configures. Never a text, a token or an entity: a report is built only from numbers, from codes (keys and
// a few named values that look like identifiers), and what does not fit is dropped, whatever a stats() returns.
//
//   const t = telemetry({ endpoint: "https://telemetry.example/v1/edgetag", sources: { intents, notes } });
//   …  // every intervalMs, and when the page is hidden or left, the counters since the last report go out
//   t.stop();
//
// Each interval adds one batch (the counters' increase since the one before; a batch with no calls is not
// added) to a queue of at most maxBatches: offline (navigator.onLine false, or a failed send) the queue fills and
// the oldest batches are dropped, counted in the next report's `dropped`. Reports go by fetch() (POST, JSON,
// keepalive) on the interval and by navigator.sendBeacon() when the page is hidden (pagehide,
// visibilitychange), where the runtime has them. No identifier of the installation or the user is sent.

import { EdgetagError } from "../errors.js";
import { version as libraryVersion } from "../engine.js";

export const TELEMETRY_SCHEMA = "edgetag.telemetry/1";
export const TELEMETRY_DEFAULTS = Object.freeze({ intervalMs: 60_000, maxBatches: 20, maxBodyBytes: 60_000 });
const KEYS = ["endpoint", "sources", "headers", "fetch", "sendBeacon", "target", "online", "onError", ...Object.keys(TELEMETRY_DEFAULTS)];

/**
 * What a key, or a string value, may look like: an identifier, a code, a version, a channel — one word of at most
 * 64 of A-Z a-z 0-9 _ . + / -, so never a sentence, an e-mail address or a phone number. (A one-word text used as a
 * key by some stats() would still pass; the library's own counters are keyed by codes and versions only.)
 */
const CODE = /^[A-Za-z0-9_.+/-]{1,64}$/;
/** The only members whose string values are reported (when they look like CODE). */
const STRING_KEYS = new Set(["version", "channel", "flavour", "state", "phase", "kernels"]);
/** Numbers that are levels, not counters: reported as they are, not as an increase. */
const GAUGES = new Set(["inFlight", "queued", "peak", "consecutiveFailures"]);

const invalid = (message) => new EdgetagError("INVALID_ARGUMENT", `edgetag: telemetry: ${message}`);

/** Numbers, booleans, code-like strings under STRING_KEYS, arrays of numbers, objects with code-like keys; else dropped. */
export function sanitize(value, key = "") {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return STRING_KEYS.has(key) && CODE.test(value) ? value : undefined;
  if (Array.isArray(value)) return value.every((x) => typeof x === "number") ? value.map((x) => (Number.isFinite(x) ? x : null)) : undefined;
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (!CODE.test(k)) continue;
      const s = sanitize(v, k);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return undefined;
}

/** The increase from `prev` to `curr` (same shapes): counters subtracted, histogram bounds and gauges kept. */
function increase(curr, prev, key = "") {
  if (typeof curr === "number") return GAUGES.has(key) || typeof prev !== "number" ? curr : curr - prev;
  if (Array.isArray(curr)) return key === "bounds" || !Array.isArray(prev) || prev.length !== curr.length ? curr : curr.map((x, i) => x - prev[i]);
  if (curr && typeof curr === "object") return Object.fromEntries(Object.entries(curr).map(([k, v]) => [k, increase(v, prev?.[k], k)]));
  return curr;
}

/** Whether any counter of an increase is non-zero (negative: a counter was reset). */
function activity(d, key = "") {
  if (typeof d === "number") return GAUGES.has(key) ? 0 : d === 0 ? 0 : d > 0 ? 1 : -1;
  if (Array.isArray(d)) return key === "bounds" ? 0 : d.some((x) => x < 0) ? -1 : d.some((x) => x > 0) ? 1 : 0;
  if (d && typeof d === "object") {
    let any = 0;
    for (const [k, v] of Object.entries(d)) {
      const a = activity(v, k);
      if (a < 0) return -1;
      any ||= a;
    }
    return any;
  }
  return 0;
}

/** What a report says about one tagger besides its counters: version, channel, engine build (through wrappers). */
function identity(tagger) {
  const inner = tagger.tagger;
  return sanitize({
    version: tagger.version ?? inner?.version ?? tagger.info?.version ?? null,
    channel: tagger.state?.channel ?? inner?.state?.channel ?? null,
    flavour: tagger.flavour ?? tagger.engine?.flavour ?? inner?.flavour ?? inner?.engine?.flavour ?? null,
  });
}

/**
 * Starts reporting. `sources`: {name: tagger} whose stats() are read (an escalating tagger, a ReleaseTagger…).
 * Options: endpoint (required), intervalMs, maxBatches, maxBodyBytes, headers (for fetch), fetch, sendBeacon,
 * target (the EventTarget whose pagehide / visibilitychange flush: the page's window by default), online (() =>
 * boolean; default navigator.onLine), onError(error) (a failed send; it is kept and retried).
 */
export function telemetry(options) {
  if (!options || typeof options !== "object") throw invalid("options must be an object");
  for (const k of Object.keys(options)) if (!KEYS.includes(k)) throw invalid(`no option ${JSON.stringify(k)} (it takes ${KEYS.join(", ")})`);
  const o = { ...TELEMETRY_DEFAULTS, ...options };
  let endpoint;
  try {
    endpoint = new URL(o.endpoint, globalThis.location?.href).href;
  } catch {
    throw invalid("endpoint must be a URL");
  }
  if (!o.sources || typeof o.sources !== "object" || !Object.values(o.sources).every((s) => typeof s?.stats === "function"))
    throw invalid("sources must be {name: tagger}, each with stats()");
  if (!(o.intervalMs >= 0) || !(Number.isInteger(o.maxBatches) && o.maxBatches >= 1)) throw invalid("intervalMs must be ≥ 0 and maxBatches an integer ≥ 1");
  const doFetch = o.fetch ?? globalThis.fetch?.bind(globalThis);
  const beacon = o.sendBeacon ?? (typeof globalThis.navigator?.sendBeacon === "function" ? globalThis.navigator.sendBeacon.bind(globalThis.navigator) : null);
  const online = o.online ?? (() => globalThis.navigator?.onLine !== false);
  const target = o.target ?? (globalThis.document && typeof globalThis.addEventListener === "function" ? globalThis : null);

  const queue = [];
  let dropped = 0, last = {}, from = new Date().toISOString(), sending = null, stopped = false;

  /** Adds a batch: each source's increase since the last one (nothing when no source was used). */
  function collect() {
    const to = new Date().toISOString(), sources = {};
    let any = false;
    for (const [name, tagger] of Object.entries(o.sources)) {
      let stats;
      try {
        stats = sanitize(tagger.stats());
      } catch {
        continue; // a disposed tagger: nothing to say
      }
      let d = increase(stats, last[name]);
      const a = activity(d);
      if (a < 0) d = stats; // its counters were reset: report them whole
      last[name] = stats;
      if (a !== 0) {
        sources[name] = { ...identity(tagger), stats: d };
        any = true;
      }
    }
    if (any) queue.push({ from, to, sources });
    from = to;
    while (queue.length > o.maxBatches) {
      queue.shift();
      dropped++;
    }
    return any;
  }

  /** The report of the oldest batches that fit in maxBodyBytes (at least one): {body, count}. */
  function report() {
    let count = queue.length, body;
    for (;;) {
      body = JSON.stringify({ schema: TELEMETRY_SCHEMA, library: libraryVersion, sentAt: new Date().toISOString(), dropped,
        batches: queue.slice(0, count) });
      if (body.length <= o.maxBodyBytes || count === 1) return { body, count };
      count = Math.max(1, Math.floor(count / 2));
    }
  }

  function sent(count) {
    queue.splice(0, count);
    dropped = 0;
  }

  /** Sends the queue (by beacon when `beacon` and the runtime has one). Resolves whether it went. */
  async function flush({ beacon: useBeacon = false } = {}) {
    if (!queue.length || !online()) return false;
    const { body, count } = report();
    if (useBeacon && beacon) {
      // text/plain keeps a cross-origin beacon a simple request (no preflight, which beacons cannot make).
      const ok = beacon(endpoint, new Blob([body], { type: "text/plain;charset=UTF-8" }));
      if (ok) sent(count);
      return ok;
    }
    if (!doFetch) return false;
    try {
      const r = await doFetch(endpoint, { method: "POST", body, keepalive: true,
        headers: { "content-type": "application/json", ...o.headers } });
      r.body?.cancel().catch(() => {});
      if (!r.ok) throw new EdgetagError("IO", `edgetag: telemetry: ${endpoint} answered HTTP ${r.status}`);
      sent(count);
      return true;
    } catch (e) {
      o.onError?.(e);
      return false;
    }
  }

  async function tick() {
    collect();
    if (!sending) sending = flush().finally(() => { sending = null; });
    return sending;
  }

  const onHide = () => {
    collect();
    flush({ beacon: true });
  };
  const onVisibility = () => {
    if (globalThis.document?.visibilityState === "hidden") onHide();
  };
  target?.addEventListener("pagehide", onHide);
  target?.document?.addEventListener?.("visibilitychange", onVisibility);
  const timer = o.intervalMs > 0 ? setInterval(tick, o.intervalMs) : null;
  timer?.unref?.();

  return {
    /** Adds a batch now (the counters' increase since the last one); true when there was any. */
    collect,
    /** Sends what is queued now: {beacon: true} by navigator.sendBeacon. Resolves whether it went. */
    flush,
    /** collect() then flush(), as the interval does. */
    tick,
    /** Batches waiting to be sent. */
    get queued() { return queue.length; },
    /** Batches dropped since the last report that went (the queue was full). */
    get dropped() { return dropped; },
    /** Stops the interval and the page listeners (what is queued stays unsent). */
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      target?.removeEventListener("pagehide", onHide);
      target?.document?.removeEventListener?.("visibilitychange", onVisibility);
    },
  };
}
