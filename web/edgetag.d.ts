// Type declarations for web/edgetag.js (the minimal loader of the edgetag WebAssembly engine).

import type { ReleaseErrorCode, ReleaseOptions, ReleaseSource, ReleaseTagger } from "./release/index.js";
//
// They name only what every runtime's type library declares (URL, Request, Response, Blob, ReadableStream,
// AbortSignal): they compile with the DOM lib, with `lib: ["es2022"]` plus @types/node, with
// @cloudflare/workers-types and under `deno check`. What only some declare is written structurally below.

/** WebAssembly.Module where the runtime's types declare it (DOM, Workers, Deno), else any object. */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;

/**
 * What indexedDBCache() needs of an IndexedDB factory: the page's or a worker's `indexedDB` (an IDBFactory) fits.
 * Written out so that these declarations need no DOM types.
 */
export interface IDBFactoryLike {
  open(name: string, version?: number): unknown;
}

/** The library version; equals the engine's et_version() and the C header's ET_VERSION_STRING. */
export declare const version: string;

/** Stable error codes, one per C status of include/edgetag.h. */
export type EdgetagErrorCode =
  | "INVALID_ARGUMENT" | "OUT_OF_MEMORY" | "BAD_MAGIC" | "BAD_VERSION" | "TRUNCATED" | "CORRUPT"
  | "UNSUPPORTED" | "MISSING" | "SHAPE" | "ALIGNMENT" | "INPUT" | "CAPACITY" | "IO" | "STATE" | "UNKNOWN"
  /** The bytes' SHA-256 is not the `integrity` asked for. */
  | "INTEGRITY"
  /** A signed release refused (release/index.d.ts). */
  | ReleaseErrorCode
  /** The model is larger than `maxBytes` (announced by Content-Length, or counted as it streams). */
  | "TOO_LARGE";

/** Every failure of the engine or the library. Aborts reject with the AbortSignal's reason instead. */
export declare class EdgetagError extends Error {
  constructor(code: EdgetagErrorCode, message: string, options?: { cause?: unknown });
  readonly name: "EdgetagError";
  readonly code: EdgetagErrorCode;
}

export type SimdFlavour = "auto" | "relaxed" | "baseline";

export interface InitOptions {
  /** Which build to run: "auto" (default) picks relaxed SIMD where WebAssembly.validate accepts it. */
  simd?: SimdFlavour;
  /**
   * A compiled edgetag module: `import wasm from "edgetag/wasm/edgetag-relaxed.wasm"` in Cloudflare Workers,
   * `import source wasm from "…"` in Node 24 and Deno. It runs as the build it is (simd "auto" takes its flavour).
   */
  wasmModule?: WasmModule;
  /**
   * Where to fetch the .wasm from, when a bundler or a server moved it: one build's URL, or the URLs of both
   * (the flavour this runtime runs is fetched). Default: ../build/edgetag[-relaxed].wasm beside this file.
   */
  wasmUrl?: string | URL | { relaxed?: string | URL; baseline?: string | URL };
  /**
   * Bytes of wasm memory the engine may ever hold (default 256 MiB, at least 16 MiB): a call or a load that would
   * need more is split or refused with OUT_OF_MEMORY, and every model keeps working. Engines are shared per
   * maxMemory: a different value is an engine (and a wasm instance) of its own.
   */
  maxMemory?: number;
}

/** True when this JavaScript engine runs relaxed SIMD. */
export declare function relaxedSimdSupported(): boolean;

export interface Engine {
  readonly flavour: "relaxed" | "baseline";
  /** The int8 kernel set in use (et_kernels_choice: 2 baseline, 3 relaxed dot16, 4 relaxed dot32). The relaxed
   * build starts with dot16 and keeps whichever of dot16 and dot32 runs faster here, timed over its first runs. */
  readonly kernels: number;
  /** False while the relaxed build is still timing its two int8 kernel sets. */
  readonly tuned: boolean;
  /** Why this kernel set runs, in words: the build's only set, still timing, the timed figures that chose it, or
   * why nothing could be timed. */
  readonly kernelsReason: string;
  /** The cap on its wasm memory in bytes (maxMemory, rounded down to whole 64 KiB pages). */
  readonly maxMemory: number;
  version(): string;
}

/** Instantiates the engine once per flavour; later calls return the same promise. */
export declare function init(options?: InitOptions): Promise<Engine>;

export type Task = "embedding" | "sequence_classification" | "token_classification";

