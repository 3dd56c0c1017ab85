// tokenizer.test.mjs — the engine's tokenizer (through the wasm build) against an independent one,
// npm @huggingface/tokenizers (the tokenizer transformers.js runs), loaded from the same tokenizer.json:
//   - ids and type ids identical on every line of the corpus (tools/fixtures/make_tokcorpus.py: the datasets'
//     text and synthetic lines of every script, emoji, control, zero-width and whitespace character),
//     for the real bert-base-uncased vocabulary and a cased vocabulary learned from the datasets;
//   - offsets, which the oracle does not have, checked by what they must satisfy for every token;
//   - the four places where tokenizers.js departs from Hugging Face's Rust `tokenizers` (whose
//     behaviour the engine follows), each shown and checked on its own;
//   - hand-checked offsets from Hugging Face's documented behaviour.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import test from "node:test";

import { load } from "../../web/edgetag.js";
import { path, readBuilt, simd } from "./helpers.mjs";
import { encode, loadOracle } from "./tokenizer/oracle.mjs";
import { changedAfterUnicode14 } from "./tokenizer/unicode.mjs";

const VOCABS = ["uncased", "cased"];
const corpus = () => readBuilt("build/tok/corpus.jsonl", "make tokfixtures").toString("utf8").trim().split("\n").map((l) => JSON.parse(l));

// ---- Where tokenizers.js departs from the Rust tokenizers ------------------------------------------
// The engine follows the Rust library (what Hugging Face's Python and the models' training used). To
// compare with the JavaScript oracle anyway, the oracle gets an input rewritten so that its departure
// cannot show; each rewrite is tested on its own below.
const ASTRAL_CJK = /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/gu;
const DEPARTURES = {
  // 1. tokenize_chinese_chars walks UTF-16 code units, so ideographs outside the BMP get no spaces.
  astralCjk: (s) => s.replace(ASTRAL_CJK, (c) => ` ${c} `),
  // 2. String.prototype.toLowerCase applies Final_Sigma (Σ at a word's end → ς); Rust lowercases each
  //    code point on its own (Σ → σ).
  finalSigma: (s) => s.replaceAll("Σ", "σ"),
};
// 3. An empty second text (pair = "") is treated as no pair at all; Rust encodes [CLS] A [SEP] [SEP].
// (Unassigned code points are no departure: tokenizers.js, Rust and the engine all keep them.)
const asRust = (s, lowercase) => {
  const t = DEPARTURES.astralCjk(s);
  return lowercase ? DEPARTURES.finalSigma(t) : t;
};
function oracleAsRust(oracle, text, pair, lowercase) {
  const fix = (s) => asRust(s, lowercase);
  if (pair === "") {
    const o = encode(oracle, fix(text));
    return { ids: [...o.ids, o.ids.at(-1)], type_ids: [...o.type_ids, 1], tokens: [...o.tokens, "[SEP]"] };
  }
  return encode(oracle, fix(text), pair === undefined ? null : fix(pair));
}

function fixtures(name) {
  const dir = path(`build/tok/${name}`), gguf = path(`build/tok/${name}.gguf`);
  if (!existsSync(gguf)) return null;
  return { dir, gguf, oracle: loadOracle(dir), config: JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, "utf8")) };
}

const normalizerOf = (oracle) => oracle.normalizer;

