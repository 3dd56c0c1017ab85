// limits.test.mjs — what one call may cost: memory bounded by the tokens present and by maxMemory (never
// exceeded; the model keeps working after a refusal), pointers past 2 GiB, input limits with their error codes,
// inputs that are not strings, and labels that would lose an answer. Each case failed on the library before
// issue 15 (the figures in the comments are what it did then).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { EdgetagError, load } from "../../web/edgetag.js";
import { path, simd } from "./helpers.mjs";
import { withStrings } from "./gguf-edit.mjs";
import { document, shortTexts } from "../reliability/corpus.mjs";

const MiB = 2 ** 20;
const intent = readFileSync(path("models/intent-clinc.gguf"));
const ner = readFileSync(path("models/maint-ner.gguf"));
const wasmBytes = readFileSync(path(simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm"));

/** A model in an engine of its own (a new module is a new instance: its memory starts small and says the peak). */
const fresh = (bytes, options = {}) => load(bytes, { cache: "none", wasmModule: new WebAssembly.Module(wasmBytes), ...options });

describe("memory bounded by tokens", () => {
  test("40 short texts grow wasm memory by less than 16 MiB beyond the model (was ~120 MiB)", async () => {
    const m = await fresh(intent);
    const out = m.classify(shortTexts(40));
    assert.equal(out.length, 40);
    assert.ok(m.wasmMemoryBytes <= m.info.fileBytes + 16 * MiB,
      `${(m.wasmMemoryBytes / MiB).toFixed(1)} MiB for a ${(m.info.fileBytes / MiB).toFixed(1)} MiB model`);
    m.dispose();
  });

  test("600 short texts run in batches of batchTokens: same answers as one by one, memory as for 40", async () => {
    const m = await fresh(intent);
    const texts = shortTexts(600);
    const all = m.classify(texts);
    assert.ok(m.wasmMemoryBytes <= m.info.fileBytes + 16 * MiB, `${(m.wasmMemoryBytes / MiB).toFixed(1)} MiB`);
    for (const i of [0, 1, 9, 599]) assert.deepEqual(all[i], m.classify(texts[i]));
    m.dispose();
  });

  test("a 60 KB document is extracted to its end in the memory of one batch (50 KB took 1.2 GiB)", async () => {
    const m = await fresh(ner);
    const text = document(60_000);
    const { entities } = m.extract(text);
    assert.ok(entities.length > 1000);
    assert.ok(entities.at(-1).end > 59_000, `the last entity ends at ${entities.at(-1).end}`);
    for (const e of entities.slice(-20)) assert.equal(text.slice(e.start, e.end), e.text);
    assert.ok(m.wasmMemoryBytes <= m.info.fileBytes + 40 * MiB, `${(m.wasmMemoryBytes / MiB).toFixed(1)} MiB`);
    m.dispose();
  });

  test("10,000 emoji (3 tokens each in UTF-8 bytes) stay within the same bound (grew to 962 MiB)", async () => {
    const m = await fresh(ner);
    const r = m.extract("🙂".repeat(10_000));
    assert.equal(typeof r.escalate, "boolean");
    assert.ok(m.wasmMemoryBytes <= m.info.fileBytes + 40 * MiB, `${(m.wasmMemoryBytes / MiB).toFixed(1)} MiB`);
    m.dispose();
  });
});

describe("maxMemory", () => {
  test("a work that needs more is split or refused with OUT_OF_MEMORY; memory never passes it; the model keeps working", async () => {
    const maxMemory = 16 * MiB, module = new WebAssembly.Module(wasmBytes);
    const m = await load(intent, { cache: "none", wasmModule: module, maxMemory });
    assert.equal(m.engine.maxMemory, maxMemory);
    const texts = shortTexts(200);
    const small = m.classify(texts); // the context the cap holds is smaller: the batch runs in pieces
    assert.equal(small.length, 200);
    assert.ok(m.wasmMemoryBytes <= maxMemory);
    // A text too large for what is left: refused, and nothing changes for the next call.
    await assert.rejects(async () => m.classify("x ".repeat(5_000_000)), (e) => e instanceof EdgetagError && e.code === "OUT_OF_MEMORY" &&
      /maxMemory/.test(e.message));
    assert.ok(m.wasmMemoryBytes <= maxMemory);
    const reference = await fresh(intent);
    assert.deepEqual(m.classify(texts.slice(0, 20)), reference.classify(texts.slice(0, 20)));
    assert.deepEqual(m.classify(texts[3]), reference.classify(texts[3]));
    // A second model that does not fit beside it: refused at load, the first still answers.
    await assert.rejects(load(intent, { cache: "none", wasmModule: module, maxMemory }), { code: "OUT_OF_MEMORY" });
    assert.ok(m.wasmMemoryBytes <= maxMemory);
    assert.equal(m.classify("book a table").label, reference.classify("book a table").label);
    reference.dispose();
    m.dispose();
  });

  test("the default is 256 MiB; a value out of range is INVALID_ARGUMENT", async () => {
    const m = await fresh(intent);
    assert.equal(m.engine.maxMemory, 256 * MiB);
    m.dispose();
    for (const bad of [1, -1, 1.5, "64MB", 2 ** 33])
      await assert.rejects(fresh(intent, { maxMemory: bad }), { code: "INVALID_ARGUMENT" });
  });

  test("pointers past 2 GiB: a model loaded above 2 GiB answers, and so does the one below (RangeError before)", async () => {
    const module = new WebAssembly.Module(wasmBytes);
    const options = { cache: "none", wasmModule: module, maxMemory: 3 * 2 ** 30 };
    const low = await load(intent, options);
    const e = low.engine;
    const filler = [e.alloc(2 ** 30, "filler"), e.alloc(2 ** 30, "filler"), e.alloc(16 * MiB, "filler")];
    const high = await load(intent, options);
    assert.equal(high.engine, e, "the same engine");
    assert.ok(high.buffer >= 2 ** 31, `the second model is at ${high.buffer}`);
    const texts = ["book a table for two at 7pm", "what's my balance"];
    const got = high.classify(texts);
    assert.deepEqual(got, low.classify(texts));
    assert.ok(got[0].score > 0 && Object.values(got[0].scores).every(Number.isFinite));
    assert.equal(high.tokenize("hello").ids.length, 3);
    for (const p of filler) e.exports.free(p);
    high.dispose();
    low.dispose();
  });
});

describe("input limits", () => {
  test("maxTextChars, maxTexts and maxTokens refuse with INPUT; the defaults and every call are checked", async () => {
    const m = await fresh(ner, { maxTextChars: 100, maxTexts: 3, maxTokens: 50 });
    await assert.rejects(async () => m.extract("a".repeat(101)), { code: "INPUT", message: /maxTextChars/ });
    await assert.rejects(async () => m.extract(["a", "b", "c", "d"]), { code: "INPUT", message: /maxTexts/ });
    await assert.rejects(async () => m.extract(",".repeat(60)), { code: "INPUT", message: /maxTokens/ });
    await assert.rejects(async () => m.tokenize("a".repeat(101)), { code: "INPUT", message: /maxTextChars/ });
    await assert.rejects(async () => m.logits(new Array(4).fill([101, 102])), { code: "INPUT", message: /maxTexts/ });
    assert.equal(m.extract("replaced the pump seal").entities.length > 0, true);
    m.dispose();
    const c = await fresh(intent, { maxTokens: 30 });
    await assert.rejects(async () => c.classify(shortTexts(10)), { code: "INPUT", message: /maxTokens/ });
    assert.equal(c.classify(shortTexts(2)).length, 2);
    c.dispose();
    for (const bad of [{ maxTexts: 0 }, { maxTextChars: "1" }, { batchTokens: -5 }, { maxTokens: NaN }])
      await assert.rejects(fresh(intent, bad), { code: "INVALID_ARGUMENT" });
  });

  test("classify([null, 42]) and other non-strings are INVALID_ARGUMENT (they were classified as \"null\" and \"42\")", async () => {
    const m = await fresh(intent);
    for (const bad of [[null, 42], null, 42, [{}], [undefined], ["ok", Symbol.iterator]])
      await assert.rejects(async () => m.classify(bad), { code: "INVALID_ARGUMENT" });
    const n = await fresh(ner);
    for (const bad of [[null], 42, [new String("x")]]) await assert.rejects(async () => n.extract(bad), { code: "INVALID_ARGUMENT" });
    assert.equal(m.classify(["null", "42"]).length, 2);
    m.dispose();
    n.dispose();
  });

  test("options are read from own properties only: a polluted Object.prototype changes no limit", async () => {
    Object.prototype.maxTexts = 1;
    Object.prototype.maxMemory = 1;
    try {
      const m = await fresh(intent);
      assert.equal(m.classify(shortTexts(5)).length, 5);
      assert.equal(m.engine.maxMemory, 256 * MiB);
      m.dispose();
    } finally {
      delete Object.prototype.maxTexts;
      delete Object.prototype.maxMemory;
    }
  });
});

describe("numeric health", () => {
  /** The file with every float of `tensor` NaN (offsets from the engine's own tensor table). */
  async function poisoned(bytes, tensor) {
    const m = await fresh(bytes);
    const t = m.tensors().find((x) => x.name === tensor);
    m.dispose();
    const copy = Buffer.from(bytes);
    for (let at = t.offset; at < t.offset + t.nBytes; at += 4) copy.writeFloatLE(NaN, at);
    return copy;
  }

  test("NaN weights: classify and extract throw NUMERIC (they answered score NaN, escalate false)", async () => {
    const c = await fresh(await poisoned(intent, "cls.output.bias"));
    await assert.rejects(async () => c.classify("book a table"), { code: "NUMERIC" });
    await assert.rejects(async () => c.classify(["a", "b"]), { code: "NUMERIC" });
    c.dispose();
    const n = await fresh(await poisoned(ner, "cls.output.bias"));
    await assert.rejects(async () => n.extract("replaced the pump seal"), { code: "NUMERIC" });
    n.dispose();
  });
});

describe("labels", () => {
  const LABELS = "bert.classifier.output_labels";
  // The file's own labels with new names (the abstain label, "oos", kept).
  const labelsOf = () => Array.from({ length: 151 }, (_, i) => (i === 150 ? "oos" : `label${i}`));

  test("a label named __proto__ is a score of its own (it was lost from scores)", async () => {
    const names = labelsOf();
    names[7] = "__proto__";
    const m = await fresh(withStrings(intent, LABELS, names));
    const r = m.classify("book a table for two at 7pm");
    assert.equal(Object.keys(r.scores).length, 151);
    assert.ok(Object.hasOwn(r.scores, "__proto__"));
    assert.equal(typeof r.scores.__proto__, "number");
    assert.equal(Object.getPrototypeOf(r.scores), Object.prototype);
    assert.ok(Math.abs(Object.values(r.scores).reduce((a, b) => a + b, 0) - 1) < 1e-4);
    assert.equal(JSON.parse(JSON.stringify(r.scores)).__proto__, r.scores.__proto__);
    m.dispose();
  });

  test("duplicated labels and labels with a NUL are a CORRUPT file (one answer was unreachable)", async () => {
    const dup = labelsOf();
    dup[10] = dup[11];
    await assert.rejects(fresh(withStrings(intent, LABELS, dup)), { code: "CORRUPT", message: /twice/ });
    const nul = labelsOf();
    nul[3] = "a\0b";
    await assert.rejects(fresh(withStrings(intent, LABELS, nul)), { code: "CORRUPT", message: /NUL/ });
  });
});