export interface ModelInfo {
  readonly task: Task;
  readonly nVocab: number;
  readonly nCtx: number;
  readonly nEmbd: number;
  readonly nFF: number;
  readonly nLayer: number;
  readonly nHead: number;
  /** The size of one attention head: nEmbd / nHead, unless heads were pruned (then nHead · nHeadDim < nEmbd). */
  readonly nHeadDim: number;
  readonly nTokenTypes: number;
  readonly nLabels: number;
  /** Columns of logits(): nLabels, or nEmbd for an embedding model's pooler output (0 without a pooler). */
  readonly nOut: number;
  readonly hasPooler: boolean;
  readonly layerNormEps: number;
  /** Softmax temperature fitted on validation data (1 when the file has none). */
  readonly temperature: number;
  /** Recommended escalation threshold, or null when the file has none. */
  readonly threshold: number | null;
  readonly name: string;
  readonly version: string;
  readonly specialIds: { readonly cls: number; readonly sep: number; readonly pad: number; readonly unk: number; readonly mask: number };
  readonly labels: readonly string[];
  /** Token classifiers: the labels' entity types without B-/I- ("PER"), in order, "O" excluded. */
  readonly entityTypes: readonly string[];
  readonly nTensors: number;
  readonly weightsBytes: number;
  readonly ownedBytes: number;
  /** Linear weights (and embedding tables) held as int8 with per-row scales; 0 for an f32 model. */
  readonly int8Matrices: number;
  /** Linear weights (and the word embeddings) held as 4-bit Q4_0 blocks (`edgetag quantize --type q4_0`); 0 otherwise. */
  readonly q4Matrices: number;
  /** Bytes of the GGUF file. */
  readonly fileBytes: number;
  /** How this model's entities are best decoded (edgetag.tagging.aggregation; "simple" when the file does not say): extract()'s default. */
  readonly aggregation: Aggregation;
  /** The label whose prediction means "the model declines: escalate" (edgetag.escalation.abstain_label), e.g. "oos"; null when the model has none. */
  readonly abstainLabel: string | null;
}

/** Where a loaded model's bytes came from. */
export interface ModelOrigin {
  readonly kind: "network" | "file" | "cache" | "bytes";
  /** The URL the bytes were fetched from (for a cache hit: the URL they were first fetched from). */
  readonly url: string | null;
  /** The cache key: options.key, the URL, or the name the model was loaded by. */
  readonly key: string | null;
  /** Hex SHA-256 of the file, when it was computed (integrity or a cache in use). */
  readonly sha256: string | null;
  /**
   * "none" (no cache), "hit", "storing" (the model answers while the cache write runs; `cached` settles it as
   * one of the next three), "stored", "stored after evicting N older versions", "not stored: quota exceeded",
   * "not stored: <error>" (the model works all the same), or "miss".
   */
  readonly cache: string;
  /** Why a cache entry could not be used (unreadable, wrong SHA-256), when that happened. */
  readonly cacheError?: string;
}

/** What a cache keeps beside a model's bytes. */
export interface CacheManifest {
  /** The key it was stored under: only a load by this key (or "key@version") uses it. */
  key: string;
  /** The SHA-256 (hex) the caller asked for when it was stored, or null: a later read must match it. */
  integrity: string | null;
  name: string;
  version: string;
  sha256: string;
  size: number;
  url: string | null;
  task: Task;
  labels: number;
  storedAt: number;
  /** The library version that stored it. */
  engine: string;
}

/**
 * A place to keep models between loads (KV, the file system, the Cache API…). `key` is the model's URL, or the
 * name (or name@version) a caller stored it under with the `key` option. load() uses an entry only when its
 * manifest.key is that key, checks the bytes against manifest.sha256 and manifest.integrity on every read, and
 * drops (delete) an entry that cannot be read or fails a check, then fetches the model again. A call that does not
 * settle within cacheTimeoutMs counts as failed.
 */
export interface CacheAdapter {
  get(key: string): Promise<{ data: Blob | ArrayBuffer | Uint8Array; manifest: CacheManifest } | undefined>;
  put(key: string, data: Blob, manifest: CacheManifest): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops other versions of manifest.name; called when put() fails for lack of room. Returns how many. */
  evict?(manifest: CacheManifest): Promise<number>;
}