for (const name of VOCABS) {
  test(`parity with @huggingface/tokenizers, ${name} vocabulary, on the corpus`, async (t) => {
    const fx = fixtures(name);
    if (!fx) {
      if (name === "cased" && !existsSync(path("../shared/data")))
        return t.skip("../shared/data is absent: the cased vocabulary is learned from it");
      assert.fail(`build/tok/${name}.gguf is missing: run \`make tokfixtures\``);
    }
    const lines = corpus();
    assert.ok(lines.length >= 1500, `the corpus has ${lines.length} lines`);
    if (existsSync(path("../shared/data"))) assert.ok(lines.length >= 3000, "with the datasets, the corpus has ≥ 3,000 lines");
    const model = await load(readFileSync(fx.gguf), { simd });
    const lowercase = fx.config.do_lower_case;
    const norm = normalizerOf(fx.oracle);
    let tokens = 0, unk = 0;
    const mismatches = [];
    for (const l of lines) {
      const want = oracleAsRust(fx.oracle, l.text, l.pair, lowercase);
      const got = model.tokenize(l.text, { pair: l.pair, maxLength: Infinity });
      tokens += got.ids.length;
      if (want.ids.length !== got.ids.length || want.ids.some((x, i) => x !== got.ids[i]) ||
          want.type_ids.some((x, i) => x !== got.typeIds[i])) {
        mismatches.push(l);
        continue;
      }
      checkOffsets(l, got, fx.oracle, norm, lowercase);
      unk += got.ids.filter((id) => id === model.info.specialIds.unk).length;
    }
    assert.deepEqual(mismatches.slice(0, 5).map((l) => [l.source, l.text.slice(0, 60)]), [], `${mismatches.length} lines differ`);
    t.diagnostic(`${name}: ${lines.length} lines, ${tokens} tokens identical; ${(100 * unk / tokens).toFixed(2)}% [UNK]`);
    model.dispose();
  });
}

