// engine.js — the WebAssembly engine: picks the build (relaxed SIMD or SIMD128), compiles and instantiates
// it once per flavour, and gives typed access to its memory and exports. It knows no models and no sources.

import { EdgetagError } from "./errors.js";
import { ALIGNMENT, KERNELS, SCRATCH_BYTES, STATUS_CODES, addresses, arrayView, readArray, readField, readStruct, writeStruct } from "./abi.js";

/** The library version; equals the engine's et_version() and the C header's ET_VERSION_STRING. */
export const version = "0.1.0";

// A module whose only function uses f32x4.relaxed_madd: it validates exactly where relaxed SIMD runs.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11,
]);

/** True when this engine runs relaxed SIMD (Chromium, Node >= 22, Deno, workerd; not Safari). */
export function relaxedSimdSupported() {
  return WebAssembly.validate(RELAXED_PROBE);
}

const WASM_FILES = { baseline: "edgetag.wasm", relaxed: "edgetag-relaxed.wasm" };

/** Compiles the engine's .wasm: while it downloads where the platform can (application/wasm over HTTP). */
async function compileWasm(url) {
  if (url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    return WebAssembly.compile(await readFile(url));
  }
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new EdgetagError("IO", `edgetag: fetching ${url} failed: ${e?.message ?? e}`, { cause: e });
  }
  if (!res.ok) throw new EdgetagError("IO", `edgetag: fetching ${url} failed: HTTP ${res.status}`);
  if (typeof WebAssembly.compileStreaming === "function" && res.headers.get("content-type")?.startsWith("application/wasm"))
    return WebAssembly.compileStreaming(res);
  return WebAssembly.compile(await res.arrayBuffer());
}

// tune()'s rule: timings are summed over windows of TUNE_WINDOW rounds; they have settled when a window took
// more than TUNE_SETTLED of the one before (no longer falling); dot32 is kept when it took less than
// TUNE_DOT32_WINS of dot16's time (a clear win, not noise).
const TUNE_WINDOW = 12, TUNE_SETTLED = 0.85, TUNE_MAX_ROUNDS = 200, TUNE_DOT32_WINS = 0.9;

/** The engine: one wasm instance and typed access to its exports. */
export class Engine {
  constructor(instance, flavour) {
    this.exports = instance.exports;
    this.flavour = flavour;
    this.exports._initialize();
    // A small scratch area for out-parameters and structs (abi.js's SCRATCH layouts), allocated once.
    this.scratch = this.exports.malloc(SCRATCH_BYTES);
    if (!this.scratch) throw new EdgetagError("OUT_OF_MEMORY", "edgetag: no memory for the scratch area");
    this.decoder = new TextDecoder();
    this.kernels = flavour === "relaxed" ? KERNELS.relaxedDot16 : KERNELS.baseline;
    this.#tuning = flavour === "relaxed" ? { d16: [], d32: [] } : null;
  }

  #tuning;

