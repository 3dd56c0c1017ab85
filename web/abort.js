// abort.js — waiting with a way out: the caller's AbortSignal, and a time limit, raced against any promise. Used
// for bodies that stall, servers that do not answer and cache adapters that never settle.

/** The reason a signal aborted with (an AbortError DOMException when it gave none). */
export function abortError(signal) {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** Throws the signal's reason when it is aborted. */
export function checkAborted(signal) {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * Settles like `promise`, unless the signal aborts first (rejects with its reason) or `ms` pass first (rejects with
 * `onTimeout()`, when ms is given). The promise's own late rejection is then expected and ignored.
 */
export function raceAbort(promise, signal, ms, onTimeout) {
  if (!signal && !ms) return promise;
  promise.catch(() => {});
  checkAborted(signal);
  let onAbort, timer;
  const stopped = new Promise((_, reject) => {
    if (signal) {
      onAbort = () => reject(abortError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
    }
    if (ms) timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, stopped]).finally(() => {
    if (signal) signal.removeEventListener("abort", onAbort);
    clearTimeout(timer);
  });
}
