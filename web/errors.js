// errors.js — the one error type of the library, shared by every module of web/.

/**
 * Every failure of the engine or the library: `code` is stable ("CORRUPT", "INPUT", "INTEGRITY", …) and
 * `message` says what and where. Aborts are not EdgetagErrors: they reject with the AbortSignal's reason.
 */
export class EdgetagError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = "EdgetagError";
    this.code = code;
  }
}
