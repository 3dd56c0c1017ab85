// oracle.mjs — the reference tokenizer of the parity tests: @huggingface/tokenizers (the JavaScript
// tokenizer transformers.js runs), loaded from a folder's tokenizer.json + tokenizer_config.json.
//
//   import { loadOracle, encode } from "./tokenizer/oracle.mjs";
//   const oracle = loadOracle("build/tok/uncased");
//   const { ids, type_ids, tokens } = encode(oracle, "Hello, world!", "How are you?");
//
// encode() asks for the special tokens and the token type ids, as transformers.js calls the tokenizer.
// Known departures of this engine from the Rust `tokenizers` library (astral CJK ideographs get no spaces,
// Final_Sigma lowercasing, an empty pair counts as no pair) are listed in tools/tokenizer/wordpiece.py.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

/** The Tokenizer for DIR/tokenizer.json and DIR/tokenizer_config.json; throws naming a missing file. */
export function loadOracle(dir) {
  const read = (name) => {
    const p = join(dir, name);
    if (!existsSync(p)) throw new Error(`${p} is missing (python3 -m tools.tokenizer.vocab_from_npm or tools.tokenizer.build_vocab write it)`);
    return JSON.parse(readFileSync(p, "utf8"));
  };
  return new Tokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
}

/** {ids, type_ids, tokens} of text (and pair, when given: a string, "" included) with [CLS]/[SEP]. */
export function encode(oracle, text, pair = null) {
  const r = oracle.encode(text, { text_pair: pair ?? null, add_special_tokens: true, return_token_type_ids: true });
  return { ids: r.ids, type_ids: r.token_type_ids, tokens: r.tokens };
}
