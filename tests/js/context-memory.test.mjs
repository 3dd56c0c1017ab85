// context-memory.test.mjs — classify() and extract() size the engine's context by the tokens their texts
// need, not by nCtx per text or twice the byte count: on an edge worker (128 MB per isolate, three models)
// that is the difference between fitting and not. The answers are the same as through the public
// tokenizer + logits path, and the wasm memory stays within what those tokens need.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { load } from "../../web/edgetag.js";
import { path, readBuilt, simd } from "./helpers.mjs";

const MB = 2 ** 20;
/** A model in an engine of its own (a module compiled here is a new engine): memory measured alone. */
const loadAlone = async (name) => load(readFileSync(path(`models/${name}.gguf`)), {
  cache: "none", wasmModule: new WebAssembly.Module(readBuilt(simd === "relaxed" ? "build/edgetag-relaxed.wasm" : "build/edgetag.wasm", "make wasm")),
});
const NOTE = "replaced the hydraulic pump seal on excavator 12 after an oil leak; checked the filter and hoses. ";

test("extract(): a 4,000-character note grows wasm memory by what its ~900 tokens need, not by 8,500 tokens' worth", async () => {
  const m = await loadAlone("maint-ner");
  try {
    const text = NOTE.repeat(42).slice(0, 4000);
    const before = m.wasmMemoryBytes;
    const r = m.extract(text);
    const grown = (m.wasmMemoryBytes - before) / MB;
    // About 12 KB of context per token: ~1,240 window tokens are ~15 MB; the old bound (2 × bytes + 2 × nCtx) was 8,512
    // tokens, ~95 MB.
    assert.ok(grown < 30, `wasm memory grew by ${grown.toFixed(1)} MB`);
    const { windows } = m.tokenizeWindows(text);
    assert.ok(windows.length > 1, "the note runs over several windows");
    for (const e of r.entities) assert.equal(text.slice(e.start, e.end), e.text);
    // A text of one token per character (each a word of its own) fits, in about 2,700 tokens (~33 MB).
    const dense = m.extract("a.".repeat(1000));
    assert.ok(Array.isArray(dense.entities));
    const total = (m.wasmMemoryBytes - before) / MB;
    assert.ok(total < 60, `wasm memory grew by ${total.toFixed(1)} MB in all`); // both contexts: the first is freed, not returned
    // A context sized for long texts answers a short one as a fresh model does.
    const fresh = await load(readFileSync(path("models/maint-ner.gguf")), { simd, cache: "none" });
    try {
      assert.deepEqual(m.extract(NOTE), fresh.extract(NOTE));
    } finally {
      fresh.dispose();
    }
  } finally {
    m.dispose();
  }
});

test("classify(): a batch of short texts takes a context of their bytes, not nCtx tokens each", async () => {
  const m = await loadAlone("intent-clinc");
  try {
    const texts = ["book a table for two at 7pm", "what's my balance", "set an alarm for 6am", "how tall is the eiffel tower"];
    const batch = Array.from({ length: 32 }, (_, i) => texts[i % texts.length]);
    const before = m.wasmMemoryBytes;
    const answers = m.classify(batch);
    const grown = (m.wasmMemoryBytes - before) / MB;
    assert.ok(grown < 20, `wasm memory grew by ${grown.toFixed(1)} MB (32 × nCtx tokens would be ~100 MB)`);
    // One by one, each in the smallest context, the same answers.
    for (let i = 0; i < texts.length; i++) assert.equal(m.classify(texts[i]).label, answers[i].label);
    // Long texts are cut to nCtx tokens each, as before.
    const long = NOTE.repeat(30);
    assert.equal(m.classify([long, long]).length, 2);
  } finally {
    m.dispose();
  }
});
