// llamacpp-vocab.test.mjs — tokenization across the two ecosystems, three tokenizers on the same vocabularies:
// the engine, npm @huggingface/tokenizers (the oracle of tokenizer.test.mjs) and llama.cpp itself (npm
// node-llama-cpp, tests/js/llamacpp/reference.mjs).
//   - llama.cpp's own test suite for BERT (tests/fixtures/llamacpp: a vocabulary-only file its converter made,
//     46 texts, the ids llama.cpp expects): every text gives those ids through the engine (the native CLI: the
//     file has no weights, so only its tokenizer loads), through @huggingface/tokenizers and through llama.cpp.
//   - where llama.cpp departs from Hugging Face's BertNormalizer and WordPiece (which the engine follows), each
//     departure shown on its own with what each side gives;
//   - the tokenizer corpus (make tokfixtures) through llama.cpp on our files of bert-base-uncased's vocabulary
//     and of a cased one: llama.cpp gives the engine's ids on every line that holds none of those departures.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import test from "node:test";

import { load } from "../../web/edgetag.js";
import { path, readBuilt, simd } from "./helpers.mjs";
import { llamaModel, referenceLlama } from "./llamacpp/reference.mjs";
import { encode, loadOracle } from "./tokenizer/oracle.mjs";
import { changedAfterUnicode14 } from "./tokenizer/unicode.mjs";

const FIXTURE = "tests/fixtures/llamacpp/ggml-vocab-bert-bge.gguf";
const CLI = path("build/edgetag");

/** The .inp's texts and the .out's ids, read as llama.cpp's test-tokenizer-0 reads them. */
function llamaCases() {
  const raw = readFileSync(path(`${FIXTURE}.inp`), "utf8"), sep = "\n__ggml_vocab_test__\n";
  const texts = [];
  for (let pos = 0; pos < raw.length;) {
    const next = raw.indexOf(sep, pos);
    texts.push(raw.slice(pos, next < 0 ? raw.length : next));
    if (next < 0) break;
    pos = next + sep.length;
  }
  const out = readFileSync(path(`${FIXTURE}.out`), "utf8").split("\n").slice(0, texts.length);
  return texts.map((text, i) => ({ text, ids: out[i].trim() ? out[i].trim().split(" ").map(Number) : [] }));
}

test("llama.cpp's BERT tokenizer cases (bge): llama.cpp's ids through the engine, @huggingface/tokenizers and llama.cpp", async (t) => {
  const cases = llamaCases();
  assert.equal(cases.length, 46);
  // The engine: the CLI loads the vocabulary-only file as a tokenizer.
  const lines = execFileSync(CLI, ["tokenize", "--model", path(FIXTURE), "--", ...cases.map((c) => c.text)], { encoding: "utf8" })
    .trim().split("\n").map((l) => JSON.parse(l).ids);
  const oracle = loadOracle(path("build/tok/bge"));
  const lm = await llamaModel(FIXTURE, { vocabOnly: true });
  let ours = 0, hf = 0, llama = 0;
  cases.forEach((c, i) => {
    assert.deepEqual(lines[i].slice(1, -1), c.ids, `engine, case ${i} ${JSON.stringify(c.text)}`);
    assert.deepEqual([lines[i][0], lines[i].at(-1)], [101, 102]);
    ours++;
    assert.deepEqual(encode(oracle, c.text).ids.slice(1, -1), c.ids, `@huggingface/tokenizers, case ${i}`);
    hf++;
    assert.deepEqual(lm.tokenize(c.text, true), c.ids, `llama.cpp, case ${i}`);
    llama++;
  });
  assert.deepEqual([lm.tokens.bos, lm.tokens.sep], [101, 102]);
  // The file is bert-base-uncased's vocabulary: the same tokenizer.json as build/tok/uncased's.
  assert.ok(readFileSync(path("build/tok/bge/tokenizer.json")).equals(readFileSync(path("build/tok/uncased/tokenizer.json"))));
  t.diagnostic(`llama.cpp's ids: engine ${ours}/46, @huggingface/tokenizers ${hf}/46, llama.cpp ${llama}/46`);
  await lm.dispose();
});

// ---- Where llama.cpp departs from Hugging Face --------------------------------------------------------------
// Each case: the text, the vocabulary, and the tokens of the engine (= @huggingface/tokenizers, checked) and of
// llama.cpp (node-llama-cpp 3.22.1, llama.cpp v0.5.0). `what` says which rule differs.
const A101 = "a".repeat(101);
const DEPARTURES = [
  { what: "strip_accents removes Mc (spacing) marks too; Hugging Face removes only Mn", vocab: "uncased",
    text: "दुनिया", ours: ["द", "##न", "##ि", "##य", "##ा"], llama: ["द", "##न", "##य"] },
  { what: "strip_accents: a Hangul syllable keeps only its first jamo after NFD", vocab: "uncased",
    text: "한국어", ours: ["ᄒ", "##ᅡ", "##ᆫ", "##ᄀ", "##ᅮ", "##ᆨ", "##ᄋ", "##ᅥ"], llama: ["ᄒ", "##ᄀ", "##ᄋ"] },
  { what: "VT, FF and NEL split words (whitespace); Hugging Face removes them (control characters)", vocab: "uncased",
    text: "a\vb\fc\u0085d", ours: ["abc", "##d"], llama: ["a", "b", "c", "d"] },
  { what: "the same in a cased vocabulary", vocab: "cased", text: "the\vend", ours: null, llama: null },
  { what: "no max_input_chars_per_word: a word of 101 characters is pieces, not [UNK]", vocab: "uncased",
    text: A101, ours: ["[UNK]"], llama: ["aaa", ...Array(49).fill("##aa")] },
  { what: "U+2581 in the text makes a continuation look word-initial ('▁b' is vocab.txt's 'b')", vocab: "uncased",
    text: "a\u2581b", ours: ["[UNK]"], llama: ["a", "b"] },
];

