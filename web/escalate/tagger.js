// tagger.js — the escalating tagger: the local answer first, then, for each uncertain one, an escalation.
//
// One escalation, in order: offline? → breaker open? → redact → wait for a slot (maxConcurrent, maxQueue)
// → attempts (timeoutMs each; retries with jittered exponential backoff, Retry-After honoured up to
// maxRetryAfterMs) → validate the answer → map spans back through the redaction → with policy.capture and
// consent, record the text as sent and the teacher's answer (../capture/) → result.

import { consentGiven } from "../capture/consent.js";
import { captureRecord, spanInSent } from "../capture/record.js";
import { EdgetagError } from "../errors.js";
import { redactText, unredactSpan } from "../redact.js";
import { InvalidAnswer, attemptFailure, validateClassification, validateEntities } from "./adapters.js";
import { invalid, isSignal, resolvePolicy } from "./policy.js";
import { Breaker, CallScope, CloudFailure, Limiter, STOPPED, abortable, now, sleep } from "./resilience.js";
import { bump, copyStats, emptyStats, observe } from "./stats.js";

/**
 * Why an escalation ends without a cloud answer: outcome "skipped" | "failed" | "rejected", its reason, and
 * what the result reports besides (attempts, retryAfterMs, detail). `stopped`: the call stopped; the
 * caller's abort then rejects instead.
 */
class Unanswered {
  constructor(outcome, reason, extra = {}, stopped = false) {
    this.outcome = outcome;
    this.reason = reason;
    this.extra = extra;
    this.stopped = stopped;
  }

  /** The call stopped (the caller aborted, or dispose()) during a step that ends `outcome`. */
  static stopped(outcome, extra) {
    return new Unanswered(outcome, "disposed", extra, true);
  }
}

/** Why a local answer wants the cloud: "low_score", "label" (in escalateLabels) or "model" (its own flag); null if not. */
function classifyTrigger(local, threshold, modelFlag, escalateLabels) {
  if (!(local.score >= threshold)) return "low_score"; // NaN escalates too
  if (escalateLabels.has(local.label)) return "label";
  if (modelFlag && local.escalate === true) return "model";
  return null;
}

class EscalatingTagger {
  #tagger;
  #p;
  #breaker;
  #limiter;
  #stats = emptyStats();
  #calls = new Set(); // the CallScopes of calls under way
  #disposed = false;

  constructor(tagger, policy) {
    this.#tagger = tagger;
    this.#p = policy;
    this.#breaker = new Breaker(policy.breakerFailures, policy.breakerCoolDownMs);
    this.#limiter = new Limiter(policy.maxConcurrent, policy.maxQueue);
  }

  /** The wrapped tagger's info. */
  get info() {
    return this.#tagger.info;
  }

  /** The wrapped tagger itself. */
  get tagger() {
    return this.#tagger;
  }

  /** Passes through to the wrapped tagger. */
  async tokenize(...args) {
    return this.#passThrough("tokenize", args);
  }

  /** Passes through to the wrapped tagger. */
  async embed(...args) {
    return this.#passThrough("embed", args);
  }

  async #passThrough(name, args) {
    this.#checkLive();
    if (typeof this.#tagger[name] !== "function") throw new EdgetagError("UNSUPPORTED", `edgetag: the tagger has no ${name}()`);
    return this.#tagger[name](...args);
  }

