// stats.js — the isolate's counters: requests by route and status, error codes, texts served, latency
// histograms per route, and when the counters were last flushed to the log. Never any text.

/** Upper bounds of the latency buckets in milliseconds; the last bucket is open. */
export const LATENCY_BOUNDS_MS = Object.freeze([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);

const histogram = () => ({ bounds: LATENCY_BOUNDS_MS, counts: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0), sum: 0, n: 0 });

function observe(h, ms) {
  let i = 0;
  while (i < h.bounds.length && !(ms < h.bounds[i])) i++;
  h.counts[i]++;
  h.sum += ms;
  h.n++;
}

/** An estimate of quantile q from a histogram: the upper bound of the bucket that holds it (null when empty). */
export function quantile(h, q) {
  if (!h.n) return null;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i];
    if (seen >= q * h.n) return i < h.bounds.length ? h.bounds[i] : Infinity;
  }
  return Infinity;
}

const bump = (record, key, by = 1) => { record[key] = (record[key] ?? 0) + by; };

export class ServiceStats {
  /** @param {() => number} now milliseconds (Date.now) */
  constructor(now = Date.now) {
    this.now = now;
    this.startedAt = now();
    this.lastFlushAt = this.startedAt;
    this.requests = 0;
    this.byRoute = {};
    this.byStatus = {};
    this.errors = {};
    this.texts = { classify: 0, extract: 0 };
    this.latencyMs = {};
    this.escalated = 0;
  }

  /**
   * One finished request: its route ("classify", "health", … or "other"), status, latency, how many texts
   * it ran and the error code when it failed.
   */
  record({ route, status, ms, texts = 0, code, escalated = 0 }) {
    this.requests++;
    bump(this.byRoute, route);
    bump(this.byStatus, String(status));
    if (code) bump(this.errors, code);
    if (texts && (route === "classify" || route === "extract")) this.texts[route] += texts;
    this.escalated += escalated;
    observe(this.latencyMs[route] ??= histogram(), ms);
  }

  /** Whether a flush to the log is due (every `seconds`; 0: after every request). */
  flushDue(seconds) {
    return seconds >= 0 && this.now() - this.lastFlushAt >= seconds * 1000;
  }

  markFlushed() {
    this.lastFlushAt = this.now();
  }

  /** The counters as plain data: totals, per route and status, latency histograms with p50 and p99. */
  snapshot() {
    const latency = {};
    for (const [route, h] of Object.entries(this.latencyMs))
      latency[route] = { bounds: [...h.bounds], counts: [...h.counts], n: h.n, meanMs: h.n ? h.sum / h.n : null,
        p50Ms: quantile(h, 0.5), p99Ms: quantile(h, 0.99) };
    return {
      since: new Date(this.startedAt).toISOString(),
      uptimeMs: this.now() - this.startedAt,
      requests: { total: this.requests, byRoute: { ...this.byRoute }, byStatus: { ...this.byStatus } },
      errors: { ...this.errors },
      texts: { ...this.texts },
      escalated: this.escalated,
      latencyMs: latency,
    };
  }
}