/** What every token's offsets must satisfy (UTF-16 indices into its own text). */
function checkOffsets(line, got, oracle, norm, lowercase) {
  const n = got.ids.length;
  const piece = (id) => oracle.id_to_token(id).replace(/^##/, "");
  const normalize = (s) => norm(asRust(s, lowercase)).trim();
  const sameSpan = (i, j) => got.offsets[2 * i] === got.offsets[2 * j] && got.offsets[2 * i + 1] === got.offsets[2 * j + 1];
  const special = new Set(["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"]);
  for (let i = 0; i < n;) {
    const text = got.typeIds[i] ? line.pair : line.text;
    const s = got.offsets[2 * i], e = got.offsets[2 * i + 1];
    const where = `${line.source} ${JSON.stringify(line.text.slice(0, 40))} token ${i}`;
    assert.ok(0 <= s && s <= e && e <= text.length, `${where}: [${s}, ${e}) outside the text`);
    for (const k of [s, e]) {
      const c = text.charCodeAt(k - 1);
      assert.ok(!(k > 0 && k < text.length && c >= 0xd800 && c < 0xdc00), `${where}: ${k} splits a surrogate pair`);
    }
    const tok = oracle.id_to_token(got.ids[i]);
    if (s === e) { // the template's [CLS] and [SEP] only
      assert.ok(tok === "[CLS]" || tok === "[SEP]", `${where}: empty span for ${tok}`);
      i++;
      continue;
    }
    if (i > 0 && got.typeIds[i] === got.typeIds[i - 1] && got.offsets[2 * i - 1] > 0)
      assert.ok(s >= got.offsets[2 * (i - 1)], `${where}: starts before the previous token`);
    const slice = text.slice(s, e);
    if (tok === "[UNK]") { // a whole word that cannot be covered
      const w = normalize(slice);
      assert.ok(w.length > 0 && !/\s/u.test(w), `${where}: [UNK] spans ${JSON.stringify(slice)}`);
      i++;
      continue;
    }
    if (special.has(tok) && slice === tok) { i++; continue; } // written literally in the text
    // Tokens sharing one span (pieces of one original character: jamo of a Hangul syllable, i + dot)
    // together spell its normalization; any other token alone spells its slice's.
    let j = i + 1;
    while (j < n && sameSpan(i, j) && got.typeIds[j] === got.typeIds[i]) j++;
    const spelled = Array.from(got.ids.slice(i, j), piece).join("");
    assert.equal(spelled, normalize(slice), `${where}: ${JSON.stringify(slice)} normalizes to something else than its pieces`);
    i = j;
  }
}

test("each departure of tokenizers.js is real, and the engine follows Rust there", async (t) => {
  const fx = fixtures("uncased");
  if (!fx) assert.fail("build/tok/uncased.gguf is missing: run `make tokfixtures`");
  const model = await load(readFileSync(fx.gguf), { simd });
  const tok = (s, pair) => Array.from(model.tokenize(s, { pair, maxLength: Infinity }).ids, (id) => fx.oracle.id_to_token(id));
  const js = (s, pair) => encode(fx.oracle, s, pair).tokens;
  // 1. astral ideographs: JS sees one word, Rust isolates each ideograph.
  assert.deepEqual(js("a𠀀b"), ["[CLS]", "[UNK]", "[SEP]"]);
  assert.deepEqual(tok("a𠀀b"), ["[CLS]", "a", "[UNK]", "b", "[SEP]"]);
  // 2. final sigma: JS lowercases a word-final Σ to ς, Rust to σ.
  assert.deepEqual(js("ΣΑΣ").slice(1, -1), ["σ", "##α", "##ς"]);
  assert.deepEqual(tok("ΣΑΣ").slice(1, -1), ["σ", "##α", "##σ"]);
  // 3. an empty pair: JS drops it, Rust keeps its [SEP].
  assert.deepEqual(js("hello", ""), ["[CLS]", "hello", "[SEP]"]);
  assert.deepEqual(tok("hello", ""), ["[CLS]", "hello", "[SEP]", "[SEP]"]);
  // Where both agree, so does the engine: an unassigned code point (Cn) or a noncharacter is kept inside
  // its word (only the slow Python BertTokenizer drops them); lowercasing before or after stripping
  // accents (JS and Rust order them differently) gives the same.
  for (const s of ["a\u0378b", "a\uFDD0b", "İSTANBUL Ǆemal"]) assert.deepEqual(tok(s), js(s), s);
  assert.deepEqual(tok("a\u0378b"), ["[CLS]", "[UNK]", "[SEP]"]);
  t.diagnostic("departures: astral CJK, Final_Sigma, empty pair");
  model.dispose();
});

test("hand-checked offsets (bert-base-uncased): UTF-16 indices, slices exact", async () => {
  const fx = fixtures("uncased");
  if (!fx) assert.fail("build/tok/uncased.gguf is missing: run `make tokfixtures`");
  const model = await load(readFileSync(fx.gguf), { simd });
  const spans = (text, pair) => {
    const r = model.tokenize(text, { pair });
    return Array.from(r.ids, (id, i) => [fx.oracle.id_to_token(id), r.offsets[2 * i], r.offsets[2 * i + 1]]);
  };
  assert.deepEqual(spans("Hello, world!"), [["[CLS]", 0, 0], ["hello", 0, 5], [",", 5, 6], ["world", 7, 12], ["!", 12, 13], ["[SEP]", 0, 0]]);
  assert.deepEqual(model.tokenize("Hello, world!").ids, Int32Array.from([101, 7592, 1010, 2088, 999, 102]));
  // Accents stripped: the token spans the accented character; a decomposed accent is not covered.
  assert.deepEqual(spans("Héllo").slice(1, -1), [["hello", 0, 5]]);
  assert.deepEqual(spans("Cafe\u0301 ok").slice(1, -1), [["cafe", 0, 4], ["ok", 6, 8]]);
  // CJK: each ideograph a token, astral ones two UTF-16 units wide.
  assert.deepEqual(spans("中文").slice(1, -1), [["中", 0, 1], ["文", 1, 2]]);
  const astral = spans("x𠀀y").slice(1, -1);
  assert.deepEqual(astral.map((s) => [s[1], s[2]]), [[0, 1], [1, 3], [3, 4]]);
  // Emoji and [UNK]: the unknown word is covered whole, surrogate pairs included.
  assert.deepEqual(spans("ok 🙂🙂 ok").slice(1, -1), [["ok", 0, 2], ["[UNK]", 3, 7], ["ok", 8, 10]]);
  // Removed characters inside a word are covered, leading/trailing ones are not.
  assert.deepEqual(spans("\u200bhel\u200blo\u200b").slice(1, -1), [["hello", 1, 7]]);
  // Pairs: offsets into each text.
  assert.deepEqual(spans("hi", "there").map((s) => [s[1], s[2]]), [[0, 0], [0, 2], [0, 0], [0, 5], [0, 0]]);
  // A literal [SEP] in the text is the token, over its five characters.
  assert.deepEqual(spans("a [SEP] b").slice(1, -1), [["a", 0, 1], ["[SEP]", 2, 7], ["b", 8, 9]]);
  // A lone surrogate becomes U+FFFD in UTF-8, which clean_text removes: one UTF-16 unit, no token.
  assert.deepEqual(spans("a\ud800b").slice(1, -1), [["ab", 0, 3]]);
  model.dispose();
});

// Code points whose general category in the engine's Unicode data (Python's unicodedata, 14.0) is not their
// category in the JavaScript engine's (Node 20: Unicode 17): the only other place the engine and tokenizers.js
// may differ (tokenizer/unicode.mjs).
for (const name of VOCABS) {
  test(`every code point of planes 0-1 (and a sample of 2-3) between two letters, ${name}: the engine's Unicode 14 tables against tokenizers.js`, async (t) => {
    const fx = fixtures(name);
    if (!fx) {
      if (name === "cased" && !existsSync(path("../shared/data"))) return t.skip("../shared/data is absent");
      assert.fail(`build/tok/${name}.gguf is missing: run \`make tokfixtures\``);
    }
    const model = await load(readFileSync(fx.gguf), { simd });
    const newer = changedAfterUnicode14();
    const bad = [];
    let compared = 0;
    for (let cp = 0x20; cp < 0x40000; cp += cp < 0x20000 ? 1 : 7) {
      if ((cp >= 0xd800 && cp < 0xe000) || newer.has(cp)) continue;
      const s = `a${String.fromCodePoint(cp)}b`;
      compared++;
      const want = oracleAsRust(fx.oracle, s, undefined, fx.config.do_lower_case).ids;
      const got = model.tokenize(s).ids;
      if (want.length !== got.length || want.some((x, i) => x !== got[i])) bad.push(cp.toString(16));
    }
    assert.deepEqual(bad.slice(0, 20), [], `${bad.length} code points tokenize differently`);
    t.diagnostic(`${name}: ${compared} code points agree; ${newer.size} assigned or recategorized after Unicode 14 skipped`);
    model.dispose();
  });
}

test("windows over a long text: offsets into the original, content tokens as the whole sequence's", async () => {
  const fx = fixtures("uncased");
  if (!fx) assert.fail("build/tok/uncased.gguf is missing: run `make tokfixtures`");
  const model = await load(readFileSync(fx.gguf), { simd });
  const text = corpus().find((l) => l.source === "synthetic/long_line" && l.text.length > 4000).text;
  const whole = model.tokenize(text, { maxLength: Infinity });
  const { windows, firstToken } = model.tokenizeWindows(text, { maxLength: 128, stride: 32 });
  assert.ok(windows.length > 5);
  windows.forEach((w, k) => {
    assert.ok(w.ids.length <= 128 && w.ids[0] === 101 && w.ids.at(-1) === 102);
    assert.equal(firstToken[k], k * 94);
    for (let j = 1; j < w.ids.length - 1; j++) {
      const t = firstToken[k] + j; // whole has its [CLS] at 0
      assert.equal(w.ids[j], whole.ids[t]);
      assert.deepEqual([w.offsets[2 * j], w.offsets[2 * j + 1]], [whole.offsets[2 * t], whole.offsets[2 * t + 1]]);
    }
  });
  const last = windows.length - 1;
  assert.equal(firstToken[last] + windows[last].ids.length - 2, whole.ids.length - 2, "the last window reaches the end");
  // They run as one ragged batch.
  assert.equal(model.logits(windows.map((w) => w.ids)).length, windows.length);
  model.dispose();
});
