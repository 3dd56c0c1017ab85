// Type declarations for web/escalate/index.js: local answers, escalated to a cloud model when unsure.

import type { Classification, Entity } from "../edgetag.js";
import type { CapturePolicy } from "../capture/index.js";

type MaybePromise<T> = T | Promise<T>;

/** The escalation threshold when neither the policy nor the model's calibration (info.threshold) gives one: 0.5. */
export declare const DEFAULT_THRESHOLD: number;

/** Every default of EscalationPolicy. */
export declare const POLICY_DEFAULTS: Readonly<{
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxRetryAfterMs: number;
  breakerFailures: number;
  breakerCoolDownMs: number;
  maxConcurrent: number;
  maxQueue: number;
  maxResponseBytes: number;
}>;

/** What escalation reads of a tagger's info. */
export interface TaggerInfo {
  readonly task?: string;
  /** Classifiers: the label set (the cloud must answer one of them). */
  readonly labels?: readonly string[];
  /** Token classifiers: the entity types (default: labels without B-/I- and "O"). */
  readonly entityTypes?: readonly string[];
  /** Calibrated escalation threshold, or null. */
  readonly threshold?: number | null;
  /** The label that means "escalate" (default escalateLabels). */
  readonly abstainLabel?: string | null;
}

/**
 * What a tagger needs to be wrapped: a loaded Model, a WorkerTagger (whose methods return promises), or your
 * own object of that shape.
 */
export interface TaggerLike {
  /** Null once the tagger is disposed (a WorkerTagger's): withEscalation refuses it, calls reject with STATE. */
  readonly info: TaggerInfo | null;
  /**
   * Called with a string, or for a batch an array of strings, answering one result or an array of them. A
   * Model's and a WorkerTagger's overloads fit; so does a function that takes one string, if batches never come.
   */
  classify?(input: string | string[]): MaybePromise<Classification | Classification[]>;
  extract?(text: string, options?: ExtractOptions): MaybePromise<{ entities: Entity[]; escalate?: boolean }>;
  tokenize?(...args: any[]): unknown;
  embed?(...args: any[]): unknown;
  dispose?(): unknown;
}

/** Anything with extract(text) → {entities} (sync or async): a PII model, or your own detector. */
export interface Redactor {
  extract(text: string): MaybePromise<{ entities: ReadonlyArray<{ label: string; start: number; end: number }> }>;
}

/** What the endpoint is asked: the text to send (redacted when redaction is on) and the answer's label set. */
export type EscalationRequest =
  | { task: "classify"; text: string; labels: readonly string[]; entityTypes?: undefined; redacted: boolean }
  | { task: "extract"; text: string; entityTypes: readonly string[]; labels?: undefined; redacted: boolean };

/** A cloud answer before validation: {label, score?} for classify, {entities} for extract. */
export interface CloudAnswer {
  label?: string;
  score?: number;
  entities?: Array<{ label: string; text: string; start: number; end: number; score?: number }>;
}

/**
 * A custom endpoint: one attempt. Resolve the answer (it is validated like any other); throw
 * EscalationHttpError for an HTTP status (retried for 408/425/429/5xx), anything else counts as "network".
 * Honour `signal` (aborted on timeout, the caller's abort, or dispose()).
 */
export type EndpointFunction = (request: EscalationRequest, signal: AbortSignal) => MaybePromise<CloudAnswer>;

export interface EndpointConfig {
  /**
   * "openai" (default): POST an OpenAI-compatible chat completion to url (the full …/v1/chat/completions
   * URL) with response_format json_schema (strict) allowing exactly the label set or entity types; the
   * answer is choices[0].message.content parsed as JSON.
   * "json": POST {task: "classify"|"extract", text, redacted, labels | entityTypes, model?} and read the
   * body as {label, score?} or {entities: [{label, text, start, end, score?}]}.
   */
  kind?: "openai" | "json";
  url: string | URL;
  /** The cloud model's name; required for "openai". */
  model?: string;
  /** Sent with every request (e.g. authorization). Never carries any text. */
  headers?: Record<string, string> | Headers;
  /** Extra fields of the request body, e.g. {temperature: 0, max_tokens: 200}. */
  params?: Record<string, unknown>;
}

