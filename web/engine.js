// engine.js — the WebAssembly engine: picks the build (relaxed SIMD or SIMD128), compiles and instantiates
// it once per flavour, and gives typed access to its memory and exports. It knows no models and no sources.

import { EdgetagError } from "./errors.js";
import { ALIGNMENT, KERNELS, SCRATCH_BYTES, STATUS_CODES, addresses, arrayView, readArray, readField, readStruct, writeStruct } from "./abi.js";
import { LIMITS, own, readLimits } from "./options.js";
import { isPermissionError, nodeBuiltin, permissionFlag } from "./runtime.js";

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

/**
 * Where the engine's .wasm lies beside this library, for the flavour. The two URLs are written out whole,
 * inside a function, so that bundlers (Vite, webpack, esbuild with a plugin) see `new URL("…",
 * import.meta.url)` and ship the file, and so that importing the library computes nothing: runtimes without
 * import.meta.url (Cloudflare Workers, unless their new module registry is on) import it fine, and are told
 * to pass the module only if they leave it out.
 */
function defaultWasmUrl(flavour) {
  try {
    return flavour === "relaxed" ? new URL("../build/edgetag-relaxed.wasm", import.meta.url)
      : new URL("../build/edgetag.wasm", import.meta.url);
  } catch (e) {
    throw new EdgetagError("MISSING", "edgetag: this runtime does not say where the library lies (import.meta.url is " +
      `not set, as in Cloudflare Workers), so it cannot find the engine's .wasm: ${PASS_THE_MODULE}`, { cause: e });
  }
}

/** What to pass instead, said once for every way the default .wasm cannot be had. */
const PASS_THE_MODULE = "import the engine's .wasm as a module (edgetag/wasm/edgetag-relaxed.wasm, or edgetag.wasm " +
  "where relaxed SIMD is missing) and pass it as the wasmModule option, or pass wasmUrl (the URL of a build, or " +
  "{relaxed, baseline}: the URLs of both)";

/** What a failed read or fetch of the .wasm needs: Deno's permission flag, or another way to give the engine. */
function remedy(e, url) {
  return isPermissionError(e) ? ` (Deno: run with ${permissionFlag(url)})` : `; ${PASS_THE_MODULE}`;
}

/** Compiles the engine's .wasm: while it downloads where the platform can (application/wasm over HTTP). */
async function compileWasm(url) {
  let bytes;
  if (url.protocol === "file:") {
    try {
      const fs = await nodeBuiltin("node:fs/promises");
      if (!fs) throw new Error("this runtime has no file system");
      bytes = await fs.readFile(url);
    } catch (e) {
      throw new EdgetagError("IO", `edgetag: reading the engine's .wasm (${url.href}) failed: ${e?.message ?? e}${remedy(e, url)}`,
        { cause: e });
    }
  } else {
    let res;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new EdgetagError("IO", `edgetag: fetching ${url} failed: ${e?.message ?? e}${remedy(e, url)}`, { cause: e });
    }
    if (!res.ok) throw new EdgetagError("IO", `edgetag: fetching ${url} failed: HTTP ${res.status}${remedy(null, url)}`);
    if (typeof WebAssembly.compileStreaming === "function" && res.headers.get("content-type")?.startsWith("application/wasm"))
      return compiled(WebAssembly.compileStreaming(res));
    bytes = await res.arrayBuffer();
  }
  return compiled(WebAssembly.compile(bytes));
}

/** A compilation, with the refusal of runtimes that compile no code at run time said as such. */
async function compiled(promise) {
  try {
    return await promise;
  } catch (e) {
    if (/disallowed|not allowed|code generation/i.test(String(e?.message)))
      throw new EdgetagError("UNSUPPORTED", `edgetag: this runtime does not compile WebAssembly at run time (${e.message}): ` +
        PASS_THE_MODULE, { cause: e });
    throw new EdgetagError("CORRUPT", `edgetag: the engine's .wasm does not compile: ${e?.message ?? e}`, { cause: e });
  }
}

/**
 * Instantiates a module and runs its start-up (the reactor's _initialize). A module that is not edgetag's
 * engine is refused as such; a relaxed-SIMD build in an engine without relaxed SIMD fails to compile or to
 * instantiate, and is refused with the flavour to use instead.
 */