  #checkLive() {
    if (this.#disposed) throw new EdgetagError("STATE", "edgetag: the escalating tagger was disposed");
    if (!this.#tagger.info) throw new EdgetagError("STATE", "edgetag: the wrapped tagger was disposed");
  }

  /** policy.signal stops every call under way: one listener, there while there are calls. */
  #onPolicyAbort = () => {
    for (const scope of this.#calls) scope.stop(true, this.#p.signal.reason);
  };

  /**
   * Runs body(scope) as one call: the scope stops when the caller's signals abort or on dispose(). The
   * caller's abort rejects with its reason (counted in stats.aborted); the listeners go when the call ends.
   */
  async #call(signal, body) {
    if (signal !== undefined && !isSignal(signal)) throw invalid("options.signal must be an AbortSignal");
    const scope = new CallScope();
    const policySignal = this.#p.signal;
    const onAbort = () => scope.stop(true, signal.reason);
    if (policySignal?.aborted) scope.stop(true, policySignal.reason);
    else if (signal?.aborted) scope.stop(true, signal.reason);
    if (policySignal && this.#calls.size === 0) policySignal.addEventListener("abort", this.#onPolicyAbort);
    this.#calls.add(scope);
    signal?.addEventListener("abort", onAbort);
    try {
      scope.throwIfCallerStopped();
      return await body(scope);
    } catch (err) {
      if (scope.stopped?.byCaller) {
        this.#stats.aborted++;
        throw scope.stopped.reason;
      }
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#calls.delete(scope);
      if (policySignal && this.#calls.size === 0) policySignal.removeEventListener("abort", this.#onPolicyAbort);
    }
  }

  /** Runs the local tagger (sync or async), timing it. */
  async #local(name, input, options) {
    const t0 = now();
    const result = await this.#tagger[name](input, options);
    observe(this.#stats.localLatencyMs, now() - t0);
    return result;
  }

  /**
   * Classifies a text or an array of texts: one local batch, then each uncertain text is escalated
   * (concurrently, within maxConcurrent/maxQueue). Resolves the local answer whenever the cloud cannot give
   * one; rejects only when the caller aborts (with the signal's reason) or on bad arguments.
   */
  async classify(input, options = {}) {
    this.#checkLive();
    const single = !Array.isArray(input);
    const texts = single ? [input] : input;
    if (texts.some((t) => typeof t !== "string")) throw invalid("classify() takes a string or an array of strings");
    if (typeof this.#tagger.classify !== "function") throw new EdgetagError("UNSUPPORTED", "edgetag: the tagger has no classify()");
    if (!Array.isArray(this.info.labels) || !this.info.labels.length) throw invalid("the tagger's info has no labels");
    const callCapture = checkCallCapture(options?.capture);
    return this.#call(options?.signal, async (scope) => {
      const locals = texts.length ? await this.#local("classify", single ? input : texts) : [];
      scope.throwIfCallerStopped();
      const list = single ? [locals] : locals;
      if (!Array.isArray(list) || list.length !== texts.length)
        throw new EdgetagError("STATE", "edgetag: the tagger's classify() answered another number of results");
      const threshold = this.#p.threshold.classify ?? this.#p.defaultThreshold;
      const modelFlag = this.#p.threshold.classify === undefined;
      const results = await Promise.all(list.map(async (local, i) => {
        this.#stats.requests.classify++;
        observe(this.#stats.confidence, local.score);
        const base = { label: local.label, score: local.score, scores: local.scores, source: "local", localLabel: local.label, localScore: local.score };
        const trigger = classifyTrigger(local, threshold, modelFlag, this.#p.escalateLabels);
        if (!trigger) return { ...base, escalation: { wanted: false } };
        const forCapture = { label: local.label, score: local.score, threshold, callCapture };
        const e = await this.#escalate("classify", texts[i], trigger, scope, null, forCapture);
        if (!e.answer) return { ...base, escalation: e.escalation };
        return { ...base, label: e.answer.label, score: e.answer.score, source: "cloud", escalation: e.escalation };
      }));
      return single ? results[0] : results;
    });
  }

  /**
   * Extracts entities: the local answer, escalated when an entity's score is below the threshold (a text
   * without entities counts as confidence 1), or, without policy.threshold, when the model flags it.
   * Resolves the local answer whenever the cloud cannot give one; rejects only on the caller's abort.
   */
  async extract(text, options = {}) {
    this.#checkLive();
    if (typeof text !== "string") throw invalid("extract() takes a string");
    if (typeof this.#tagger.extract !== "function") throw new EdgetagError("UNSUPPORTED", "edgetag: the tagger has no extract()");
    if (!entityTypesOf(this.info).length) throw invalid("the tagger's info has no entity types");
    const { signal, capture, ...localOptions } = options ?? {}; // a signal cannot go to a worker: it stays here
    const callCapture = checkCallCapture(capture);
    return this.#call(signal, async (scope) => {
      const local = await this.#local("extract", text, localOptions);
      scope.throwIfCallerStopped();
      if (!local || !Array.isArray(local.entities)) throw new EdgetagError("STATE", "edgetag: the tagger's extract() answered no entities");
      this.#stats.requests.extract++;
      const localScore = local.entities.reduce((m, e) => Math.min(m, e.score), 1);
      observe(this.#stats.confidence, localScore);
      const threshold = this.#p.threshold.extract ?? this.#p.defaultThreshold;
      const trigger = !(localScore >= threshold) ? "low_score"
        : this.#p.threshold.extract === undefined && local.escalate === true ? "model" : null;
      const base = { entities: local.entities, source: "local", localScore };
      if (!trigger) return { ...base, escalation: { wanted: false } };
      const forCapture = { entities: local.entities, score: localScore, threshold, callCapture };
      const e = await this.#escalate("extract", text, trigger, scope, this.#p.redact === true ? local.entities : null, forCapture);
      if (!e.answer) return { ...base, escalation: e.escalation };
      return { entities: e.answer.entities, source: "cloud", localScore, localEntities: local.entities, escalation: e.escalation };
    });
  }

  /**
   * One escalation of one text: {answer, escalation}, answer null when the cloud did not give a valid one.
   * Each step either hands the next what it needs or throws Unanswered, which says why the escalation ends
   * here; only the caller's abort reason is thrown out of it.
   */
  async #escalate(task, text, trigger, scope, localEntities, forCapture) {
    const es = this.#stats.escalations;
    es.wanted++;
    bump(es.byTrigger, trigger);
    try {
      this.#admit(scope);
      const redaction = await this.#redact(text, localEntities, scope);
      const release = await this.#waitForSlot(scope);
      let answered;
      try {
        answered = await this.#ask(task, text, redaction, trigger, scope);
      } finally {
        release();
      }
      const { sent, ...out } = answered;
      if (this.#p.capture) out.escalation.captured = await this.#capture(task, sent, redaction, trigger, forCapture);
      return out;
    } catch (err) {
      if (!(err instanceof Unanswered)) throw err;
      if (err.stopped) scope.throwIfCallerStopped(); // the caller's abort rejects; dispose() ends the escalation
      bump(es[err.outcome], err.reason);
      return { answer: null, escalation: { wanted: true, trigger, outcome: err.outcome, reason: err.reason, attempts: 0, ...err.extra } };
    }
  }

  /** Admission: not when the call has stopped, the device is offline or the breaker is open. */
  #admit(scope) {
    if (scope.stopped) throw Unanswered.stopped("skipped");
    if (globalThis.navigator?.onLine === false) throw new Unanswered("skipped", "offline");
    if (!this.#breaker.canPass()) throw new Unanswered("skipped", "breaker_open");
  }

  /** Redaction: the placeholders' text and map, or null without redaction; when the redactor fails, nothing is sent. */
  async #redact(text, localEntities, scope) {
    let redaction = null;
    try {
      const entities = await this.#redactionEntities(text, localEntities);
      if (entities) redaction = redactText(text, entities, this.#p.redactLabels);
    } catch {
      throw scope.stopped ? Unanswered.stopped("skipped") : new Unanswered("skipped", "redaction_failed");
    }
    if (scope.stopped) throw Unanswered.stopped("skipped");
    return redaction;
  }

  /** Entities to redact from `text`, or null when there is no redaction. */
  async #redactionEntities(text, localEntities) {
    const r = this.#p.redact;
    if (r === false) return null;
    if (r === true) return localEntities ?? (await this.#tagger.extract(text)).entities;
    const found = await r.extract(text);
    if (!found || !Array.isArray(found.entities)) throw new Error("edgetag: the redaction tagger answered no entities");
    return found.entities;
  }

  /** The concurrency cap: a slot's release function, once one is free; skipped when the queue is full. */
  async #waitForSlot(scope) {
    const waiting = this.#limiter.acquire(scope);
    if (!waiting) throw new Unanswered("skipped", "concurrency");
    try {
      return await waiting;
    } catch {
      throw Unanswered.stopped("skipped");
    }
  }

  /** The cloud asked under a ticket of the breaker: the attempts, then their answer validated. */
  async #ask(task, text, redaction, trigger, scope) {
    const ticket = this.#breaker.enter();
    if (!ticket) throw new Unanswered("skipped", "breaker_open");
    try {
      const request = this.#request(task, redaction ? redaction.text : text, redaction !== null);
      const t0 = now();
      const { answer, attempts } = await this.#attempts(request, ticket, scope, t0);
      return this.#answered({ task, answer, request, redaction, original: text, trigger, attempts, t0 });
    } finally {
      this.#breaker.leave(ticket);
    }
  }

  /** What the endpoint is asked: the text as sent, and the labels or entity types to answer with. */
  #request(task, sent, redacted) {
    const info = this.#tagger.info;
    return task === "classify"
      ? { task, text: sent, labels: info.labels, redacted }
      : { task, text: sent, entityTypes: entityTypesOf(info), redacted };
  }

