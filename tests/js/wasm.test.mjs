// wasm.test.mjs — the WebAssembly builds and the minimal loader (web/edgetag.js): imports, exports,
// versions, errors, ownership. The flavour under test is EDGETAG_SIMD (baseline unless "relaxed").
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";
import { pathToFileURL } from "node:url";

import { EdgetagError, init, load, relaxedSimdSupported, version } from "../../web/edgetag.js";
import { nodeHasRelaxedSimd, path, readBuilt, simd } from "./helpers.mjs";

const wasmFile = simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm";
const tiny = () => readFileSync(path("models/reference-tiny.gguf"));

test("the module imports nothing and exports the API", () => {
  const module = new WebAssembly.Module(readBuilt(wasmFile, "make wasm"));
  assert.deepEqual(WebAssembly.Module.imports(module), [], "a worker must be able to instantiate it with {}");
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of ["memory", "_initialize", "malloc", "free", "aligned_alloc", "et_version", "et_model_load_from_buffer",
    "et_model_free", "et_context_create", "et_context_run", "et_context_logits", "et_context_embeddings"])
    assert.ok(exports.includes(name), `missing export ${name}`);
});

test("the three version numbers agree: C header, wasm et_version(), JS export, package.json", async () => {
  const header = readFileSync(path("include/edgetag.h"), "utf8");
  const macro = (n) => Number(header.match(new RegExp(`#define ET_VERSION_${n} (\\d+)`))[1]);
  const fromHeader = `${macro("MAJOR")}.${macro("MINOR")}.${macro("PATCH")}`;
  assert.equal(header.match(/#define ET_VERSION_STRING "([^"]+)"/)[1], fromHeader);
  const engine = await init({ simd });
  assert.equal(engine.version(), fromHeader);
  assert.equal(engine.exports.et_version_number(), macro("MAJOR") * 1e6 + macro("MINOR") * 1e3 + macro("PATCH"));
  assert.equal(version, fromHeader);
  assert.equal(JSON.parse(readFileSync(path("package.json"), "utf8")).version, fromHeader);
});

test("init is memoized per flavour and picks the flavour asked for", async () => {
  const a = init({ simd }), b = init({ simd });
  assert.equal(a, b);
  assert.equal((await a).flavour, simd);
  // The int8 kernels: SIMD128, or the relaxed sets (dot16 until the runs' timings pick dot16 or dot32).
  const engine = await a;
  if (simd === "relaxed") assert.ok([3, 4].includes(engine.kernels), `kernels ${engine.kernels}`);
  else {
    assert.equal(engine.tuned, true, "the baseline build has nothing to time");
    assert.equal(engine.kernels, 2);
    assert.equal(engine.exports.et_kernels_probe(3, 1), 7, "the baseline build has no relaxed kernels (ET_ERR_UNSUPPORTED)");
  }
  assert.equal(relaxedSimdSupported(), nodeHasRelaxedSimd, "the probe says what this Node runs");
  assert.throws(() => init({ simd: "avx" }), (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT");
});

test("a wasmModule passed in runs as the build it is, whatever simd says; a contradicting simd or a foreign module is refused", async () => {
  const baseline = new WebAssembly.Module(readBuilt("build/edgetag.wasm", "make wasm"));
  const engine = await init({ wasmModule: baseline }); // "auto": where relaxed SIMD runs, this used to pick its kernels
  assert.equal(engine.flavour, "baseline");
  assert.equal(engine.kernels, 2);
  const m = await load(tiny(), { wasmModule: baseline });
  assert.equal(m.classify("a text long enough to run").label.length > 0, true);
  m.dispose();
  await assert.rejects(init({ wasmModule: baseline, simd: "relaxed" }),
    (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT" && /baseline build/.test(e.message));
  if (nodeHasRelaxedSimd) {
    const relaxed = new WebAssembly.Module(readBuilt("build/edgetag-relaxed.wasm", "make wasm"));
    assert.equal((await init({ wasmModule: relaxed })).flavour, "relaxed");
  }
  // A module that is not the engine: one function, no exports of ours.
  const foreign = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  await assert.rejects(init({ wasmModule: foreign }), (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT");
  assert.throws(() => init({ wasmModule: new Uint8Array(8) }), (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT");
});

test("the relaxed build settles on one int8 kernel set over its first runs, with the same answers throughout", { skip: simd !== "relaxed" && "relaxed build only" }, async () => {
  const wasmModule = new WebAssembly.Module(readBuilt(wasmFile, "make wasm")); // an engine of its own, fresh
  const engine = await init({ simd, wasmModule });
  assert.equal(engine.tuned, false);
  assert.equal(engine.kernels, 3, "runs start with dot16");
  const model = await load(readFileSync(path("build/ref/odd-i8.gguf")), { simd, wasmModule });
  const ids = Array.from({ length: 40 }, (_, i) => (i * 37) % 500 + 5);
  const first = model.logits(ids).data.slice();
  let runs = 0;
  for (; !engine.tuned && runs < 250; runs++) model.logits(ids);
  assert.ok(engine.tuned && runs >= 23, `still timing after ${runs} runs`);
  assert.ok([3, 4].includes(engine.kernels));
  // dot16 and dot32 sum the same integers: the answers are identical bit for bit whichever is kept.
  assert.deepEqual(model.logits(ids).data, first);
  model.dispose();
});

// The choice under the clocks users' runtimes have: browsers that are not cross-origin isolated step
// performance.now() by 100 µs (one probe takes ~50 µs here), and workerd's stands still while code runs.
test("kernel timing: a 100 µs clock makes the same choice as a fine one; a clock that stands still keeps dot16 untimed", { skip: simd !== "relaxed" && "relaxed build only" }, async () => {
  const settle = async (now) => {
    const real = performance.now;
    const wasmModule = new WebAssembly.Module(readBuilt(wasmFile, "make wasm"));
    const engine = await init({ simd, wasmModule });
    const model = await load(readFileSync(path("build/ref/minilm-i8.gguf")), { simd, wasmModule });
    const ids = Array.from({ length: 64 }, (_, i) => (i * 37) % 5000 + 100);
    try {
      if (now) performance.now = now(real.bind(performance));
      for (let runs = 0; !engine.tuned && runs < 300; runs++) model.logits(ids);
    } finally {
      performance.now = real;
    }
    model.dispose();
    return engine;
  };
  const fine = await settle(null);
  const coarse = await settle((real) => () => Math.floor(real() / 0.1) * 0.1);
  assert.ok(fine.tuned && coarse.tuned);
  assert.equal(coarse.kernels, fine.kernels, `100 µs clock: ${coarse.kernelsReason}; fine clock: ${fine.kernelsReason}`);
  assert.match(coarse.kernelsReason, /fastest probe dot32 [\d.]+ µs, dot16 [\d.]+ µs after \d+ rounds of \d+/);
  const frozen = await settle(() => () => 1234.5);
  assert.ok(frozen.tuned);
  assert.equal(frozen.kernels, 3);
  assert.match(frozen.kernelsReason, /untimed/);
});

test("wasmUrl: one build's URL, or both builds' ({relaxed, baseline}) of which the runtime's flavour is fetched", async () => {
  const url = (f) => pathToFileURL(path(`build/${f}`));
  const both = { relaxed: url("edgetag-relaxed.wasm"), baseline: url("edgetag.wasm") };
  assert.equal((await init({ simd, wasmUrl: both })).flavour, simd);
  assert.equal((await init({ simd: "baseline", wasmUrl: url("edgetag.wasm") })).flavour, "baseline");
  // "auto" with only one build given takes it, whatever this runtime could run.
  assert.equal((await init({ wasmUrl: { baseline: url("edgetag.wasm") } })).flavour, "baseline");
  assert.throws(() => init({ simd: "relaxed", wasmUrl: { baseline: url("edgetag.wasm") } }),
    (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT" && /no URL for the relaxed build/.test(e.message));
  // A .wasm that is not there: the error says what to pass instead.
  await assert.rejects(init({ simd, wasmUrl: url("missing.wasm") }),
    (e) => e instanceof EdgetagError && e.code === "IO" && /wasmModule/.test(e.message) && /wasmUrl/.test(e.message));
  const m = await load(tiny(), { simd, wasmUrl: both });
  assert.ok(m.classify("a text").label);
  m.dispose();
});

test("model info, labels and the tensor table read back", async () => {
  const model = await load(tiny(), { simd });
  const i = model.info;
  assert.equal(i.task, "sequence_classification");
  assert.deepEqual([i.nLayer, i.nEmbd, i.nHead, i.nFF, i.nCtx, i.nVocab, i.nTokenTypes, i.nLabels, i.nOut],
    [2, 64, 4, 256, 512, 1024, 2, 3, 3]);
  assert.deepEqual(i.labels, ["negative", "neutral", "positive"]);
  assert.deepEqual(i.specialIds, { cls: 101, sep: 102, pad: 0, unk: 100, mask: 103 });
  assert.equal(i.temperature, 1);
  assert.equal(i.threshold, null);
  assert.equal(i.name, "edgetag reference tiny (random weights)");
  assert.ok(Object.isFrozen(i));
  const t = model.tensors();
  assert.equal(t.length, i.nTensors);
  assert.deepEqual(t[0], { name: "token_embd.weight", type: 0, ne: [64, 1024], offset: t[0].offset, nBytes: 64 * 1024 * 4 });
  model.dispose();
});

test("input views are honoured: a Uint8Array inside a larger buffer loads the same model", async () => {
  const bytes = tiny();
  const big = new Uint8Array(bytes.length + 13);
  big.set(bytes, 7);
  const a = await load(bytes, { simd }), b = await load(big.subarray(7, 7 + bytes.length), { simd });
  const ids = [101, 500, 600, 102];
  assert.deepEqual(a.logits(ids).data, b.logits(ids).data);
  a.dispose(), b.dispose();
  await assert.rejects(load(42, { simd }), (e) => e instanceof EdgetagError && e.code === "INVALID_ARGUMENT");
  // In Node a string that is not a URL is a file path: a missing one is an IO error naming it.
  await assert.rejects(load("not bytes", { simd }), (e) => e instanceof EdgetagError && e.code === "IO" && /not%20bytes/.test(e.message));
});

test("bad files fail with stable codes and precise messages, and leak no wasm memory", async () => {
  const bytes = tiny();
  const engine = await init({ simd });
  const cases = [
    [bytes.subarray(0, 100), "TRUNCATED", /cannot fit in 100 bytes/],
    [bytes.subarray(0, bytes.length - 4096), "TRUNCATED", /runs past the end/],
    [Uint8Array.from(bytes, (b, i) => (i === 0 ? 0x47 ^ 1 : b)), "BAD_MAGIC", /magic/],
    [Uint8Array.from(bytes, (b, i) => (i === 4 ? 9 : b)), "BAD_VERSION", /version 9/],
    [new Uint8Array(0), "TRUNCATED", /needs 4 bytes/],
  ];
  // The same failures many times: wasm memory must not grow (the model copy is freed on failure).
  for (let round = 0; round < 3; round++) {
    for (const [data, code, message] of cases) {
      await assert.rejects(load(data, { simd }), (e) => {
        assert.ok(e instanceof EdgetagError, String(e));
        assert.equal(e.code, code, e.message);
        assert.match(e.message, message);
        return true;
      });
    }
    if (round === 0) var memory = engine.memory.byteLength;
  }
  assert.equal(engine.memory.byteLength, memory);
});

test("run errors: ids outside the vocabulary, a text longer than the model, empty text", async () => {
  const model = await load(tiny(), { simd });
  const expectError = (fn, code, re) => assert.throws(fn, (e) => e instanceof EdgetagError && e.code === code && re.test(e.message));
  expectError(() => model.logits([101, 5000, 102]), "INPUT", /token id 5000 at index 1 is outside the vocabulary 0\.\.1023/);
  expectError(() => model.logits([101, -1]), "INPUT", /-1/);
  expectError(() => model.logits(new Array(513).fill(101)), "CAPACITY", /513 tokens; the limit is 512/);
  expectError(() => model.logits([[101, 102], []]), "INPUT", /text 1 has length 0/);
  expectError(() => model.logits([101, 102], { typeIds: [0, 2] }), "INPUT", /type id 2/);
  // After errors the model still works, and long batches grow the context.
  assert.equal(model.logits([101, 102]).cols, 3);
  const many = Array.from({ length: 40 }, (_, k) => [101, 200 + k, 102]);
  assert.equal(model.logits(many).length, 40);
  const long = Array.from({ length: 4 }, () => new Array(512).fill(7));
  assert.equal(model.logits(long).length, 4);
  model.dispose();
  model.dispose(); // twice is fine
  assert.throws(() => model.logits([101]), (e) => e.code === "STATE");
});

test("embeddings: mean and cls pooling, normalization", async () => {
  const model = await load(tiny(), { simd });
  const ids = [[101, 300, 301, 302, 102], [101, 400, 102]];
  const hidden = model.hidden(ids);
  const mean = model.embed(ids);
  const H = model.info.nEmbd;
  for (let b = 0; b < 2; b++) {
    for (let j = 0; j < H; j += 7) {
      let s = 0;
      for (let r = 0; r < hidden[b].rows; r++) s += hidden[b].data[r * H + j];
      assert.ok(Math.abs(mean[b][j] - s / hidden[b].rows) < 1e-5);
    }
  }
  const cls = model.embed(ids, { pooling: "cls" });
  assert.deepEqual(Array.from(cls[1]), Array.from(hidden[1].data.subarray(0, H)));
  const unit = model.embed(ids[0], { normalize: true });
  assert.ok(Math.abs(unit.reduce((s, v) => s + v * v, 0) - 1) < 1e-5);
  assert.throws(() => model.embed(ids, { pooling: "max" }), (e) => e.code === "INVALID_ARGUMENT");
  model.dispose();
});

test("disposing frees the model's memory for the next one", async () => {
  const engine = await init({ simd });
  const bytes = tiny();
  for (let k = 0; k < 3; k++) (await load(bytes, { simd })).dispose();
  const before = engine.memory.byteLength;
  for (let k = 0; k < 20; k++) {
    const m = await load(bytes, { simd });
    m.logits([101, 102]);
    m.dispose();
  }
  assert.equal(engine.memory.byteLength, before, "loading and disposing 20 times grew wasm memory");
});
