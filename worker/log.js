// log.js — structured logs: one JSON object per line, with an event name and fields that are counts,
// names, codes and timings. Never a request's text, never a header, never a secret: the callers pass only
// fields from the list below, and anything else is dropped here, so a mistake cannot leak.

/** Levels in order; EDGETAG_LOG picks the lowest written ("off" writes nothing). */
const LEVELS = Object.freeze({ debug: 10, info: 20, warn: 30, error: 40, off: 100 });

/**
 * The fields a log line may hold. Free text never appears: `message` is only ever an error's message
 * built by the service or the library (they name models, sources and codes, not input text).
 */
const FIELDS = new Set([
  "id", "method", "path", "status", "ms", "model", "models", "texts", "chars", "code", "message", "source",
  "bytes", "sha256", "version", "retryInMs", "failures", "escalated", "answered", "runtime", "engine", "flavour",
  "kernels", "wasmBytes", "stats", "origin", "listen",
]);

export const LOG_LEVELS = Object.keys(LEVELS);

/**
 * A logger writing JSON lines through `write` (console.log by default: workerd and Workers collect it;
 * Node and Deno print it to stdout).
 * @param {{level?: string, write?: (line: string) => void, now?: () => number}} [options]
 */
export function createLogger({ level = "info", write = (line) => console.log(line), now = Date.now } = {}) {
  const min = LEVELS[level] ?? LEVELS.info;
  const emit = (lvl, event, fields = {}) => {
    if (LEVELS[lvl] < min) return;
    const line = { t: new Date(now()).toISOString(), level: lvl, event };
    for (const [k, v] of Object.entries(fields)) if (FIELDS.has(k) && v !== undefined) line[k] = v;
    try {
      write(JSON.stringify(line));
    } catch {
      // a logger never throws into a request
    }
  };
  return {
    level,
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
  };
}
