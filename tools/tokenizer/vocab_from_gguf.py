"""vocab_from_gguf — the vocabulary of a BERT GGUF file (ours, or one made by llama.cpp's converter) as Hugging
Face saves a tokenizer: vocab.txt, tokenizer.json and tokenizer_config.json, for an independent tokenizer
(npm @huggingface/tokenizers) to run on the same vocabulary.

Usage (from the repository root):
    /usr/bin/python3 -m tools.tokenizer.vocab_from_gguf MODEL.gguf -o OUT_DIR

The tokens are taken back to vocab.txt's spelling: files of edgetag format 1 have it already; other files (our
format 2, llama.cpp's) spell a word-initial piece "\u2581the" and a continuation "s" (tools/convert/layout.py).
The normalizer comes from tokenizer.ggml.normalizer.lowercase / strip_accents, or our format 1's
edgetag.tokenizer.* keys, else BERT's defaults (lowercase, strip accents as lowercase); Chinese characters and
the word limit from edgetag.tokenizer.*, else Hugging Face's defaults.
"""

import argparse
import os
import sys

from tools.convert.layout import PHANTOM, from_llamacpp_spelling
from tools.formats import ggufio, tokenizer_json


def read_vocabulary(path):
    """(tokens in vocab.txt's spelling, tokenizer options for tokenizer_json.write_tokenizer_files)."""
    kv = ggufio.read_gguf(path).kv
    if kv.get("tokenizer.ggml.model", "bert") != "bert":
        raise ValueError("%s: tokenizer.ggml.model is %r, not bert" % (path, kv["tokenizer.ggml.model"]))
    tokens = kv["tokenizer.ggml.tokens"]
    phantom = kv.get("edgetag.format_version") != 1 and any(t.startswith(PHANTOM) for t in tokens)
    if phantom:
        types = kv.get("tokenizer.ggml.token_type") or [1] * len(tokens)
        tokens = from_llamacpp_spelling(tokens, types)
    lowercase = kv.get("tokenizer.ggml.normalizer.lowercase", kv.get("edgetag.tokenizer.do_lower_case", True))
    strip = {-1: None, 0: False, 1: True}[kv.get("edgetag.tokenizer.strip_accents", -1)]
    strip = kv.get("tokenizer.ggml.normalizer.strip_accents", strip)
    opts = {"lowercase": bool(lowercase), "strip_accents": strip,
            "handle_chinese_chars": kv.get("edgetag.tokenizer.tokenize_chinese_chars", True),
            "max_input_chars_per_word": kv.get("edgetag.tokenizer.max_input_chars_per_word", 100)}
    return tokens, opts


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vocab_from_gguf.py", description="Write a BERT GGUF file's vocabulary as "
                                 "vocab.txt, tokenizer.json and tokenizer_config.json.")
    ap.add_argument("gguf", help="a BERT GGUF file (a vocabulary-only one will do)")
    ap.add_argument("-o", "--out", required=True, help="output folder (created)")
    args = ap.parse_args(argv)
    try:
        tokens, opts = read_vocabulary(args.gguf)
        os.makedirs(args.out, exist_ok=True)
        tokenizer_json.write_vocab_txt(tokens, os.path.join(args.out, "vocab.txt"))
        tokenizer_json.write_tokenizer_files(tokens, args.out, **opts)
    except (OSError, ValueError, KeyError, ggufio.GGUFError) as e:
        print("vocab_from_gguf.py: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: vocab.txt, tokenizer.json, tokenizer_config.json (%d tokens, lowercase %s, strip_accents %s)"
          % (args.out, len(tokens), opts["lowercase"], opts["strip_accents"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