async function instantiate(module) {
  const notOurs = () => new EdgetagError("INVALID_ARGUMENT", "edgetag: the wasm module passed is not edgetag's engine " +
    "(it should import nothing and export _initialize and et_kernels_probe)");
  if (WebAssembly.Module.imports(module).length > 0) throw notOurs();
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, {});
  } catch (e) {
    throw new EdgetagError("UNSUPPORTED", `edgetag: the engine's wasm module does not instantiate here (${e?.message ?? e}); ` +
      "a relaxed-SIMD build needs an engine with relaxed SIMD: pass the baseline build (edgetag.wasm) instead", { cause: e });
  }
  const x = instance.exports;
  if (typeof x._initialize !== "function" || typeof x.et_kernels_probe !== "function") throw notOurs();
  x._initialize();
  return instance;
}

// tune()'s rule, on windows of TUNE_WINDOW rounds: a window stands for its fastest round (time taken away by
// other work only ever adds, so the minimum is the kernel's own cost; a sum or a mean is what a busy machine
// skews); the timings have settled when each set's fastest round of the last window is more than TUNE_SETTLED
// of the window before's (no longer falling); dot32 is kept when its fastest round took less than
// TUNE_DOT32_WINS of dot16's (a clear win, not noise). A round is only kept when each set's part took at least
// TUNE_TICKS steps of the clock (browsers that are not cross-origin isolated give performance.now() in
// 100 µs steps, where one probe takes ~50 µs: Chromium then timed both sets as 0 or 0.1 ms and kept the
// slower dot16); until then the probe's repeats are doubled, and times are compared per repeat. 8 steps: ±12 % of a
// round at worst, far inside dot32's measured lead (about 2×), at 32–64 repeats per set in Chromium (20 steps
// took 128, ~9 ms of probing per run over the first ~30 runs).
const TUNE_WINDOW = 12, TUNE_SETTLED = 0.85, TUNE_MAX_ROUNDS = 200, TUNE_DOT32_WINS = 0.9;
const TUNE_TICKS = 8, TUNE_MAX_REPEATS = 256;

/** The smallest step of performance.now() seen in a few readings (ms): its resolution here; Infinity where the
 * clock stands still while code runs (workerd advances it only between I/O). */
function clockStep() {
  let step = Infinity;
  for (let i = 0, seen = 0, last = performance.now(); seen < 5 && step > 0.001 && i < 1e5; i++) {
    const now = performance.now();
    if (now !== last) step = Math.min(step, now - last), last = now, seen++;
  }
  return step;
}

/**
 * The engine: one wasm instance and typed access to its exports.
 *
 * Pointers: wasm32 addresses are unsigned, but an exported function's i32 result reaches JavaScript as a signed
 * number, negative from 2 GiB on. Every pointer the library takes from an export goes through ptr() (x >>> 0), and
 * pointers stored in structs are read as u32 (abi.js), so memory past 2 GiB works like any other.
 *
 * Memory: `maxMemory` caps the instance's linear memory (et_memory_set_limit): an allocation that would grow it
 * further fails, and the call that needed it throws OUT_OF_MEMORY, leaving every model as it was.
 */
