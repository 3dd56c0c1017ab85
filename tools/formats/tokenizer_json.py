"""tokenizer_json — write a BERT WordPiece tokenizer as Hugging Face saves it (tokenizer.json +
tokenizer_config.json), from a vocab.txt. Standard library only.

Usage:
    /usr/bin/python3 -m tools.formats.tokenizer_json VOCAB.txt -o OUT/tokenizer.json [--cased]
        [--strip-accents auto|true|false] [--no-chinese] [--max-input-chars-per-word 100]

Writes OUT/tokenizer.json in the layout `transformers`' BertTokenizerFast.save_pretrained produces (the Rust
`tokenizers` serialisation: version "1.0", no truncation or padding, the special tokens as added tokens,
BertNormalizer, BertPreTokenizer, TemplateProcessing "[CLS] $A [SEP] ($B:1 [SEP]:1)", WordPiece decoder and
model with the vocabulary in id order), and OUT/tokenizer_config.json beside it (sorted keys, as transformers
writes it). Both files are read by tools/convert/ and by the JavaScript oracle (@huggingface/tokenizers).

Flags: --cased sets lowercase false; --strip-accents auto writes null (strip when lowercasing, the BERT
default); --no-chinese turns off the spaces put around CJK ideographs. The vocabulary needs [UNK], [CLS]
and [SEP]; [PAD] and [MASK] are listed as special tokens when present. Same input -> byte-identical output.

Library:
    tokens = read_vocab("vocab.txt")
    write_tokenizer_files(tokens, "out_dir", lowercase=True, strip_accents=None)
"""

import argparse
import json
import os
import sys

# The special tokens of a BERT vocabulary, in the order transformers lists them in tokenizer_config.json.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
REQUIRED_TOKENS = ("[UNK]", "[CLS]", "[SEP]")
# tokenizer_config.json key of each special token.
SPECIAL_KEYS = {"[PAD]": "pad_token", "[UNK]": "unk_token", "[CLS]": "cls_token", "[SEP]": "sep_token",
                "[MASK]": "mask_token"}
MODEL_MAX_LENGTH = 512


class VocabError(ValueError):
    """A vocabulary that cannot make a tokenizer (duplicate or empty tokens, a missing special token)."""


def read_vocab(path):
    """Tokens in id order from a vocab.txt: one per line (\\n, \\r\\n or \\r), only the terminator stripped,
    as transformers' load_vocab and tools/convert/ read it. Raises VocabError on empty or duplicate tokens."""
    with open(path, "r", encoding="utf-8") as f:
        tokens = [line.rstrip("\n") for line in f.readlines()]
    check_vocab(tokens, path)
    return tokens


def check_vocab(tokens, where="vocabulary"):
    """Raises VocabError unless tokens are non-empty, unique and hold the required special tokens."""
    seen = {}
    for i, t in enumerate(tokens):
        if t == "":
            raise VocabError("%s: token %d is empty" % (where, i))
        if t in seen:
            raise VocabError("%s: token %r appears twice (ids %d and %d)" % (where, t, seen[t], i))
        seen[t] = i
    missing = [t for t in REQUIRED_TOKENS if t not in seen]
    if missing:
        raise VocabError("%s: no %s token" % (where, " or ".join(missing)))


def special_tokens(tokens):
    """[(token, id)] of the special tokens present, in id order."""
    ids = {t: i for i, t in enumerate(tokens) if t in SPECIAL_TOKENS}
    return sorted(ids.items(), key=lambda kv: kv[1])


def build_tokenizer_json(tokens, lowercase=True, strip_accents=None, handle_chinese_chars=True,
                         max_input_chars_per_word=100):
    """The tokenizer.json object (key order as the Rust serialiser writes it)."""
    check_vocab(tokens)
    if strip_accents not in (None, True, False):
        raise ValueError("strip_accents must be None, True or False")
    ids = {t: i for i, t in enumerate(tokens)}
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t, i in special_tokens(tokens)]

    def special(token, type_id):
        return {"SpecialToken": {"id": token, "type_id": type_id}}

    def sequence(name, type_id):
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": bool(handle_chinese_chars),
                       "strip_accents": strip_accents, "lowercase": bool(lowercase)},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
            "pair": [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0), sequence("B", 1),
                     special("[SEP]", 1)],
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": int(max_input_chars_per_word),
                  "vocab": {t: i for i, t in enumerate(tokens)}},
    }


