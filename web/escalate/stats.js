// stats.js — telemetry of an escalating tagger: counters and histograms, never any text.

/** Upper bounds of the latency histograms' buckets, in milliseconds (the last bucket is open). */
export const LATENCY_BOUNDS_MS = Object.freeze([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]);
/** Upper bounds of the confidence histogram's buckets (local scores; the last bucket holds [0.9, ∞)). */
export const CONFIDENCE_BOUNDS = Object.freeze([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);

export function histogram(bounds) {
  return { bounds, counts: new Array(bounds.length + 1).fill(0) };
}

export function observe(h, value) {
  if (typeof value !== "number" || Number.isNaN(value)) return;
  let i = 0;
  while (i < h.bounds.length && !(value < h.bounds[i])) i++;
  h.counts[i]++;
}

export function bump(record, key) {
  record[key] = (record[key] ?? 0) + 1;
}

export function emptyStats() {
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
    capture: { recorded: 0, declined: 0, refused: 0, failed: 0, evicted: 0 },
  };
}

export function copyStats(s) {
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
    capture: { ...s.capture },
  };
}