/** Options of withEscalation(); an unknown key (a misspelling) throws EdgetagError("INVALID_ARGUMENT"). */
export interface EscalationPolicy {
  /** Where uncertain requests go. */
  endpoint: EndpointConfig | EndpointFunction;
  /**
   * Escalate below this local confidence (per task, or one number for both). Default: the model's
   * info.threshold, else DEFAULT_THRESHOLD; then the model's own escalate flag counts too. Above 1 always
   * escalates; 0 never does (except escalateLabels). Extraction's confidence is its least confident
   * entity's score, 1 for a text without entities.
   */
  threshold?: number | { classify?: number; extract?: number };
  /** Classification labels that always escalate (default: the model's abstainLabel, none when it has none). */
  escalateLabels?: readonly string[];
  /** Per attempt, including reading the answer (default 10000). */
  timeoutMs?: number;
  /** Further attempts after a timeout, a network error, or HTTP 408/425/429/500/502/503/504 (default 2, at most 10). */
  retries?: number;
  /** Backoff before retry k (k = 1, 2, …): uniform in [d/2, d], d = min(maxBackoffMs, backoffMs·2^(k−1)) (default 200). */
  backoffMs?: number;
  /** Default 5000. */
  maxBackoffMs?: number;
  /**
   * Retry-After (seconds or an HTTP date) is honoured (the wait is at least that long) when at most this
   * long; a longer one ends the escalation at once as "failed" with the HTTP reason and retryAfterMs
   * (default 10000).
   */
  maxRetryAfterMs?: number;
  /** Consecutive failed attempts that open the circuit breaker (default 5). */
  breakerFailures?: number;
  /** Open → half-open after this long: one probe (a single attempt) closes it or opens it again (default 30000). */
  breakerCoolDownMs?: number;
  /** Cloud calls in flight at most, per wrapper (default 4). */
  maxConcurrent?: number;
  /** Escalations waiting for a slot at most; beyond, they are skipped with reason "concurrency" (default 16). */
  maxQueue?: number;
  /** Larger answers are rejected (default 1 MiB). */
  maxResponseBytes?: number;
  /**
   * Replace entities by placeholders ([PERSON_1]) before any text leaves: a PII tagger, or true to use the
   * wrapped (token classification) tagger's own entities. Spans of the cloud's answer map back to the
   * original text. A redactor that fails or answers spans outside the text means nothing is sent.
   */
  redact?: boolean | Redactor;
  /** Only these entity types are redacted (default: all). */
  redactLabels?: readonly string[];
  /** Aborts every call: they reject with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Record escalations the cloud answered (the text as sent, the teacher's answer, the local answer, the model
   * version) in a capture store, as training data for tools/distill. Nothing is recorded without consent.
   */
  capture?: CapturePolicy;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** Why escalation was wanted: the score, an escalateLabels label, or the model's own flag. */
export type EscalationTrigger = "low_score" | "label" | "model";

/**
 * Why the cloud did not answer. skipped: "offline" | "breaker_open" | "concurrency" | "redaction_failed" |
 * "disposed"; failed: "timeout" | "network" | "redirect" (the endpoint redirected: not followed, so the text
 * goes nowhere else) | "http_<status>" | "disposed"; rejected: "invalid_answer".
 */
export type EscalationReason =
  | "offline" | "breaker_open" | "concurrency" | "redaction_failed" | "disposed"
  | "timeout" | "network" | "redirect" | `http_${number}` | "invalid_answer";

/** What was wrong with a rejected answer. */
export type InvalidAnswerDetail = "json" | "shape" | "label" | "span" | "score" | "refusal" | "too_large";

export type Escalation =
  | { wanted: false }
  | {
    wanted: true;
    trigger: EscalationTrigger;
    outcome: "answered";
    attempts: number;
    latencyMs: number;
    /** Entities whose offsets were wrong but whose text occurs exactly once, re-placed there. */
    repairedSpans?: number;
    /** Spans replaced by placeholders before sending. */
    redacted?: number;
    /** With policy.capture: whether this escalation was recorded (consent given and the store took it). */
    captured?: boolean;
  }
  | {
    wanted: true;
    trigger: EscalationTrigger;
    outcome: "skipped" | "failed" | "rejected";
    reason: EscalationReason;
    /** HTTP attempts made (0 when skipped). */
    attempts: number;
    /** For "rejected": the answer's defect. */
    detail?: InvalidAnswerDetail;
    /** The server's last Retry-After, in ms. */
    retryAfterMs?: number;
  };

export interface EscalatedClassification {
  /** The cloud's label when source is "cloud", else the local one. */
  label: string;
  /** The cloud's score when it gave one (else null), or the local probability. */
  score: number | null;
  /** The local model's probabilities, always. */
  scores: Record<string, number>;
  source: "local" | "cloud";
  localLabel: string;
  localScore: number;
  escalation: Escalation;
}

/** An entity of a cloud answer: score is the cloud's, or null when it gave none. */
export interface CloudEntity {
  label: string;
  score: number | null;
  start: number;
  end: number;
  text: string;
}

export interface EscalatedExtraction {
  /** Offsets are UTF-16 indices into the original text, and text === input.slice(start, end). */
  entities: Array<Entity | CloudEntity>;
  source: "local" | "cloud";
  /** The least confident local entity's score; 1 without entities. */
  localScore: number;
  /** With source "cloud": what the local model found. */
  localEntities?: Entity[];
  escalation: Escalation;
}

export interface ExtractOptions {
  aggregation?: "none" | "simple" | "first" | "average" | "max";
  stride?: number;
}

export interface CallOptions {
  /** Aborting rejects the call with the signal's reason (pending cloud requests are cancelled). */
  signal?: AbortSignal;
  /** With policy.capture: true consents for this call (consent "per-call"), false declines whatever the policy says. */
  capture?: boolean;
}

/** A histogram: counts[i] counts values in [bounds[i−1], bounds[i]); the last count is [bounds[last], ∞). */
export interface Histogram {
  bounds: number[];
  counts: number[];
}

/** Counters since creation or resetStats(). Never any text. */
export interface EscalationStats {
  /** Texts handled, per task (a batch's texts count one each). */
  requests: { classify: number; extract: number };
  /** Per call to the local tagger (a batch is one call). */
  localLatencyMs: Histogram;
  /** Per escalation that reached the endpoint: from the first attempt to its end. */
  cloudLatencyMs: Histogram;
  /** The local confidence of every text. */
  confidence: Histogram;
  escalations: {
    wanted: number;
    answered: number;
    byTrigger: Partial<Record<EscalationTrigger, number>>;
    skipped: Partial<Record<EscalationReason, number>>;
    failed: Partial<Record<EscalationReason, number>>;
    rejected: Partial<Record<EscalationReason, number>>;
  };
  /** Calls that ended by the caller's abort. */
  aborted: number;
  /** HTTP attempts, and of them retries. */
  attempts: number;
  retries: number;
  /** Rejected cloud answers by defect. */
  invalidAnswers: Partial<Record<InvalidAnswerDetail, number>>;
  repairedSpans: number;
  /** With policy.capture: answered escalations recorded, declined (no consent), refused (too large), failed (the store threw), and old records evicted. */
  capture: { recorded: number; declined: number; refused: number; failed: number; evicted: number };
  breaker: { state: "closed" | "open" | "half_open"; consecutiveFailures: number; opens: number };
  concurrency: { inFlight: number; queued: number; peak: number };
}

/** A tagger whose uncertain answers go to the cloud. Every method is async. */
export interface EscalatingTagger {
  /** The wrapped tagger's info (null once it is disposed). */
  readonly info: TaggerInfo | null;
  /** The wrapped tagger. */
  readonly tagger: TaggerLike;
  /** One local batch; the uncertain texts escalate concurrently within maxConcurrent/maxQueue. */
  classify(text: string, options?: CallOptions): Promise<EscalatedClassification>;
  classify(texts: string[], options?: CallOptions): Promise<EscalatedClassification[]>;
  extract(text: string, options?: ExtractOptions & CallOptions): Promise<EscalatedExtraction>;
  /** Passes through to the wrapped tagger. */
  tokenize(...args: any[]): Promise<any>;
  /** Passes through to the wrapped tagger. */
  embed(...args: any[]): Promise<any>;
  stats(): EscalationStats;
  /** Zeroes the counters (not the breaker's state). */
  resetStats(): void;
  /** Ends pending escalations (they resolve locally, reason "disposed") and disposes the wrapped tagger. */
  dispose(): Promise<void>;
}

/** What a custom endpoint throws to report an HTTP status. */
export declare class EscalationHttpError extends Error {
  constructor(status: number, options?: { retryAfterMs?: number });
  readonly name: "EscalationHttpError";
  readonly status: number;
  readonly retryAfterMs: number | undefined;
}

/**
 * Wraps a tagger so uncertain answers are escalated under `policy`. Network faults never throw: the local
 * answer comes back with escalation.outcome and reason. Throws EdgetagError("INVALID_ARGUMENT") for a bad
 * tagger or policy.
 */
export declare function withEscalation(tagger: TaggerLike, policy: EscalationPolicy): EscalatingTagger;