/** The browsers' cache: records keyed by the load key + sha256, found by key (or "name@version": that version stored under the name). */
export interface IndexedDBCache extends CacheAdapter {
  readonly kind: "indexeddb";
  evict(manifest: CacheManifest): Promise<number>;
  /** Every stored model's manifest (with the key it was stored under), newest first. */
  list(): Promise<(CacheManifest & { key: string })[]>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** An IndexedDB cache (pages and workers); load() makes one itself for cache: "indexeddb". */
export declare function indexedDBCache(options?: { dbName?: string; indexedDB?: IDBFactoryLike }): IndexedDBCache;

export interface Progress {
  loaded: number;
  /** The model's size when known in advance (Content-Length of an uncompressed body, a Blob), else null. */
  total: number | null;
}

export interface LoadOptions extends InitOptions {
  /** SHA-256 the file must have: "sha256-<base64>" (Subresource Integrity), "sha256:<hex>" or 64 hex digits. */
  integrity?: string;
  /** "indexeddb" (default where IndexedDB exists), "none" (default elsewhere), or an adapter. */
  cache?: "indexeddb" | "none" | CacheAdapter;
  /** The cache key (default: the URL, or the model name). */
  key?: string;
  /** Called per chunk while the bytes stream in. */
  onProgress?: (progress: Progress) => void;
  /** Aborts the load: the promise rejects with the signal's reason and nothing is kept. */
  signal?: AbortSignal;
  /** The size of a ReadableStream source, when known (lets it stream straight into wasm memory). */
  size?: number;
  /** The most bytes the model may have (default: maxMemory): TOO_LARGE from Content-Length, or as it streams. */
  maxBytes?: number;
  /** Milliseconds a server or a body may send nothing before the load fails with IO (default 30000). */
  stallTimeoutMs?: number;
  /** Milliseconds a cache adapter's get, put or delete may take before it counts as failed (default 10000). */
  cacheTimeoutMs?: number;
  /** Tokens of one run of the encoder (default 2048, at least the model's positions): bounds a call's memory. */
  batchTokens?: number;
  /** UTF-16 code units of one text (default 16 Mi): longer is INPUT. */
  maxTextChars?: number;
  /** Texts of one call (default 65536): more is INPUT. */
  maxTexts?: number;
  /** Tokens of one call, all texts together (default 4 Mi): more is INPUT. */
  maxTokens?: number;
}

export interface WorkerLoadOptions extends Omit<LoadOptions, "cache"> {
  /** An adapter object cannot cross into a worker. */
  cache?: "indexeddb" | "none";
  /** Hand an ArrayBuffer source to the worker instead of copying it (the caller's buffer is detached). */
  transfer?: boolean;
  /** Where worker-main.js is, when bundlers moved it. */
  workerUrl?: string | URL;
}

/** A model source: a URL, a Request or Response, a Blob, a stream, bytes, or a cached model's name. */
export type ModelSource = string | URL | Request | Response | Blob | ReadableStream<Uint8Array> | ArrayBuffer | ArrayBufferView;

export interface TensorInfo {
  name: string;
  /** GGUF type id: 0 F32, 1 F16, 8 Q8_0, … */
  type: number;
  /** Dimensions, fastest-varying first (GGUF order). */
  ne: number[];
  /** From the start of the file. */
  offset: number;
  nBytes: number;
}

/** A row-major [rows][cols] block of results, copied out of wasm memory. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export type TokenIds = ArrayLike<number>;

export interface Classification {
  label: string;
  score: number;
  scores: Record<string, number>;
  /** The probability is below the model's escalation threshold, or the label is the model's abstainLabel. */
  escalate: boolean;
}

export interface Entity {
  /** Entity type ("PER"), or with aggregation "none" the token's label ("B-PER"). */
  label: string;
  score: number;
  start: number;
  end: number;
  text: string;
}

export interface Tokens {
  ids: Int32Array;
  /** 0 for [CLS] text [SEP], 1 for pair [SEP]. */
  typeIds: Int32Array;
  /** start, end, start, end, …: UTF-16 indices, two per token. */
  offsets: Int32Array;
}

export interface RunOptions<T> {
  /** Segment ids, shaped like the ids (0 for the first text of a pair, 1 for the second). */
  typeIds?: T;
}

export interface EmbedOptions {
  pooling?: "mean" | "cls";
  normalize?: boolean;
}

export type Aggregation = "none" | "simple" | "first" | "average" | "max";

export interface ExtractOptions {
  /** Default: the model's info.aggregation. */
  aggregation?: Aggregation;
  /** Tokens shared by neighbouring windows of a long text (-1: a quarter of the window). */
  stride?: number;
}

export interface Extraction {
  entities: Entity[];
  /** Some entity is below the model's escalation threshold. */
  escalate: boolean;
}

