// Type declarations for web/release/: signed release channels (models/RELEASE.md) and telemetry.

import type { CacheAdapter, InitOptions, LoadOptions, Model, ModelInfo, Progress, WorkerTagger } from "../edgetag.js";

/** The codes a release adds to EdgetagErrorCode (models/RELEASE.md, "How a client reads it"). */
export type ReleaseErrorCode =
  /** The manifest is not JSON, too big, or a member is missing, wrong or unknown; or the file is not the model it describes. */
  | "MANIFEST"
  /** The manifest has no signature. */
  | "UNSIGNED"
  /** Its signature does not verify: it was changed after signing. */
  | "SIGNATURE"
  /** It is signed by a key that is not among publicKey. */
  | "UNTRUSTED_KEY"
  /** It is for another channel than the one asked for. */
  | "CHANNEL"
  /** Outside its validity window (past expiresAt, or createdAt in the future), beyond clockSkewMs. */
  | "EXPIRED"
  /** Older than a manifest this installation accepted before (a replay). */
  | "STALE"
  /** No release of the manifest runs on this engine (minEngine / maxEngine). */
  | "ENGINE_VERSION"
  /** The model does not answer the manifest's test input as the manifest expects. */
  | "SMOKE_TEST"
  /** This installation is outside the rollout and the manifest names no previous release. */
  | "ROLLOUT";

/** A trusted public key: "ed25519:" and the base64 of its 32 bytes (tools/release.mjs keygen prints it), or the bytes. */
export type PublicKey = string | Uint8Array;

/** What load() takes as the source of a release channel. */
export interface ReleaseSource {
  /** The manifest's URL (relative URLs resolve against the page). */
  manifest: string | URL;
  /** The key (or keys, during a rotation) its manifests must be signed with. */
  publicKey: PublicKey | readonly PublicKey[];
  /** The channel the manifest must be for (e.g. "intent-clinc/stable"); default: the first one accepted. */
  channel?: string;
}

/** Where a channel keeps its memory (installation id, accepted manifest, serving version, bad versions). */
export interface ReleaseStateStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

/** Ed25519 verification for runtimes whose WebCrypto has none (e.g. with @noble/ed25519). */
export type Ed25519Verifier = (args: { publicKey: Uint8Array; signature: Uint8Array; message: Uint8Array }) => boolean | Promise<boolean>;

/** The limits each version is loaded with, as load()'s. */
export type ReleaseLoadLimits = Pick<LoadOptions, "maxBytes" | "stallTimeoutMs" | "cacheTimeoutMs" | "batchTokens" |
  "maxTextChars" | "maxTexts" | "maxTokens">;

