// llamacpp.test.mjs — our files through an independent llama.cpp (npm node-llama-cpp 3.22.1: llama.cpp v0.5.0,
// prebuilt CPU binary; tests/js/llamacpp/reference.mjs). For a plain BERT (build/ref/minilm, uncased, mean
// pooling), a small sequence classifier as f16 (build/ref/tiny-f16) and the shipped models, each as f32 and
// as q8_0 (`edgetag quantize --type q8_0`), on texts of many scripts:
//   - llama.cpp loads the file, starts a text with our [CLS] and ends it with our [SEP], and its tokenizer
//     gives the engine's ids (for the uncased vocabularies, but on texts where llama.cpp departs from Hugging
//     Face's accent stripping: Mc/Me marks, Hangul; llamacpp-vocab.test.mjs shows those);
//   - on our ids, llama.cpp's output is ours within cosine 0.9999: the mean-pooled embedding of an embedding
//     model (its pooling type 1), a sequence classifier's logits (its rank pooling: cls then cls.output,
//     sized by bert.classifier.output_labels), and for a token classifier (pooling none; llama.cpp has no
//     token classification) the last token's hidden state, which every token's attention feeds;
//   - the int8 files (edgetag's fast path) are refused, cleanly.
// llama.cpp rounds K/V to f16 in attention and, for q8_0 weights, quantizes the activations to 8 bits too:
// hence cosines of 1 - 1e-7 for f32 and f16 and about 1 - 5e-5 for q8_0, not bit equality. One exception is
// stated with its reason: minilm's q8_0 file, random weights, where q8_0 alone moves the engine's own output
// by 1e-4 from f32 (reported beside it), reaches 0.99988 on the empty text, so its bar is 0.9998.
import assert from "node:assert/strict";
import test from "node:test";

import { gguf } from "@huggingface/gguf";

import { load } from "../../web/edgetag.js";
import { path, readBuilt, simd } from "./helpers.mjs";
import { llamaModel, referenceLlama } from "./llamacpp/reference.mjs";

const COSINE = 0.9999;

// Varied scripts, none holding a character where llama.cpp's tokenizer departs for every vocabulary (VT, FF,
// NEL, U+2581, a word over 100 characters).
const TEXTS = [
  "Hello, world!", "The quick brown fox jumps over the lazy dog.", "book a table for two at 7pm tonight",
  "replace leaking hydraulic pump seal on excavator 12", "Hi, I'm Anna Kowalski; call me on 555-867-5309",
  "Café déjà vu — naïve résumé, façade, coöperate", "Ärger über Öl: Straße, Maß und Fuß", "İstanbul'da ılık ışık",
  "Tiếng Việt có dấu: Cửa Việt, Hà Nội", "Zażółć gęślą jaźń", "Ἀθῆναι καὶ Σπάρτη: ΟΔΟΣ", "Привет, мир! Как дела?",
  "Съешь же ещё этих мягких французских булок", "مرحبا بالعالم، كيف حالك؟", "שלום עולם", "नमस्ते दुनिया",
  "বাংলা ভাষা", "தமிழ் மொழி", "ภาษาไทยง่ายนิดเดียว", "中文和日本語のテキスト", "我想在apple工作1314151天～",
  "ひらがなとカタカナ、漢字", "한국어 문장입니다", "𠀀𠀁 astral ideographs 𪚥", "emoji 🙂 test 👍🏽 ✅ 🦙🦙",
  "😶‍🌫️ zero-width joiner, 🇫🇷 flags", "x² + y² = z², ∑ ∫ √ ∞ ≠ ≤", "$100, €50, £20, ¥1000 — 50% off!!!",
  "https://example.com/path?q=1&r=2 user@example.org", "C++ and C#: int main() { return 0; }",
  "tabs\tand\nnewlines\r\nand  double  spaces", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３", "ﬁﬂ ligatures and ① ② ③",
  "a [SEP] typed and [MASK] too", "ZERO\u200bWIDTH\u00adSOFT HYPHEN\ufeffBOM", "3.14159 2.71828 1,000,000 007",
  "unaffable tokenization ##s of subwords", "",
];

// Each file, and for a q8_0 one the f32 file it was quantized from.
const FILES = [
  { file: "build/ref/minilm.gguf", how: "make refmodels" },
  { file: "build/ref/minilm-q8_0.gguf", how: "make llamacpp", f32: "build/ref/minilm.gguf", cosine: 0.9998 },
  { file: "build/ref/tiny-f16.gguf", how: "make llamacpp" },
  ...["intent-clinc", "maint-ner", "pii-ner"].flatMap((m) => [{ file: `models/${m}-f32.gguf`, how: "make models" },
    { file: `build/llamacpp/${m}-q8_0.gguf`, how: "make llamacpp", f32: `models/${m}-f32.gguf` }]),
  // Q4_0 (`edgetag quantize --type q4_0`): llama.cpp's own block type, which it multiplies against activations
  // it quantizes per 32 values (q8_0) where the engine quantizes per row: the bar is lower.
  { file: "build/ref/minilm-q4.gguf", how: "make refmodels", f32: "build/ref/minilm.gguf", cosine: 0.999 },
  ...["intent-clinc", "maint-ner", "pii-ner"].map((m) =>
    ({ file: `build/variants/${m}-q4.gguf`, how: "make variants", f32: `models/${m}-f32.gguf`, cosine: 0.999 })),
];