export declare class Model {
  private constructor();
  readonly info: ModelInfo;
  /** Where the bytes came from; origin.cache is "storing" while the cache write runs. */
  readonly origin: ModelOrigin;
  /**
   * Resolves with the final origin once the cache write load() started after answering has settled (at once
   * when there was none). Never rejects: a failed write says "not stored: …" in origin.cache.
   */
  readonly cached: Promise<ModelOrigin>;
  /** Head output: a row per token (token classification) or per text; pooler output for embedding models. */
  logits(ids: TokenIds, options?: RunOptions<TokenIds>): Matrix;
  logits(ids: TokenIds[], options?: RunOptions<TokenIds[]>): Matrix[];
  /** Last hidden states, a row of nEmbd per token. */
  hidden(ids: TokenIds, options?: RunOptions<TokenIds>): Matrix;
  hidden(ids: TokenIds[], options?: RunOptions<TokenIds[]>): Matrix[];
  /** One embedding per text: mean (default) or [CLS] pooling, optionally L2-normalized. */
  embed(text: string, options?: EmbedOptions): Float32Array;
  embed(texts: string[], options?: EmbedOptions): Float32Array[];
  embed(ids: TokenIds, options?: RunOptions<TokenIds> & EmbedOptions): Float32Array;
  embed(ids: TokenIds[], options?: RunOptions<TokenIds[]> & EmbedOptions): Float32Array[];
  /**
   * Tokenizes as Hugging Face's BERT tokenizer: [CLS] text [SEP] (pair [SEP]), cut to maxLength tokens
   * (default: info.nCtx; Infinity: no cut). Offsets are UTF-16 [start, end) pairs into the text each
   * token came from (text.slice(start, end) is exact); the template's [CLS]/[SEP] get [0, 0].
   */
  tokenize(text: string, options?: { pair?: string | null; maxLength?: number }): Tokens;
  /**
   * A long text as overlapping windows of at most maxLength tokens (default info.nCtx), neighbours sharing
   * `stride` tokens; firstToken[w] is window w's first content token in the whole token sequence.
   */
  tokenizeWindows(text: string, options?: { maxLength?: number; stride?: number }): {
    windows: { ids: Int32Array; offsets: Int32Array }[];
    firstToken: Int32Array;
  };
  /** Sequence classifiers: best label, calibrated probability, all probabilities, escalation advice. */
  classify(text: string): Classification;
  classify(texts: string[]): Classification[];
  /** Token classifiers: entities with UTF-16 offsets (text.slice(start, end) === text), escalation advice. */
  extract(text: string, options?: ExtractOptions): Extraction;
  extract(texts: string[], options?: ExtractOptions): Extraction[];
  /** The file's tensor table as the engine read it. */
  tensors(): TensorInfo[];
  /** Bytes of the engine's whole wasm linear memory. */
  readonly wasmMemoryBytes: number;
  /** Frees the model and its buffers; further calls throw EdgetagError("STATE"). Idempotent. */
  dispose(): void;
}

/**
 * Loads a model, ready to run: from a URL, Request, Response, Blob, stream or bytes (streamed straight into wasm
 * memory, checked against `integrity`), from the cache when it holds the file, or by a cached model's name.
 * With `worker: true` the engine runs in a dedicated Web Worker and every method returns a Promise.
 */
export declare function load(source: ModelSource, options: WorkerLoadOptions & { worker: true }): Promise<WorkerTagger>;
export declare function load(source: ModelSource, options?: LoadOptions & { worker?: false }): Promise<Model>;
/**
 * Opens a signed release channel (release/index.d.ts): the manifest verified with `publicKey`, the version this
 * installation should serve installed and proven, updates checked in the background and swapped in between calls.
 */
export declare function load(source: ReleaseSource, options: ReleaseOptions & { worker: true }): Promise<ReleaseTagger<WorkerTagger>>;
export declare function load(source: ReleaseSource, options?: ReleaseOptions & { worker?: false }): Promise<ReleaseTagger<Model>>;

