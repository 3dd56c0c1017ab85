// tokenizer.mjs — tokenizer throughput, side by side in one process on the same corpus: the engine's
// WordPiece (wasm, through web/edgetag.js's tokenize(): UTF-8 in, ids + type ids + UTF-16 offsets out)
// against @huggingface/tokenizers (the tokenizer transformers.js runs; ids only, it has no offsets).
// Vocabulary: bert-base-uncased. Corpus: build/tok/corpus.jsonl (make tokfixtures).
//
//   node bench/tokenizer.mjs [--rounds 7]
import { readFileSync } from "node:fs";

import { load } from "../web/edgetag.js";
import { encode, loadOracle } from "../tests/js/tokenizer/oracle.mjs";

const root = new URL("..", import.meta.url).pathname;
const at = process.argv.indexOf("--rounds");
const rounds = at > 0 ? Number(process.argv[at + 1]) : 7;
const lines = readFileSync(`${root}build/tok/corpus.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l.text) + (l.pair ? Buffer.byteLength(l.pair) : 0), 0);
const oracle = loadOracle(`${root}build/tok/uncased`);
const model = await load(readFileSync(`${root}build/tok/uncased.gguf`), { simd: "baseline" });

const runners = {
  "edgetag (wasm)": () => {
    let n = 0;
    for (const l of lines) n += model.tokenize(l.text, { pair: l.pair, maxLength: Infinity }).ids.length;
    return n;
  },
  "@huggingface/tokenizers 0.2.0": () => {
    let n = 0;
    for (const l of lines) n += encode(oracle, l.text, l.pair).ids.length;
    return n;
  },
};

const results = {};
for (const [name, run] of Object.entries(runners)) run(), run(); // warm up, tier up
for (let r = 0; r < rounds; r++) {
  for (const [name, run] of Object.entries(runners)) { // interleaved, so both see the same machine
    const t0 = performance.now();
    const tokens = run();
    (results[name] ??= []).push({ ms: performance.now() - t0, tokens });
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`Tokenizer throughput, ${lines.length} lines (${(bytes / 1e6).toFixed(2)} MB UTF-8), bert-base-uncased, ` +
  `Node ${process.version}, median of ${rounds} rounds`);
console.log("| tokenizer | median ms | tokens/s | MB/s | ratio |");
console.log("|---|---|---|---|---|");
const base = median(results["@huggingface/tokenizers 0.2.0"].map((x) => x.ms));
for (const [name, rs] of Object.entries(results)) {
  const ms = median(rs.map((x) => x.ms)), tokens = rs[0].tokens;
  console.log(`| ${name} | ${ms.toFixed(1)} | ${(tokens / ms * 1e3 / 1e6).toFixed(2)} M | ${(bytes / ms / 1e3).toFixed(1)} | ${(base / ms).toFixed(2)}× |`);
}
model.dispose();
