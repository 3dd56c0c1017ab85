// Type declarations for web/edgetag.js (the minimal loader of the edgetag WebAssembly engine).

/** The library version; equals the engine's et_version() and the C header's ET_VERSION_STRING. */
export declare const version: string;

/** Stable error codes, one per C status of include/edgetag.h. */
export type EdgetagErrorCode =
  | "INVALID_ARGUMENT" | "OUT_OF_MEMORY" | "BAD_MAGIC" | "BAD_VERSION" | "TRUNCATED" | "CORRUPT"
  | "UNSUPPORTED" | "MISSING" | "SHAPE" | "ALIGNMENT" | "INPUT" | "CAPACITY" | "IO" | "STATE" | "UNKNOWN";

/** Every failure of the engine or the loader. */
export declare class EdgetagError extends Error {
  constructor(code: EdgetagErrorCode, message: string);
  readonly name: "EdgetagError";
  readonly code: EdgetagErrorCode;
}

export type SimdFlavour = "auto" | "relaxed" | "baseline";

export interface InitOptions {
  /** Which build to run: "auto" (default) picks relaxed SIMD where WebAssembly.validate accepts it. */
  simd?: SimdFlavour;
  /** A compiled edgetag module (e.g. imported as a module in Cloudflare Workers). */
  wasmModule?: WebAssembly.Module;
  /** Where to fetch the .wasm from; default: ../build/edgetag[-relaxed].wasm next to this file. */
  wasmUrl?: string | URL;
}

/** True when this JavaScript engine runs relaxed SIMD. */
export declare function relaxedSimdSupported(): boolean;

export interface Engine {
  readonly flavour: "relaxed" | "baseline";
  /** The kernel set chosen for this CPU (et_kernels_choice: 2 baseline, 3 relaxed dot16, 4 relaxed dot32). */
  readonly kernels: number;
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
}

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
  /** The probability is below the model's escalation threshold, or the label is "oos". */
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

export declare class Model {
  private constructor();
  readonly info: ModelInfo;
  /** Head output: a row per token (token classification) or per text; pooler output for embedding models. */
  logits(ids: TokenIds, options?: RunOptions<TokenIds>): Matrix;
  logits(ids: TokenIds[], options?: RunOptions<TokenIds[]>): Matrix[];
  /** Last hidden states, a row of nEmbd per token. */
  hidden(ids: TokenIds, options?: RunOptions<TokenIds>): Matrix;
  hidden(ids: TokenIds[], options?: RunOptions<TokenIds[]>): Matrix[];
  /** One embedding per text: mean (default) or [CLS] pooling, optionally L2-normalized. */
  embed(ids: TokenIds, options?: RunOptions<TokenIds> & { pooling?: "mean" | "cls"; normalize?: boolean }): Float32Array;
  embed(ids: TokenIds[], options?: RunOptions<TokenIds[]> & { pooling?: "mean" | "cls"; normalize?: boolean }): Float32Array[];
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
  extract(text: string, options?: { aggregation?: "none" | "simple" | "first" | "average" | "max"; stride?: number }): {
    entities: Entity[];
    escalate: boolean;
  };
  /** The file's tensor table as the engine read it. */
  tensors(): TensorInfo[];
  /** Bytes of the engine's whole wasm linear memory. */
  readonly wasmMemoryBytes: number;
  /** Frees the model and its buffers; further calls throw EdgetagError("STATE"). Idempotent. */
  dispose(): void;
}

/** Loads a GGUF model from bytes (copied once into wasm memory and used there in place). */
export declare function load(bytes: ArrayBuffer | ArrayBufferView, options?: InitOptions): Promise<Model>;
