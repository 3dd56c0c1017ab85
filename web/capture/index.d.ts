// Type declarations for web/capture/index.js: answered escalations recorded, with consent, as training data.

/** "edgetag.capture/1" */
export declare const CAPTURE_SCHEMA: "edgetag.capture/1";

/** Default bounds of a capture store. */
export declare const CAPTURE_DEFAULTS: Readonly<{ maxRecords: number; maxBytes: number; maxRecordBytes: number }>;

/** A span on the text as it was sent (the redacted text): `text === record.text.slice(start, end)`. */
export interface CapturedSpan {
  label: string;
  start: number;
  end: number;
  text: string;
  score?: number | null;
}

/** One captured escalation: only what was sent (the redacted text), never the original text. */
export interface CaptureRecord {
  schema: "edgetag.capture/1";
  /** RFC 3339 time of recording. */
  at: string;
  task: "classify" | "extract";
  /** The local model's name and version (edgetag.model.version). */
  model: { name: string | null; version: string | null };
  /** The text exactly as it went to the cloud: placeholders such as [PERSON_1] where redaction replaced something. */
  text: string;
  redacted: boolean;
  trigger: "low_score" | "label" | "model";
  /** The escalation threshold in force. */
  threshold: number | null;
  /** The teacher's validated answer on `text`. */
  teacher: { label: string; score: number | null } | { entities: CapturedSpan[] };
  /** The local model's answer; extraction spans moved onto `text` (a span touching a placeholder covers all of it). */
  local: { label: string; score: number } | { score: number; entities: CapturedSpan[] };
}

export interface CaptureUsage {
  records: number;
  /** Bytes of the JSONL lines. */
  bytes: number;
  maxRecords: number;
  maxBytes: number;
}

/** Where records are kept: a bounded log keeping the newest (adding beyond a bound evicts the oldest). */
export interface CaptureStore {
  readonly kind?: string;
  /** stored false with reason "too_large" for a record over maxRecordBytes. */
  add(record: CaptureRecord): Promise<{ stored: boolean; evicted: number; reason?: "too_large" }>;
  /** Oldest first. */
  records(): Promise<CaptureRecord[]>;
  /** JSON Lines, one record a line, oldest first (what tools/distill reads). */
  export(): Promise<string>;
  /** Removes every record. */
  erase(): Promise<void>;
  usage(): Promise<CaptureUsage>;
}

export interface CaptureBounds {
  /** Default 1000. */
  maxRecords?: number;
  /** Bytes of JSONL at most (default 1 MiB). */
  maxBytes?: number;
  /** A larger record is not stored (default 16 KiB, at most maxBytes). */
  maxRecordBytes?: number;
}

/** A store in memory: gone when the process ends. */
export declare function memoryCaptureStore(options?: CaptureBounds): CaptureStore;

/** Browsers: records in the IndexedDB database `dbName` (default "edgetag-capture"). */
export declare function indexedDBCaptureStore(options?: CaptureBounds & { dbName?: string; indexedDB?: { open(name: string, version?: number): unknown } }): CaptureStore & {
  close(): Promise<void>;
};

/** The whole log as one JSONL text through a backend (a KV value, an R2 object, a file). */
export declare function textCaptureStore(
  backend: { read(): Promise<string | null>; write(text: string): Promise<void>; remove(): Promise<void> },
  options?: CaptureBounds,
  kind?: string,
): CaptureStore;

/** JSONL back into records (lines of another schema, or torn, are skipped). */
export declare function parseJSONL(text: string): CaptureRecord[];

/**
 * The escalation policy's `capture` option. consent is required: true (the user agreed to everything this
 * tagger escalates), false, "per-call" (only calls made with {capture: true}) or a function asked at each
 * record (anything but true, or a throw, records nothing).
 */
export interface CapturePolicy {
  store: CaptureStore;
  consent: boolean | "per-call" | (() => boolean | Promise<boolean>);
}
