// tokcorpus_report.mjs — encode every line of the tokenizer corpus with the oracle (@huggingface/tokenizers)
// and print counts: a sanity check of the corpus and of a tokenizer folder.
//
//   node tools/tokcorpus_report.mjs build/tok/corpus.jsonl build/tok/uncased [--dump out.jsonl]
//
// Prints lines, pairs, tokens (with [CLS]/[SEP]), the [UNK] rate (share of the non-special tokens), lines
// with at least one [UNK], lines that throw, and the same per source ("clinc150/train", "synthetic/emoji",
// ...). --dump writes one JSON object per corpus line: {ids, type_ids} or {error}, for comparisons.
import { readFileSync, writeFileSync } from "node:fs";
import { encode, loadOracle } from "../tests/js/tokenizer/oracle.mjs";

function main(argv) {
  const args = argv.slice(2);
  let dump = null;
  const i = args.indexOf("--dump");
  if (i >= 0) { dump = args[i + 1]; args.splice(i, 2); }
  if (args.length !== 2 || !dump && i >= 0) {
    console.error("usage: node tools/tokcorpus_report.mjs CORPUS.jsonl TOKENIZER_DIR [--dump OUT.jsonl]");
    return 2;
  }
  const [corpusPath, dir] = args;
  const oracle = loadOracle(dir);
  const unkId = oracle.token_to_id("[UNK]");
  const special = new Set(["[CLS]", "[SEP]"].map((t) => oracle.token_to_id(t)));
  const lines = readFileSync(corpusPath, "utf8").split("\n").filter((l) => l !== "");
  const total = { lines: 0, pairs: 0, tokens: 0, words: 0, unk: 0, unkLines: 0, errors: 0 };
  const bySource = new Map();
  const out = [];
  const t0 = performance.now();
  for (const line of lines) {
    const { text, pair, source } = JSON.parse(line);
    const s = bySource.get(source) ?? { lines: 0, tokens: 0, words: 0, unk: 0, errors: 0 };
    bySource.set(source, s);
    total.lines++; s.lines++;
    if (pair !== undefined) total.pairs++;
    try {
      const r = encode(oracle, text, pair);
      const pieces = r.ids.filter((id) => !special.has(id));
      const unk = pieces.filter((id) => id === unkId).length;
      total.tokens += r.ids.length; s.tokens += r.ids.length;
      total.words += pieces.length; s.words += pieces.length;
      total.unk += unk; s.unk += unk;
      if (unk) total.unkLines++;
      if (dump) out.push(JSON.stringify({ ids: r.ids, type_ids: r.type_ids }));
    } catch (e) {
      total.errors++; s.errors++;
      if (dump) out.push(JSON.stringify({ error: String(e && e.message || e) }));
    }
  }
  const ms = performance.now() - t0;
  const pct = (a, b) => (b ? (100 * a / b).toFixed(2) : "0.00") + "%";
  console.log(`${dir}: ${total.lines} lines (${total.pairs} pairs), ${total.tokens} tokens, ` +
    `[UNK] ${total.unk} = ${pct(total.unk, total.words)} of ${total.words} non-special tokens, ` +
    `${total.unkLines} lines with [UNK], ${total.errors} lines throw; ${ms.toFixed(0)} ms`);
  const width = Math.max(...[...bySource.keys()].map((k) => k.length));
  for (const [source, s] of [...bySource].sort((a, b) => a[0] < b[0] ? -1 : 1))
    console.log(`  ${source.padEnd(width)} ${String(s.lines).padStart(5)} lines ` +
      `${String(s.tokens).padStart(7)} tokens  [UNK] ${pct(s.unk, s.words).padStart(7)}` +
      (s.errors ? `  ${s.errors} throw` : ""));
  if (dump) writeFileSync(dump, out.join("\n") + "\n");
  return total.errors ? 1 : 0;
}

process.exitCode = main(process.argv);