export class Engine {
  constructor(instance, flavour, maxMemory = LIMITS.maxMemory[0]) {
    this.exports = instance.exports;
    this.flavour = flavour;
    this.maxMemory = this.exports.et_memory_set_limit(maxMemory) >>> 0;
    // A small scratch area for out-parameters and structs (abi.js's SCRATCH layouts), allocated once.
    this.scratch = ptr(this.exports.malloc(SCRATCH_BYTES));
    if (!this.scratch) throw new EdgetagError("OUT_OF_MEMORY", "edgetag: no memory for the scratch area");
    this.decoder = new TextDecoder();
    this.kernels = flavour === "relaxed" ? KERNELS.relaxedDot16 : KERNELS.baseline;
    this.#tuning = flavour === "relaxed" ? { d16: [], d32: [], repeats: 4, minMs: 0 } : null;
    this.kernelsReason = flavour === "relaxed" ? "relaxed build: dot16 while dot16 and dot32 are being timed"
      : "baseline SIMD128 build: its one int8 kernel set";
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
   * with each set — both from one wasm function, so both in the same tier — until the fastest rounds of the
   * last TUNE_WINDOW stop falling (the engine has optimized the function), or for at most TUNE_MAX_ROUNDS;
   * then it keeps dot32 only if its fastest round is clearly faster. Each set's part of a round is repeated
   * until it spans TUNE_TICKS steps of this clock. Contexts are remade with the choice.
   */
  tune() {
    const t = this.#tuning;
    if (!t) return;
    t.minMs ||= TUNE_TICKS * clockStep();
    if (t.minMs === Infinity) { // nothing can be timed here: keep dot16, right on every CPU if not always fastest
      this.#tuning = null;
      this.kernelsReason = "relaxed build: dot16, untimed (performance.now() does not advance while code runs here)";
      return;
    }
    const time = (k) => {
      const t0 = performance.now();
      this.exports.et_kernels_probe(k, t.repeats);
      return performance.now() - t0;
    };
    const odd = t.d16.length % 2; // alternate which goes first
    const first = time(odd ? KERNELS.relaxedDot32 : KERNELS.relaxedDot16);
    const second = time(odd ? KERNELS.relaxedDot16 : KERNELS.relaxedDot32);
    if (Math.min(first, second) < t.minMs && t.repeats < TUNE_MAX_REPEATS) {
      t.repeats *= 2; // too short for this clock: not kept
      return;
    }
    t.d16.push((odd ? second : first) / t.repeats), t.d32.push((odd ? first : second) / t.repeats);
    const n = t.d16.length, w = TUNE_WINDOW;
    if (n < 2 * w) return;
    const min = (a, from, to) => Math.min(...a.slice(from, to));
    const [r16, r32] = [min(t.d16, n - w, n), min(t.d32, n - w, n)];
    const settled = r16 > TUNE_SETTLED * min(t.d16, n - 2 * w, n - w) && r32 > TUNE_SETTLED * min(t.d32, n - 2 * w, n - w);
    if (!settled && n < TUNE_MAX_ROUNDS) return;
    this.kernels = r32 < TUNE_DOT32_WINS * r16 ? KERNELS.relaxedDot32 : KERNELS.relaxedDot16;
    this.#tuning = null;
    const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
    this.kernelsReason = `relaxed build: ${this.kernels === KERNELS.relaxedDot32 ? "dot32" : "dot16"} — fastest probe ` +
      `dot32 ${us(r32)}, dot16 ${us(r16)} after ${n} rounds of ${t.repeats} (dot32 is kept below ${TUNE_DOT32_WINS} of dot16)`;
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

  string(address) {
    const at = ptr(address);
    if (!at) return null;
    const bytes = new Uint8Array(this.memory, at);
    let end = 0;
    while (bytes[end] !== 0) end++;
    return this.decoder.decode(bytes.subarray(0, end));
  }

  /** Allocates `size` bytes aligned as the model loader requires (abi.js's ALIGNMENT); throws when out of memory. */
  alloc(size, what) {
    const rounded = Math.max(ALIGNMENT, Math.ceil(size / ALIGNMENT) * ALIGNMENT);
    const at = rounded < 2 ** 32 ? ptr(this.exports.aligned_alloc(ALIGNMENT, rounded)) : 0;
    if (!at) throw this.outOfMemory(`${what} (${size} bytes)`);
    return at;
  }

  /** The OUT_OF_MEMORY of an allocation for `what` that failed: what the engine holds, and its maxMemory. */
  outOfMemory(what) {
    const MiB = 2 ** 20;
    return new EdgetagError("OUT_OF_MEMORY", `edgetag: no memory for ${what}: the engine holds ` +
      `${(this.memory.byteLength / MiB).toFixed(1)} MiB of its maxMemory, ${(this.maxMemory / MiB).toFixed(1)} MiB ` +
      "(load()'s maxMemory option raises it; memory once grown is never given back)");
  }

  error(status, message) {
    const code = STATUS_CODES[status] ?? "UNKNOWN";
    const text = message || this.string(this.exports.et_status_string(status));
    return new EdgetagError(code, text);
  }

  version() { return this.string(this.exports.et_version()); }
}

/** A wasm32 address from an export's signed i32 result (unsigned, so memory past 2 GiB reads right). */
export const ptr = (x) => x >>> 0;

const engines = new Map();           // flavour, or simd + wasmUrl → Promise<Engine>: init is memoized
const moduleEngines = new WeakMap(); // wasmModule → Map(simd → Promise<Engine>)

/**
 * Instantiates the engine once per flavour, wasmUrl or wasmModule, and maxMemory (later calls return the same
 * promise): models loaded with the same options share one instance and its memory, whose size never passes
 * maxMemory (default 256 MiB; a different maxMemory is an engine of its own).
 * The flavour is the build's own: a wasmModule passed in is asked whether it holds the relaxed kernels, so
 * simd "auto" runs it as what it is; an explicit simd that contradicts it is refused.
 * `wasmUrl` is one build's URL, or `{relaxed, baseline}`: the URLs of both, of which the flavour's is fetched.
 * @param {{simd?: "auto"|"relaxed"|"baseline", wasmModule?: WebAssembly.Module,
 *   wasmUrl?: string|URL|{relaxed?: string|URL, baseline?: string|URL}, maxMemory?: number}} [options]
 */
export function init(options = {}) {
  const simd = own(options, "simd") ?? "auto";
  const { maxMemory } = readLimits(options, ["maxMemory"]);
  if (!["auto", "relaxed", "baseline"].includes(simd))
    throw new EdgetagError("INVALID_ARGUMENT", `edgetag: simd must be "auto", "relaxed" or "baseline", not ${simd}`);
  const module = own(options, "wasmModule");
  if (module !== undefined && !(module instanceof WebAssembly.Module))
    throw new EdgetagError("INVALID_ARGUMENT", "edgetag: wasmModule must be a WebAssembly.Module (the engine's .wasm imported as a module)");
  const wanted = simd === "auto" ? (relaxedSimdSupported() ? "relaxed" : "baseline") : simd;
  const url = module ? null : wasmUrlOption(own(options, "wasmUrl"), simd, wanted);
  let table = engines, key = wanted;
  if (module) {
    if (!moduleEngines.has(module)) moduleEngines.set(module, new Map());
    table = moduleEngines.get(module), key = simd;
  } else if (url) key = `${simd} ${url.href}`;
  key += ` ${maxMemory}`;
  if (!table.has(key)) {
    const promise = (async () => {
      if (wanted === "relaxed" && !module && !relaxedSimdSupported())
        throw new EdgetagError("UNSUPPORTED", "edgetag: this JavaScript engine has no relaxed SIMD");
      const instance = await instantiate(module ?? await compileWasm(url ?? defaultWasmUrl(wanted)));
      const flavour = buildFlavour(instance);
      if (simd !== "auto" && flavour !== simd)
        throw new EdgetagError("INVALID_ARGUMENT", `edgetag: simd "${simd}" was asked for, but the wasm passed is the ${flavour} build`);
      return new Engine(instance, flavour, maxMemory);
    })();
    promise.catch(() => table.delete(key));
    table.set(key, promise);
  }
  return table.get(key);
}

/**
 * The wasmUrl option as the URL to fetch, or null without one: relative to the page where there is one, else
 * to this library. Of {relaxed, baseline}, the wanted flavour's; with simd "auto", the other when only that is given.
 */
function wasmUrlOption(option, simd, wanted) {
  if (option === undefined || option === null || option === "") return null;
  let url = option;
  if (typeof option === "object" && !(option instanceof URL)) {
    url = option[wanted] ?? (simd === "auto" ? option.baseline ?? option.relaxed : undefined);
    if (url === undefined)
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: wasmUrl has no URL for the ${wanted} build`);
  }
  try {
    return new URL(url, globalThis.location?.href ?? import.meta.url);
  } catch (e) {
    throw new EdgetagError("INVALID_ARGUMENT", `edgetag: wasmUrl ${String(url)} is not a URL`, { cause: e });
  }
}

/** Which build an instance is: the relaxed one holds the relaxed kernel sets (a probe of 0 rounds says so). */
function buildFlavour(instance) {
  return instance.exports.et_kernels_probe(KERNELS.relaxedDot16, 0) === 0 ? "relaxed" : "baseline";
}