  /** False while the relaxed build is still timing its two int8 kernel sets (see tune()). */
  get tuned() { return this.#tuning === null; }

  /**
   * The relaxed build's int8 kernels: dot16 or dot32, whichever this engine runs faster once it has
   * optimized them. Which one wins depends on the CPU (dot32 is one instruction where it has VNNI) and on
   * how the JavaScript engine compiles the relaxed dots, so it is measured, not assumed (bench/RESULTS.md
   * has one machine's figures). It cannot be measured at start-up: engines that compile wasm lazily
   * (Chromium, Deno, workerd, Node ≥ 22) first run unoptimized code, where the ranking differs. So runs
   * start with dot16 and each run first calls this: it times one small GEMM (16 × 384 × 384, four times)
   * with each set — both from one wasm function, so both in the same tier — until the sums of the last
   * TUNE_WINDOW rounds stop falling (the engine has optimized the function), or for at most TUNE_MAX_ROUNDS;
   * then it keeps dot32 only if it is clearly faster. Contexts are remade with the choice.
   */
  tune() {
    const t = this.#tuning;
    if (!t) return;
    const time = (k) => {
      const t0 = performance.now();
      this.exports.et_kernels_probe(k, 4);
      return performance.now() - t0;
    };
    const odd = t.d16.length % 2; // alternate which goes first
    const first = time(odd ? KERNELS.relaxedDot32 : KERNELS.relaxedDot16);
    const second = time(odd ? KERNELS.relaxedDot16 : KERNELS.relaxedDot32);
    t.d16.push(odd ? second : first), t.d32.push(odd ? first : second);
    const n = t.d16.length, w = TUNE_WINDOW;
    if (n < 2 * w) return;
    const sum = (a, from, to) => a.slice(from, to).reduce((x, y) => x + y, 0);
    const [r16, r32] = [sum(t.d16, n - w, n), sum(t.d32, n - w, n)];
    const settled = r16 > TUNE_SETTLED * sum(t.d16, n - 2 * w, n - w) && r32 > TUNE_SETTLED * sum(t.d32, n - 2 * w, n - w);
    if (!settled && n < TUNE_MAX_ROUNDS) return;
    this.kernels = r32 < TUNE_DOT32_WINS * r16 ? KERNELS.relaxedDot32 : KERNELS.relaxedDot16;
    this.#tuning = null;
  }

  // Wasm memory: arrays of values, and structs as abi.js lays them out.
  get memory() { return this.exports.memory.buffer; }
  i32(ptr, count) { return new Int32Array(this.memory, ptr, count); }
  f32(ptr, count) { return new Float32Array(this.memory, ptr, count); }
  /** A typed array over `count` values of an abi.js scalar type ("ptr", "size", …) at `ptr`. */
  view(type, ptr, count) { return arrayView(this.memory, type, ptr, count); }
  read(layout, ptr) { return readStruct(this.memory, layout, ptr); }
  readField(layout, ptr, name) { return readField(this.memory, layout, ptr, name); }
  readArray(layout, ptr, count) { return readArray(this.memory, layout, ptr, count); }
  write(layout, ptr, values) { writeStruct(this.memory, layout, ptr, values); }

  /** Where each part of a SCRATCH layout (abi.js) lies in the scratch area. */
  scratchFor(block) { return addresses(block, this.scratch); }
  /** The scratch area read as a SCRATCH layout: the whole block, or its field `name`. */
  readScratch(block, name) { return name === undefined ? this.read(block, this.scratch) : this.readField(block, this.scratch, name); }

  string(ptr) {
    if (!ptr) return null;
    const bytes = new Uint8Array(this.memory, ptr);
    let end = 0;
    while (bytes[end] !== 0) end++;
    return this.decoder.decode(bytes.subarray(0, end));
  }

  /** Allocates `size` bytes aligned as the model loader requires (abi.js's ALIGNMENT); throws when out of memory. */
  alloc(size, what) {
    const ptr = this.exports.aligned_alloc(ALIGNMENT, Math.max(ALIGNMENT, Math.ceil(size / ALIGNMENT) * ALIGNMENT));
    if (!ptr) throw new EdgetagError("OUT_OF_MEMORY", `edgetag: no memory for ${what} (${size} bytes)`);
    return ptr;
  }

  error(status, message) {
    const code = STATUS_CODES[status] ?? "UNKNOWN";
    const text = message || this.string(this.exports.et_status_string(status));
    return new EdgetagError(code, text);
  }

  version() { return this.string(this.exports.et_version()); }
}

const engines = new Map(); // flavour → Promise<Engine>: init is memoized

/**
 * Instantiates the engine once per flavour (later calls return the same promise).
 * @param {{simd?: "auto"|"relaxed"|"baseline", wasmModule?: WebAssembly.Module, wasmUrl?: string|URL}} [options]
 */
export function init(options = {}) {
  const simd = options.simd ?? "auto";
  if (!["auto", "relaxed", "baseline"].includes(simd))
    throw new EdgetagError("INVALID_ARGUMENT", `edgetag: simd must be "auto", "relaxed" or "baseline", not ${simd}`);
  const flavour = simd === "auto" ? (relaxedSimdSupported() ? "relaxed" : "baseline") : simd;
  const key = options.wasmModule ? options.wasmModule : options.wasmUrl ? String(options.wasmUrl) : flavour;
  if (!engines.has(key)) {
    const promise = (async () => {
      if (flavour === "relaxed" && !options.wasmModule && !relaxedSimdSupported())
        throw new EdgetagError("UNSUPPORTED", "edgetag: this JavaScript engine has no relaxed SIMD");
      let module = options.wasmModule;
      if (!module) {
        const url = options.wasmUrl ? new URL(options.wasmUrl, import.meta.url)
          : new URL(`../build/${WASM_FILES[flavour]}`, import.meta.url);
        module = await compileWasm(url);
      }
      const instance = await WebAssembly.instantiate(module, {});
      return new Engine(instance, flavour);
    })();
    promise.catch(() => engines.delete(key));
    engines.set(key, promise);
  }
  return engines.get(key);
}
