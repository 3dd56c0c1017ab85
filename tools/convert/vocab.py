"""The vocabulary (vocab.txt or tokenizer.json) and the tokenizer options (tokenizer.json's normalizer,
tokenizer_config.json) of a checkpoint folder, under models/FORMAT.md's names, and the tokens' GGUF types."""

import os
import re

from tools.convert.checkpoint import read_json
from tools.convert.errors import ConvertError

# tokenizer.ggml.token_type values.
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_UNUSED = 1, 2, 3, 5
UNUSED_RE = re.compile(r"^\[unused\d+\]$")


def read_vocab_txt(path):
    """Tokens in id order: one per line, only the line terminator stripped (\\n, \\r\\n or \\r, as
    Python's universal newlines and Hugging Face's load_vocab read them)."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f.readlines()]
    except (OSError, UnicodeDecodeError) as e:
        raise ConvertError("cannot read %s: %s" % (path, e))


def strip_accents_value(v, where):
    if v is None:
        return -1
    if isinstance(v, bool):
        return 1 if v else 0
    raise ConvertError("%s strip_accents must be true, false or null, got %r" % (where, v))


def bool_value(v, where, key):
    if not isinstance(v, bool):
        raise ConvertError("%s %s must be true or false, got %r" % (where, key, v))
    return v


def read_tokenizer_json(path):
    """(tokens in id order, options) from a fast-tokenizer tokenizer.json with a WordPiece model."""
    tj = read_json(path, "tokenizer.json")
    model = tj.get("model") if isinstance(tj, dict) else None
    if not isinstance(model, dict) or model.get("type") != "WordPiece":
        raise ConvertError("tokenizer.json model.type is %r; only \"WordPiece\" is supported"
                           % (model.get("type") if isinstance(model, dict) else None))
    prefix = model.get("continuing_subword_prefix", "##")
    if prefix != "##":
        raise ConvertError("tokenizer.json continuing_subword_prefix is %r; only \"##\" is supported" % (prefix,))
    vocab = model.get("vocab")
    if not isinstance(vocab, dict) or not vocab:
        raise ConvertError("tokenizer.json model.vocab must be a non-empty object token -> id")
    tokens = [None] * len(vocab)
    for token, i in vocab.items():
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(vocab) or tokens[i] is not None:
            raise ConvertError("tokenizer.json model.vocab ids must be a permutation of 0..%d; bad id %r for %r"
                               % (len(vocab) - 1, i, token))
        tokens[i] = token
    opts = {}
    mic = model.get("max_input_chars_per_word", 100)
    if isinstance(mic, bool) or not isinstance(mic, int) or not 0 < mic < 2**32:
        raise ConvertError("tokenizer.json max_input_chars_per_word must be a positive integer, got %r" % (mic,))
    opts["max_input_chars_per_word"] = mic
    norm = tj.get("normalizer")
    if not isinstance(norm, dict) or norm.get("type") != "BertNormalizer":
        raise ConvertError("tokenizer.json normalizer is %r; only BertNormalizer is supported"
                           % (norm.get("type") if isinstance(norm, dict) else norm))
    opts.update(read_flags(norm, "tokenizer.json normalizer", "lowercase", "handle_chinese_chars"))
    return tokens, opts


def read_flags(d, where, lower_key, chinese_key):
    """The normaliser flags present in the JSON object d, under FORMAT.md's option names. Hugging Face
    names two of them differently in tokenizer.json and tokenizer_config.json: lower_key, chinese_key."""
    opts = {}
    if lower_key in d:
        opts["do_lower_case"] = bool_value(d[lower_key], where, lower_key)
    if "strip_accents" in d:
        opts["strip_accents"] = strip_accents_value(d["strip_accents"], where)
    if chinese_key in d:
        opts["tokenize_chinese_chars"] = bool_value(d[chinese_key], where, chinese_key)
    return opts


def read_tokenizer(folder):
    """(tokens, source file name, options). Options start at FORMAT.md's defaults, then take
    tokenizer.json's normalizer, then tokenizer_config.json (Hugging Face's fast tokenizer also lets
    the tokenizer_config.json flags override the normalizer)."""
    opts = {"do_lower_case": True, "strip_accents": -1, "tokenize_chinese_chars": True,
            "max_input_chars_per_word": 100}
    tj_path = os.path.join(folder, "tokenizer.json")
    vt_path = os.path.join(folder, "vocab.txt")
    if os.path.isfile(tj_path):
        tokens, tj_opts = read_tokenizer_json(tj_path)
        opts.update(tj_opts)
        source = "tokenizer.json"
    elif os.path.isfile(vt_path):
        tokens = read_vocab_txt(vt_path)
        source = "vocab.txt"
    else:
        raise ConvertError("no vocabulary in %s: expected vocab.txt or tokenizer.json" % folder)
    tc_path = os.path.join(folder, "tokenizer_config.json")
    if os.path.isfile(tc_path):
        tc = read_json(tc_path, "tokenizer_config.json")
        if not isinstance(tc, dict):
            raise ConvertError("tokenizer_config.json is not a JSON object")
        opts.update(read_flags(tc, "tokenizer_config.json", "do_lower_case", "tokenize_chinese_chars"))
        mml = tc.get("model_max_length")
        if mml is not None and (isinstance(mml, bool) or not isinstance(mml, (int, float)) or mml <= 0):
            raise ConvertError("tokenizer_config.json model_max_length must be a positive number, got %r" % (mml,))
    return tokens, source, opts


def special_ids(tokens):
    """{"[UNK]": id, ...} for the special tokens present (first occurrence)."""
    ids = {}
    for i, t in enumerate(tokens):
        if t in ("[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]") and t not in ids:
            ids[t] = i
    for t in ("[UNK]", "[CLS]", "[SEP]"):
        if t not in ids:
            raise ConvertError("the vocabulary has no %s token" % t)
    return ids


def token_types(tokens):
    out = []
    for t in tokens:
        if t in ("[PAD]", "[CLS]", "[SEP]", "[MASK]"):
            out.append(TOKEN_CONTROL)
        elif t == "[UNK]":
            out.append(TOKEN_UNKNOWN)
        elif UNUSED_RE.match(t):
            out.append(TOKEN_UNUSED)
        else:
            out.append(TOKEN_NORMAL)
    return out