/** Where llama.cpp's accent stripping departs from Hugging Face's (llamacpp-vocab.test.mjs). */
const stripDeparts = (text) => /[\p{Mc}\p{Me}\uAC00-\uD7A3]/u.test(text);

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) d += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
  return d / Math.sqrt(na * nb);
}

/** What llama.cpp computes for these ids, as the engine computes it. */
function ours(model, ids) {
  const task = model.info.task;
  if (task === "embedding") return model.embed(ids, { pooling: "mean" });
  if (task === "sequence_classification") return model.logits(ids).data;
  const h = model.hidden(ids); // token classification: the last token's hidden state
  return h.data.subarray((h.rows - 1) * h.cols);
}

for (const { file, how, f32, cosine: bar = COSINE } of FILES) {
  test(`llama.cpp loads ${file}: the engine's tokens, and its outputs within cosine ${bar}`, async (t) => {
    const model = await load(readBuilt(file, how), { simd });
    const reference = f32 && await load(readBuilt(f32, how), { simd }); // the quantization's own error, for the record
    const lm = await llamaModel(file);
    assert.deepEqual([lm.tokens.bos, lm.tokens.sep], [model.info.specialIds.cls, model.info.specialIds.sep], "[CLS] and [SEP]");
    const ctx = await lm.createEmbeddingContext({ contextSize: model.info.nCtx, threads: 1 });
    const { metadata } = await gguf(path(file), { allowLocalFile: true });
    const lowercase = metadata["tokenizer.ggml.normalizer.lowercase"];
    let compared = 0, skipped = 0, worst = 1, q8 = 1;
    for (const text of TEXTS) {
      const ids = model.tokenize(text).ids;
      if (!(lowercase && stripDeparts(text))) {
        assert.deepEqual(lm.tokenize(text, true), Array.from(ids).slice(1, -1), `${file}: tokens of ${JSON.stringify(text)}`);
        compared++;
      } else skipped++;
      const theirs = (await ctx.getEmbeddingFor(Array.from(ids))).vector;
      const mine = ours(model, ids);
      assert.equal(theirs.length, mine.length, `${file}: output size`);
      const c = cosine(mine, theirs);
      worst = Math.min(worst, c);
      assert.ok(c >= bar, `${file}: cosine ${c} on ${JSON.stringify(text)}`);
      if (reference) q8 = Math.min(q8, cosine(mine, ours(reference, ids)));
    }
    t.diagnostic(`${file} (${model.info.task}${lowercase ? ", uncased" : ""}): tokens identical on ${compared} texts` +
      `${skipped ? ` (${skipped} with accent-stripping departures not compared)` : ""}; outputs on ${TEXTS.length} texts, ` +
      `minimum cosine ${worst.toFixed(8)}${reference ? ` (the engine's quantized file against its f32: ${q8.toFixed(8)})` : ""}`);
    await ctx.dispose();
    await lm.dispose();
    model.dispose();
    reference?.dispose();
  });
}

test("the other way: a BERT laid out as llama.cpp's converter lays it out loads in both, with the same tokens and embeddings", async (t) => {
  // build/llamacpp/minilm-llamacpp.gguf: MiniLM's weights and vocabulary in llama.cpp's 2024 layout (F16, no
  // pooler, cls_token_id only, no normalizer keys, nothing of edgetag's; tools/fixtures/make_llamacpp_bert.py).
  const file = "build/llamacpp/minilm-llamacpp.gguf";
  const model = await load(readBuilt(file, "make llamacpp"), { simd });
  assert.equal(model.info.task, "embedding");
  const lm = await llamaModel(file);
  const ctx = await lm.createEmbeddingContext({ contextSize: model.info.nCtx, threads: 1 });
  let compared = 0, worst = 1;
  for (const text of TEXTS) {
    const ids = model.tokenize(text).ids;
    if (!stripDeparts(text)) {
      assert.deepEqual(lm.tokenize(text, true), Array.from(ids).slice(1, -1), `tokens of ${JSON.stringify(text)}`);
      compared++;
    }
    const c = cosine(model.embed(ids), (await ctx.getEmbeddingFor(Array.from(ids))).vector);
    worst = Math.min(worst, c);
    assert.ok(c >= COSINE, `cosine ${c} on ${JSON.stringify(text)}`);
  }
  t.diagnostic(`${file}: tokens identical on ${compared} texts, embeddings on ${TEXTS.length}, minimum cosine ${worst.toFixed(8)}`);
  await ctx.dispose();
  await lm.dispose();
  model.dispose();
});

test("llama.cpp refuses the int8 files (edgetag's own I8 weights and row scales)", async (t) => {
  for (const file of ["models/intent-clinc.gguf", "models/maint-ner.gguf", "build/ref/minilm-i8.gguf"]) {
    await assert.rejects(llamaModel(file), /Failed to load model/, file);
  }
  t.diagnostic(`refused by llama.cpp ${(await referenceLlama()).version}: 3 int8 files`);
});