/** A Model whose engine runs in a dedicated Web Worker (a worker thread in Node): same methods, as promises. */
export declare class WorkerTagger {
  private constructor();
  /** The model's info; null once disposed. */
  readonly info: ModelInfo | null;
  /** Where the worker got the model; origin.cache is "storing" while the worker's cache write runs. */
  readonly origin: ModelOrigin | null;
  /** Resolves with the final origin once the worker's cache write has settled (at once when there was none). */
  readonly cached: Promise<ModelOrigin | null>;
  /** The worker's wasm memory in bytes, as of its last answer. */
  readonly wasmMemoryBytes: number;
  classify(text: string, options?: { signal?: AbortSignal }): Promise<Classification>;
  classify(texts: string[], options?: { signal?: AbortSignal }): Promise<Classification[]>;
  extract(text: string, options?: ExtractOptions & { signal?: AbortSignal }): Promise<Extraction>;
  extract(texts: string[], options?: ExtractOptions & { signal?: AbortSignal }): Promise<Extraction[]>;
  tokenize(text: string, options?: { pair?: string | null; maxLength?: number }): Promise<Tokens>;
  tokenizeWindows(text: string, options?: { maxLength?: number; stride?: number }): Promise<{
    windows: { ids: Int32Array; offsets: Int32Array }[];
    firstToken: Int32Array;
  }>;
  embed(text: string, options?: EmbedOptions): Promise<Float32Array>;
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  embed(ids: TokenIds, options?: RunOptions<TokenIds> & EmbedOptions): Promise<Float32Array>;
  embed(ids: TokenIds[], options?: RunOptions<TokenIds[]> & EmbedOptions): Promise<Float32Array[]>;
  logits(ids: TokenIds, options?: RunOptions<TokenIds>): Promise<Matrix>;
  logits(ids: TokenIds[], options?: RunOptions<TokenIds[]>): Promise<Matrix[]>;
  hidden(ids: TokenIds, options?: RunOptions<TokenIds>): Promise<Matrix>;
  hidden(ids: TokenIds[], options?: RunOptions<TokenIds[]>): Promise<Matrix[]>;
  tensors(): Promise<TensorInfo[]>;
  /** Frees the model and ends the worker (after a cache write under way); later calls reject with EdgetagError("STATE"). */
  dispose(): Promise<void>;
  /** Ends the worker at once; a running call rejects. */
  terminate(): void;
}

/** load(source, {...options, worker: true}). */
export declare function createWorkerTagger(source: ModelSource, options?: WorkerLoadOptions): Promise<WorkerTagger>;

export * from "./escalate/index.js";
export * from "./capture/index.js";
export * from "./release/index.js";

/** Entity types patternRedactor() finds (the shipped pii-ner model's names, Presidio's). */
export type PatternType =
  | "EMAIL_ADDRESS" | "IBAN_CODE" | "CREDIT_CARD" | "US_SSN" | "IP_ADDRESS" | "PHONE_NUMBER" | "DOMAIN_NAME"
  | "DATE_TIME" | "AGE" | "STREET_ADDRESS";

/**
 * A finder of structured personal data for withEscalation's `redact`: e-mail addresses, URLs and domain
 * names, phone numbers, payment cards (Luhn-checked), IBANs (mod 97), IPv4/IPv6 addresses, US SSNs.
 */
export declare function patternRedactor(options?: { types?: readonly PatternType[] }): {
  readonly types: PatternType[];
  extract(text: string): { entities: Entity[] };
};

/**
 * A PII model as a finder for redaction, biased to recall: the model's own entities, and every word it gives
 * at least `minProbability` (default 0.1) of being personal data, labelled with its most likely type. Takes a
 * Model or a WorkerTagger of a token-classification model with an "O" label; texts of any length.
 */
export declare function piiFinder(
  model: {
    readonly info: { readonly labels: readonly string[]; readonly temperature?: number; readonly task: string } | null;
    extract(text: string): { entities: readonly Entity[] } | Promise<{ entities: readonly Entity[] }>;
    tokenizeWindows(text: string): unknown;
    logits(ids: Int32Array): unknown;
  },
  options?: { minProbability?: number },
): {
  readonly minProbability: number;
  extract(text: string): Promise<{ entities: Entity[] }>;
};

/** One finder from several (a PII model, patternRedactor(), …): all their entities, in text order. */
export declare function anyOf(...finders: { extract(text: string): { entities: readonly Entity[] } | Promise<{ entities: readonly Entity[] }> }[]): {
  extract(text: string): Promise<{ entities: Entity[] }>;
};

/** A piece of a redacted text: literal text of the original, or a placeholder standing for [origFrom, origTo). */
export interface RedactionSegment {
  from: number;
  to: number;
  origFrom: number;
  origTo: number;
  placeholder: boolean;
  /** The entity label a placeholder stands for. */
  label?: string;
}

/**
 * The text exactly as withEscalation's `redact` sends it: each entity span, and every other occurrence of what it
 * found (any case, before a possessive, as a whole word), replaced by a placeholder [TYPE_n] — the same text gets
 * the same one, never one the text already holds. `labels`: only these entity types (null: all). Throws for a span
 * outside the text. For previews ("this is what would leave the device").
 */
export declare function redactText(text: string, entities: readonly { label: string; start: number; end: number }[],
  labels?: ReadonlySet<string> | null): { text: string; segments: RedactionSegment[]; count: number };
