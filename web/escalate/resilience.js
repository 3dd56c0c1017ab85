// resilience.js — what keeps escalation safe when the cloud is slow, failing or gone: the scope of one call
// (stopped by the caller or by dispose()), abortable waits, the failures of one attempt and which are worth
// another (Retry-After honoured), a circuit breaker and a concurrency cap.

/** A monotonic clock in milliseconds where there is one. */
export const now = () => (globalThis.performance?.now ? globalThis.performance.now() : Date.now());

/** HTTP statuses worth another attempt; every other non-2xx status fails at once. */
export const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * The life of one call: stopped by the caller (policy.signal or the call's {signal}) or by dispose().
 * Everything that waits inside the call (the queue, backoff, attempts) subscribes here rather than on the
 * caller's AbortSignal, so a batch of many escalations adds one listener to it, not one per escalation.
 */
export class CallScope {
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
export const STOPPED = Object.freeze({ stopped: true });

/** Resolves after ms; rejects with STOPPED when the call stops first (and clears the timer). */
export function sleep(ms, scope) {
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
export function abortable(promise, signal) {
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
export function parseRetryAfter(value) {
  if (value === null || value === undefined) return undefined;
  const v = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!/^[A-Za-z]{3}, /.test(v)) return undefined; // an HTTP date starts with its day: "Wed, 21 Oct 2015 07:28:00 GMT"
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The cloud could not answer: reason is "timeout" | "network" | "redirect" | "http_<status>". */
export class CloudFailure extends Error {
  constructor(reason, retryable, retryAfterMs) {
    super(`edgetag: escalation failed: ${reason}`);
    this.reason = reason;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Closed → open after `failures` consecutive failed attempts; open → half-open after `coolDownMs`, when one
 * escalation (a single attempt, no retries) probes the endpoint; its success closes the breaker, its failure
 * opens it again for another cool-down. Any HTTP 2xx counts as success, even with an answer that is rejected.
 */
export class Breaker {
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
export class Limiter {
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