export interface ReleaseOptions extends InitOptions, ReleaseLoadLimits {
  /** Versions kept between runs: "indexeddb" (default in browsers: the database "edgetag-release-models"), "none", or an adapter. */
  cache?: "indexeddb" | "none" | CacheAdapter;
  /** "indexeddb" (default where IndexedDB exists: the database "edgetag-release"), "memory" (default elsewhere), or a store. */
  store?: "indexeddb" | "memory" | ReleaseStateStore;
  /** This installation's id for rollout buckets (default: a random one, kept in the store). */
  installationId?: string;
  /** How often the manifest is checked in the background (±10 %); 0: only checkNow(). Default 3,600,000 (an hour). */
  checkIntervalMs?: number;
  /** Tolerance of the device's clock against createdAt / expiresAt. Default 300,000 (5 minutes). */
  clockSkewMs?: number;
  /** Versions of the channel kept in the cache (the serving one and the last before it, by default 2). */
  keep?: number;
  /** The fetch() for the manifest and the files (default globalThis.fetch). */
  fetch?: (input: string, init?: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<Response>;
  /** Used only where WebCrypto lacks Ed25519; without one such runtimes refuse releases (UNSUPPORTED). */
  verifier?: Ed25519Verifier;
  /** Progress of the downloads (the first install's, then updates'). */
  onProgress?: (progress: Progress) => void;
  /** Aborts the opening (the first install). */
  signal?: AbortSignal;
  /** Run each version in a dedicated Web Worker (a worker thread in Node): every method returns a Promise. */
  worker?: boolean;
  workerUrl?: string | URL;
}

/** Every default of ReleaseOptions that is a number. */
export declare const RELEASE_DEFAULTS: Readonly<{ checkIntervalMs: number; clockSkewMs: number; keep: number }>;

/** The schema name of release manifests: "edgetag.release/1". */
export declare const RELEASE_SCHEMA: string;

/** One release of a manifest (its own members, or previous's). */
export interface Release {
  version: string;
  sha256: string;
  size: number;
  task: ModelInfo["task"];
  labels: string[];
  minEngine: string;
  maxEngine?: string;
  urls: string[];
  test?: { input: string; expect: { label: string } | { entities: { label: string; text: string }[] } };
}

/** A release manifest (models/RELEASE.md). */
export interface ReleaseManifest extends Release {
  schema: string;
  channel: string;
  name: string;
  rollout: number;
  previous?: (Release & { createdAt: string }) | null;
  createdAt: string;
  expiresAt: string;
  keyId: string;
  signature?: string;
}

export type ReleasePhase = "starting" | "serving" | "checking" | "downloading" | "verifying" | "disposed";
export type CheckOutcome = "installed" | "updated" | "current" | "not_modified" | "skipped" | "rolled_back" | "failed" | "aborted" | "disposed";

export interface ReleaseState {
  readonly phase: ReleasePhase;
  readonly channel: string | null;
  /** The version serving, and its file's SHA-256. */
  readonly version: string | null;
  readonly sha256: string | null;
  /** The version that served before this one (kept in the cache for a quick way back). */
  readonly previousVersion: string | null;
  /** The accepted manifest. */
  readonly manifest: { version: string; rollout: number; createdAt: string; expiresAt: string; etag: string | null } | null;
  /** This installation's bucket in the channel and what it makes of the manifest's rollout. */
  readonly rollout: { percent: number; bucket: number; inRollout: boolean; version: string; target: string | null } | null;
  /** A download under way. */
  readonly candidate: { version: string; loaded: number; total: number | null } | null;
  /** Versions that failed here (to load, to verify, their smoke test): never tried again. */
  readonly bad: readonly { version: string; sha256: string; code: string; reason: string; at: string }[];
  /** Releases passed over at the last check, and why (an engine bound: code "ENGINE_VERSION"; or marked bad). */
  readonly skipped: readonly { version: string; reason: string; code?: "ENGINE_VERSION" }[];
  readonly lastCheck: { at: string; outcome: CheckOutcome; error?: { code: string; message: string } } | null;
  /** The versions in the cache, newest first. */
  readonly cached: readonly string[];
}

export interface ReleaseEvents {
  update: CustomEvent<{ version: string; previous: string | null }>;
  rollback: CustomEvent<{ version: string; code: string; reason: string; serving: string | null }>;
  progress: CustomEvent<{ version: string; loaded: number; total: number | null }>;
  skip: CustomEvent<{ version: string; reason: string; code?: "ENGINE_VERSION" }>;
  check: CustomEvent<{ at: string; outcome: CheckOutcome; version: string | null; error?: { code: string; message: string } }>;
}

export interface ReleaseStats {
  version: string | null;
  channel: string | null;
  flavour: "relaxed" | "baseline" | null;
  requests: Record<string, number>;
  errors: Record<string, number>;
  latencyMs: { bounds: number[]; counts: number[] };
  confidence: { bounds: number[]; counts: number[] };
  byVersion: Record<string, number>;
  updates: number;
  rollbacks: number;
}

type Methods = "classify" | "extract" | "embed" | "tokenize" | "tokenizeWindows" | "logits" | "hidden" | "tensors";

/**
 * A release channel: the methods of the version serving (a Model's, or with `worker: true` a WorkerTagger's,
 * returning promises). A call runs on the version serving when it starts; an update swaps in between calls.
 */
export type ReleaseTagger<T extends Model | WorkerTagger = Model> = ReleaseChannel & Pick<T, Methods>;

/** What a release channel has besides the serving version's methods. */
export interface ReleaseChannel extends EventTarget {
  /** The serving model's info. */
  readonly info: ModelInfo | null;
  readonly version: string | null;
  readonly sha256: string | null;
  readonly origin: { kind: "cache" | "network"; url: string | null; key: string; sha256: string; cache: string } | null;
  readonly flavour: "relaxed" | "baseline" | null;
  readonly wasmMemoryBytes: number;
  readonly state: ReleaseState;
  /** Checks the manifest now (joins a check under way); never rejects. */
  checkNow(options?: { signal?: AbortSignal }): Promise<{ outcome: CheckOutcome; version: string | null; error?: unknown }>;
  /** Stops a download under way (not marked bad: tried again at the next check). */
  abortUpdate(reason?: unknown): void;
  stats(): ReleaseStats;
  resetStats(): void;
  /** Stops checking and disposes the serving version once its calls have returned. */
  dispose(): Promise<void>;
  addEventListener<K extends keyof ReleaseEvents>(type: K, listener: (event: ReleaseEvents[K]) => void, options?: boolean | { once?: boolean; signal?: AbortSignal }): void;
  addEventListener(type: string, listener: ((event: Event) => void) | { handleEvent(event: Event): void } | null, options?: boolean | { once?: boolean }): void;
}
/** The class of release channels (for instanceof; load() and openRelease() make them). */
export declare const ReleaseTagger: { new (control: never): ReleaseChannel; readonly prototype: ReleaseChannel };

/** load(release) with everything in one object. */
export declare function openRelease(options: ReleaseSource & ReleaseOptions & { worker: true }): Promise<ReleaseTagger<WorkerTagger>>;
export declare function openRelease(options: ReleaseSource & ReleaseOptions & { worker?: false }): Promise<ReleaseTagger<Model>>;

/** RFC 8785 canonical JSON: what a manifest's signature covers (without its signature member). */
export declare function canonicalize(value: unknown): string;

/** Reads and believes a manifest as a client does (JSON, signature, channel, validity window); throws a ReleaseErrorCode. */
export declare function verifyManifest(text: string | Uint8Array | object, options: {
  publicKey: PublicKey | readonly PublicKey[];
  channel?: string;
  now?: number;
  clockSkewMs?: number;
  verifier?: Ed25519Verifier;
  where?: string;
}): Promise<ReleaseManifest>;

/** An installation's bucket in a channel, in [0, 1): it takes a release rolled out to p % when 100 × bucket < p. */
export declare function rolloutBucket(installationId: string, channel: string): Promise<number>;

export declare function memoryStore(): ReleaseStateStore & { readonly kind: "memory" };
export declare function indexedDBStore(options?: { dbName?: string; indexedDB?: { open(name: string, version?: number): unknown } }):
  ReleaseStateStore & { readonly kind: "indexeddb"; close(): Promise<void> };

/** Anything whose stats() telemetry reads: an escalating tagger, a ReleaseTagger, your own. */
export interface StatsSource {
  stats(): object;
}

export interface TelemetryOptions {
  /** Where reports are POSTed (JSON, schema "edgetag.telemetry/1"). */
  endpoint: string | URL;
  /** The taggers reported, by the name reports give them. */
  sources: Record<string, StatsSource>;
  /** How often a batch is taken and sent. Default 60,000; 0: only tick()/flush(). */
  intervalMs?: number;
  /** Batches kept while offline; older ones are dropped (and counted). Default 20. */
  maxBatches?: number;
  /** The largest report body (sendBeacon takes about 64 KB). Default 60,000. */
  maxBodyBytes?: number;
  /** Headers for fetch() (not for beacons). */
  headers?: Record<string, string>;
  fetch?: (input: string, init: { method: string; body: string; keepalive: boolean; headers: Record<string, string> }) => Promise<Response>;
  sendBeacon?: (url: string, data: Blob) => boolean;
  /** The EventTarget whose "pagehide" sends by beacon (default: the page's window). */
  target?: EventTarget;
  /** Whether the device is online (default: navigator.onLine). */
  online?: () => boolean;
  onError?: (error: unknown) => void;
}

export interface Telemetry {
  collect(): boolean;
  flush(options?: { beacon?: boolean }): Promise<boolean>;
  tick(): Promise<boolean>;
  readonly queued: number;
  readonly dropped: number;
  stop(): void;
}

export declare const TELEMETRY_SCHEMA: string;
export declare const TELEMETRY_DEFAULTS: Readonly<{ intervalMs: number; maxBatches: number; maxBodyBytes: number }>;

/** Reports the sources' stats() (counters only: never text, tokens or entities) to `endpoint`. */
export declare function telemetry(options: TelemetryOptions): Telemetry;