def build_tokenizer_config(tokens, lowercase=True, strip_accents=None, handle_chinese_chars=True):
    """The tokenizer_config.json object (transformers' keys for a BERT tokenizer)."""
    check_vocab(tokens)
    config = {
        "added_tokens_decoder": {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                          "single_word": False, "special": True}
                                 for t, i in special_tokens(tokens)},
        "clean_up_tokenization_spaces": True,
        "do_lower_case": bool(lowercase),
        "model_max_length": MODEL_MAX_LENGTH,
        "strip_accents": strip_accents,
        "tokenize_chinese_chars": bool(handle_chinese_chars),
        "tokenizer_class": "BertTokenizer",
    }
    for t, _ in special_tokens(tokens):
        config[SPECIAL_KEYS[t]] = t
    return config


def dumps_tokenizer_json(obj):
    """tokenizer.json text: 2-space indent, UTF-8 (not \\u-escaped), no final newline (serde_json pretty)."""
    return json.dumps(obj, indent=2, ensure_ascii=False)


def dumps_tokenizer_config(obj):
    """tokenizer_config.json text: sorted keys, 2-space indent, final newline (transformers' save)."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_tokenizer_files(tokens, out_dir, lowercase=True, strip_accents=None, handle_chinese_chars=True,
                          max_input_chars_per_word=100, json_name="tokenizer.json"):
    """Writes out_dir/tokenizer.json (or json_name) and out_dir/tokenizer_config.json; returns both paths."""
    os.makedirs(out_dir or ".", exist_ok=True)
    tj = build_tokenizer_json(tokens, lowercase, strip_accents, handle_chinese_chars, max_input_chars_per_word)
    tc = build_tokenizer_config(tokens, lowercase, strip_accents, handle_chinese_chars)
    paths = (os.path.join(out_dir, json_name), os.path.join(out_dir, "tokenizer_config.json"))
    for path, text in zip(paths, (dumps_tokenizer_json(tj), dumps_tokenizer_config(tc))):
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return paths


def write_vocab_txt(tokens, path):
    """Writes tokens one per line with "\\n" endings (vocab.txt)."""
    check_vocab(tokens, path)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(t + "\n" for t in tokens))


def parse_strip_accents(value):
    """"auto" -> None, "true" -> True, "false" -> False."""
    return {"auto": None, "true": True, "false": False}[value]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tokenizer_json.py",
                                 description="Write a Hugging Face BERT tokenizer.json + tokenizer_config.json.")
    ap.add_argument("vocab", help="vocab.txt (one token per line, id = line number)")
    ap.add_argument("-o", "--out", required=True, help="output tokenizer.json path (tokenizer_config.json goes beside)")
    ap.add_argument("--cased", action="store_true", help="do not lowercase")
    ap.add_argument("--strip-accents", choices=("auto", "true", "false"), default="auto",
                    help="strip accents: auto (null: when lowercasing), true or false")
    ap.add_argument("--no-chinese", action="store_true", help="no spaces around CJK ideographs")
    ap.add_argument("--max-input-chars-per-word", type=int, default=100, help="longer words become [UNK] (default 100)")
    args = ap.parse_args(argv)
    if args.max_input_chars_per_word <= 0:
        ap.error("--max-input-chars-per-word must be positive")
    try:
        tokens = read_vocab(args.vocab)
    except (OSError, UnicodeDecodeError, VocabError) as e:
        print("tokenizer_json.py: error: %s" % e, file=sys.stderr)
        return 1
    out_dir, name = os.path.split(args.out)
    paths = write_tokenizer_files(tokens, out_dir, lowercase=not args.cased,
                                  strip_accents=parse_strip_accents(args.strip_accents),
                                  handle_chinese_chars=not args.no_chinese,
                                  max_input_chars_per_word=args.max_input_chars_per_word, json_name=name)
    print("wrote %s and %s (%d tokens)" % (paths[0], paths[1], len(tokens)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