test("llama.cpp's departures from Hugging Face's tokenizer, each on its own; the engine follows Hugging Face", async (t) => {
  const vocabs = {};
  for (const name of ["uncased", "cased"]) {
    if (!existsSync(path(`build/tok/${name}.gguf`))) continue; // cased needs ../shared/data
    vocabs[name] = { ours: await load(readBuilt(`build/tok/${name}.gguf`, "make tokfixtures"), { simd }),
      oracle: loadOracle(path(`build/tok/${name}`)), llama: await llamaModel(`build/tok/${name}.gguf`, { vocabOnly: true }) };
  }
  for (const d of DEPARTURES) {
    const v = vocabs[d.vocab];
    if (!v) continue;
    const spell = (ids) => Array.from(ids, (id) => v.oracle.id_to_token(id));
    const ours = spell(v.ours.tokenize(d.text, { maxLength: Infinity }).ids).slice(1, -1);
    const llama = spell(v.llama.tokenize(d.text, true));
    assert.deepEqual(ours, encode(v.oracle, d.text).tokens.slice(1, -1), `${d.what}: the engine is Hugging Face's`);
    assert.notDeepEqual(ours, llama, `${d.what}: llama.cpp departs`);
    if (d.ours) assert.deepEqual(ours, d.ours, d.what);
    if (d.llama) assert.deepEqual(llama, d.llama, d.what);
  }
  t.diagnostic(`${DEPARTURES.length} departures of llama.cpp ${(await referenceLlama()).version} shown`);
  for (const v of Object.values(vocabs)) { v.ours.dispose(); await v.llama.dispose(); }
});

/** Which departure a text meets in a vocabulary (null: none), by the engine's tokens of it. */
function departure(text, tokens, uncased, unk) {
  if (/[\v\f\u0085\u2581]/u.test(text)) return "VT/FF/NEL or U+2581";
  if (uncased && /[\p{Mc}\p{Me}\uAC00-\uD7A3]/u.test(text)) return "Mc/Me marks or Hangul syllables, accents stripped";
  for (let i = 0; i < tokens.ids.length; i++) // an [UNK] over more than 100 characters: a word too long
    if (tokens.ids[i] === unk && [...text.slice(tokens.offsets[2 * i], tokens.offsets[2 * i + 1])].length > 100) return "word over 100 characters";
  const newer = changedAfterUnicode14();
  for (const ch of text) if (newer.has(ch.codePointAt(0))) return "assigned after Unicode 14 (the engine's tables)";
  return null;
}

test("the tokenizer corpus through llama.cpp on our files: the engine's ids wherever no departure applies", async (t) => {
  const lines = readBuilt("build/tok/corpus.jsonl", "make tokfixtures").toString("utf8").trim().split("\n").map((l) => JSON.parse(l));
  for (const name of ["uncased", "cased"]) {
    if (!existsSync(path(`build/tok/${name}.gguf`))) continue;
    const ours = await load(readFileSync(path(`build/tok/${name}.gguf`)), { simd });
    const lm = await llamaModel(`build/tok/${name}.gguf`, { vocabOnly: true });
    const unk = ours.info.specialIds.unk, uncased = name === "uncased";
    let same = 0;
    const departs = {}, wrong = [];
    for (const l of lines) {
      const tok = ours.tokenize(l.text, { maxLength: Infinity });
      const a = Array.from(tok.ids).slice(1, -1), b = lm.tokenize(l.text, true);
      const why = departure(l.text, tok, uncased, unk);
      if (a.length === b.length && a.every((x, i) => x === b[i])) same++;
      else if (why) departs[why] = (departs[why] ?? 0) + 1;
      else wrong.push(`${l.source} ${JSON.stringify(l.text.slice(0, 60))}`);
    }
    assert.deepEqual(wrong.slice(0, 5), [], `${name}: ${wrong.length} lines differ with no departure to explain them`);
    t.diagnostic(`${name}: llama.cpp gives the engine's ids on ${same} of ${lines.length} lines; the others: ` +
      Object.entries(departs).map(([k, v]) => `${v} ${k}`).join(", "));
    ours.dispose();
    await lm.dispose();
  }
});