  /**
   * The attempts: the endpoint's raw answer and how many attempts it took. A retryable failure waits (jittered
   * exponential backoff, or Retry-After) and tries again while attempts remain and the breaker stays closed;
   * a probe of a half-open breaker has one attempt.
   */
  async #attempts(request, ticket, scope, t0) {
    const maxAttempts = ticket.probe ? 1 : this.#p.retries + 1;
    for (let attempts = 1; ; attempts++) {
      this.#stats.attempts++;
      try {
        const answer = await this.#attempt(request, scope);
        this.#breaker.success(ticket);
        return { answer, attempts };
      } catch (err) {
        if (err === STOPPED) throw Unanswered.stopped("failed", { attempts });
        if (err instanceof InvalidAnswer) { // a 2xx whose body is no answer: the endpoint is up
          this.#breaker.success(ticket);
          throw this.#rejected(err, attempts, t0);
        }
        this.#breaker.failure(ticket);
        const extra = { attempts };
        if (err.retryAfterMs !== undefined) extra.retryAfterMs = err.retryAfterMs;
        const tooLong = err.retryAfterMs !== undefined && err.retryAfterMs > this.#p.maxRetryAfterMs;
        if (!err.retryable || attempts >= maxAttempts || tooLong || this.#breaker.state !== "closed") {
          observe(this.#stats.cloudLatencyMs, now() - t0);
          throw new Unanswered("failed", err.reason, extra);
        }
        try {
          await sleep(this.#retryDelayMs(err, attempts), scope);
        } catch {
          throw Unanswered.stopped("failed", extra);
        }
        this.#stats.retries++;
      }
    }
  }

  /** The wait before attempt `attempts + 1`: half to all of the exponential backoff, or Retry-After when longer. */
  #retryDelayMs(err, attempts) {
    const backoff = Math.min(this.#p.maxBackoffMs, this.#p.backoffMs * 2 ** (attempts - 1));
    return Math.max(err.retryAfterMs ?? 0, backoff / 2 + (Math.random() * backoff) / 2);
  }

  /**
   * One attempt, bounded by timeoutMs: the raw answer, or it throws CloudFailure, InvalidAnswer, or STOPPED
   * when the call stops.
   */
  async #attempt(request, scope) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new CloudFailure("timeout", true)), this.#p.timeoutMs);
    const unsubscribe = scope.onStop(() => controller.abort(STOPPED));
    const signal = controller.signal;
    try {
      const work = Promise.resolve().then(() => this.#p.endpoint.call(request, signal));
      return await abortable(work, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason; // STOPPED, or the CloudFailure("timeout")
      throw attemptFailure(err, this.#p.endpoint.kind);
    } finally {
      clearTimeout(timer);
      unsubscribe();
    }
  }

  /** An answer that failed validation: counted by its defect; the escalation ends "rejected". */
  #rejected(err, attempts, t0) {
    observe(this.#stats.cloudLatencyMs, now() - t0);
    bump(this.#stats.invalidAnswers, err.detail);
    return new Unanswered("rejected", "invalid_answer", { attempts, detail: err.detail });
  }

  /** The answer validated and mapped back through the redaction: the escalation's result. */
  #answered({ task, answer, request, redaction, original, trigger, attempts, t0 }) {
    let result;
    try {
      result = this.#accept(task, answer, request, redaction, original);
    } catch (err) {
      if (!(err instanceof InvalidAnswer)) throw err;
      throw this.#rejected(err, attempts, t0);
    }
    const st = this.#stats;
    const latencyMs = now() - t0;
    observe(st.cloudLatencyMs, latencyMs);
    st.escalations.answered++;
    const escalation = { wanted: true, trigger, outcome: "answered", attempts, latencyMs };
    if (result.repaired) {
      escalation.repairedSpans = result.repaired;
      st.repairedSpans += result.repaired;
    }
    if (redaction) escalation.redacted = redaction.count;
    return { answer: result, escalation, sent: { text: request.text, answer: result.sent ?? result } };
  }

  /** Validates an answer and maps it back to the original text; throws InvalidAnswer. */
  #accept(task, answer, request, redaction, original) {
    if (task === "classify") return validateClassification(answer, request.labels);
    const { entities, repaired } = validateEntities(answer, request.text, request.entityTypes);
    if (!redaction) return { entities, repaired };
    const sent = { entities };
    const mapped = entities.map((e) => {
      const span = unredactSpan(redaction.segments, e.start, e.end);
      if (!span) throw new InvalidAnswer("span"); // a span cutting through a placeholder
      return { ...e, start: span[0], end: span[1], text: original.slice(span[0], span[1]) };
    });
    return { entities: mapped, repaired, sent };
  }

  /**
   * Records an answered escalation in policy.capture's store when consent is given: the text as sent, the
   * teacher's answer on it, the local answer (extraction spans moved onto the sent text). True when stored;
   * a store that fails or refuses the record never changes the result.
   */
  async #capture(task, sent, redaction, trigger, local) {
    const c = this.#stats.capture;
    if (!(await consentGiven(this.#p.capture, local.callCapture))) {
      c.declined++;
      return false;
    }
    try {
      const info = this.#tagger.info ?? {};
      const localAnswer = task === "classify" ? { label: local.label, score: local.score }
        : { score: local.score, entities: local.entities.map((e) => spanInSent(e, sent.text, redaction?.segments)).filter(Boolean) };
      const record = captureRecord({ task, sent: sent.text, redacted: redaction !== null, trigger, threshold: local.threshold,
        teacher: sent.answer, local: localAnswer, model: { name: info.name, version: info.version } });
      const r = await this.#p.capture.store.add(record);
      if (!r?.stored) { c.refused++; return false; }
      c.recorded++;
      c.evicted += r.evicted ?? 0;
      return true;
    } catch {
      c.failed++;
      return false;
    }
  }

  /**
   * Counters and histograms since creation (or resetStats()): requests per task, local and cloud latency,
   * local confidence, escalations by trigger and by outcome and reason, attempts, retries, rejected answers
   * by defect, and the breaker's and the concurrency cap's state. Never any text.
   */
  stats() {
    const b = this.#breaker;
    b.canPass(); // refresh open → half_open
    return {
      ...copyStats(this.#stats),
      breaker: { state: b.state, consecutiveFailures: b.consecutiveFailures, opens: b.opens },
      concurrency: { inFlight: this.#limiter.active, queued: this.#limiter.waiting.length, peak: this.#limiter.peak },
    };
  }

  /** Zeroes the counters and histograms (not the breaker's state). */
  resetStats() {
    this.#stats = emptyStats();
    this.#limiter.peak = this.#limiter.active;
    this.#breaker.opens = 0;
  }

  /**
   * Ends pending escalations (their calls resolve with the local answer, reason "disposed") and disposes
   * the wrapped tagger. Later calls throw EdgetagError("STATE"); a second dispose() does nothing.
   */
  async dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const scope of this.#calls) scope.stop(false, null);
    await this.#tagger.dispose?.();
  }
}

/** A call's {capture}: undefined, true (this call consents, for consent "per-call") or false (this call declines). */
function checkCallCapture(v) {
  if (v !== undefined && typeof v !== "boolean") throw invalid("options.capture must be true or false");
  return v;
}

/** A token classifier's entity types: info.entityTypes, or its labels without B-/I- and "O". */
function entityTypesOf(info) {
  if (Array.isArray(info.entityTypes) && info.entityTypes.length) return info.entityTypes;
  const types = new Set();
  for (const l of info.labels ?? []) if (l !== "O") types.add(String(l).replace(/^[BIES]-/, ""));
  return [...types];
}

/**
 * Wraps a tagger (a Model, or any object whose classify()/extract() return results or promises of them)
 * so that uncertain answers are escalated to a cloud model under `policy`. The wrapper has the same
 * methods, all async. See EscalationPolicy in index.d.ts for every option and its default.
 * Throws EdgetagError("INVALID_ARGUMENT") for a bad tagger or policy.
 */
export function withEscalation(tagger, policy) {
  return new EscalatingTagger(tagger, resolvePolicy(tagger, policy));
}
