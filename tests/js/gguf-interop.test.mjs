// gguf-interop.test.mjs — our files through an independent GGUF reader (npm @huggingface/gguf): its view
// of keys, tensor names, shapes, types and offsets must agree with what the engine read, and every key
// in our files must be documented in models/FORMAT.md. Every kind of file: f32, f16, q8_0 and int8, the
// shipped models, and llama.cpp's vocabulary-only fixture. (llama.cpp itself reading them:
// llamacpp.test.mjs.)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";

import { gguf } from "@huggingface/gguf";

import { load } from "../../web/edgetag.js";
import { SHAPES, path, readBuilt, simd } from "./helpers.mjs";

const files = [
  "models/reference-tiny.gguf", ...SHAPES.flatMap((s) => [`build/ref/${s}.gguf`, `build/ref/${s}-i8.gguf`]),
  "build/ref/minilm-q8_0.gguf", "build/ref/tiny-f16.gguf",
  ...["intent-clinc", "maint-ner", "pii-ner"].flatMap((m) => [`models/${m}.gguf`, `models/${m}-f32.gguf`]),
];
const documented = new Set([...readFileSync(path("models/FORMAT.md"), "utf8").matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]));

for (const file of files) {
  test(`@huggingface/gguf and edgetag read ${file} the same way`, async () => {
    const bytes = readBuilt(file, "make refmodels llamacpp");
    const theirs = await gguf(path(file), { allowLocalFile: true });
    const model = await load(bytes, { simd });
    const ours = model.tensors(), info = model.info, md = theirs.metadata;

    assert.equal(md.version, 3);
    assert.equal(Number(md.tensor_count), ours.length);
    assert.deepEqual(theirs.tensorInfos.map((t) => t.name), ours.map((t) => t.name));
    theirs.tensorInfos.forEach((t, i) => {
      assert.deepEqual(t.shape.map(Number), ours[i].ne, t.name);
      assert.equal(t.dtype, ours[i].type, t.name);
      assert.equal(Number(theirs.tensorDataOffset + t.offset), ours[i].offset, `${t.name} offset`);
    });

    assert.equal(md["general.architecture"], "bert");
    assert.equal(md["general.name"], info.name);
    assert.equal(md["bert.block_count"], info.nLayer);
    assert.equal(md["bert.embedding_length"], info.nEmbd);
    assert.equal(md["bert.feed_forward_length"], info.nFF);
    assert.equal(md["bert.attention.head_count"], info.nHead);
    assert.equal(md["bert.context_length"], info.nCtx);
    assert.equal(md["bert.attention.layer_norm_epsilon"], info.layerNormEps);
    assert.equal(md["tokenizer.ggml.tokens"].length, info.nVocab);
    assert.equal(md["tokenizer.ggml.bos_token_id"], info.specialIds.cls);
    assert.equal(md["tokenizer.ggml.cls_token_id"], info.specialIds.cls);
    assert.equal(md["tokenizer.ggml.seperator_token_id"], info.specialIds.sep);
    assert.equal(md["edgetag.format_version"], 2);
    assert.equal(md["edgetag.task"], info.task);
    assert.deepEqual(md["bert.classifier.output_labels"] ?? [], info.labels);
    // The tokens as llama.cpp spells them: word-initial pieces with U+2581, none with "##".
    assert.ok(md["tokenizer.ggml.tokens"].some((t) => t.startsWith("\u2581")));
    assert.ok(!md["tokenizer.ggml.tokens"].some((t) => /^##./u.test(t)));
    // int8 scales live in edgetag's namespace; nothing is named as llama.cpp's per-tensor scales.
    for (const t of theirs.tensorInfos) {
      assert.ok(!/\.(scale|input_scale)$/.test(t.name), t.name);
      if (t.dtype === "I8") assert.ok(theirs.tensorInfos.some((u) => u.name === `edgetag.row_scale.${t.name}`), t.name);
    }

    for (const key of Object.keys(md)) {
      if (["version", "tensor_count", "kv_count"].includes(key)) continue;
      assert.ok(documented.has(key), `${key} is written but not documented in models/FORMAT.md`);
    }
    model.dispose();
  });
}

test("@huggingface/gguf reads llama.cpp's vocabulary-only fixture as the engine does", async () => {
  const file = "tests/fixtures/llamacpp/ggml-vocab-bert-bge.gguf";
  const { metadata: md, tensorInfos } = await gguf(path(file), { allowLocalFile: true });
  assert.equal(tensorInfos.length, 0);
  assert.equal(md["tokenizer.ggml.tokens"].length, 30522);
  assert.equal(md["tokenizer.ggml.tokens"][1996], "\u2581the");
  assert.equal(md["tokenizer.ggml.cls_token_id"], 101);
  assert.equal(md["bert.block_count"], 12);
});
