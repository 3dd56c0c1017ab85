"""python3 -m tools.convert.relayout IN.gguf OUT.gguf: an edgetag GGUF file (format 1 or 2) rewritten in format 2,
the layout tools/convert writes today (models/FORMAT.md), with every tensor's bytes unchanged.

What changes from format 1: the vocabulary in llama.cpp's spelling, [CLS] also as bos_token_id and [SEP] as
eos_token_id, tokenizer.ggml.normalizer.* instead of edgetag.tokenizer.do_lower_case / strip_accents,
bert.classifier.output_labels instead of edgetag.labels, the int8 scales "X.scale" renamed
"edgetag.row_scale.X.weight", and edgetag.provenance's "converter" set to the converter's (the file is then
what the converter writes from the same checkpoint, key for key). Keys are written in the converter's order
(layout.py); keys it does not know are carried over last, unchanged; tensors keep their order, types and bytes.
A format 2 file comes out identical. Files that are not edgetag's (no edgetag.format_version) are refused.

Exit status 0, or 1 with one line "relayout: error: ..." on stderr.
"""

import argparse
import json
import os
import sys

from tools.convert.convert import CONVERTER
from tools.convert.errors import ConvertError
from tools.convert.layout import from_llamacpp_spelling, write_keys
from tools.convert.vocab import token_types
from tools.formats import ggufio

# Keys the description below is made of; every other key is carried over as it is.
KNOWN = {
    "general.architecture", "general.name", "general.alignment", "general.file_type", "bert.context_length",
    "bert.embedding_length", "bert.feed_forward_length", "bert.block_count", "bert.attention.head_count",
    "bert.attention.layer_norm_epsilon", "bert.attention.causal", "bert.pooling_type", "bert.classifier.output_labels",
    "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.token_type_count",
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.cls_token_id",
    "tokenizer.ggml.mask_token_id", "tokenizer.ggml.normalizer.lowercase", "tokenizer.ggml.normalizer.strip_accents",
    "edgetag.format_version", "edgetag.task", "edgetag.labels", "edgetag.hidden_act", "edgetag.tokenizer.do_lower_case",
    "edgetag.tokenizer.strip_accents", "edgetag.tokenizer.tokenize_chinese_chars",
    "edgetag.tokenizer.max_input_chars_per_word", "edgetag.calibration.temperature", "edgetag.escalation.threshold",
    "edgetag.escalation.abstain_label", "edgetag.tagging.aggregation", "edgetag.model.version", "edgetag.provenance",
}
I8 = 24
ROW_SCALE = "edgetag.row_scale."


def describe(g, path):
    """The model description (layout.py) of a parsed edgetag file."""
    kv = g.kv
    fmt = kv.get("edgetag.format_version")
    if fmt not in (1, 2):
        raise ConvertError("%s: edgetag.format_version is %r: not an edgetag file of format 1 or 2" % (path, fmt))
    for key, want in (("general.architecture", "bert"), ("tokenizer.ggml.model", "bert"),
                      ("edgetag.hidden_act", "gelu"), ("bert.attention.causal", False)):
        if kv.get(key, want) != want:
            raise ConvertError("%s: %s is %r, expected %r" % (path, key, kv[key], want))
    tokens = kv["tokenizer.ggml.tokens"]
    types = kv.get("tokenizer.ggml.token_type")
    if types is None and fmt == 2:
        raise ConvertError("%s: format 2 without tokenizer.ggml.token_type" % path)
    if types is None:
        types = token_types(tokens)
    if fmt == 2:
        tokens = from_llamacpp_spelling(tokens, types)
    ids = {}
    for token, key in (("[CLS]", "bos"), ("[CLS]", "cls"), ("[SEP]", "seperator"), ("[UNK]", "unknown"),
                       ("[PAD]", "padding"), ("[MASK]", "mask")):
        value = kv.get("tokenizer.ggml.%s_token_id" % key)
        if value is not None and ids.setdefault(token, value) != value:
            raise ConvertError("%s: bos_token_id %d and cls_token_id %d disagree" % (path, ids[token], value))
    missing = [t for t in ("[CLS]", "[SEP]", "[UNK]") if t not in ids]
    if missing:
        raise ConvertError("%s: no token id for %s" % (path, ", ".join(missing)))
    lowercase = kv.get("tokenizer.ggml.normalizer.lowercase", kv.get("edgetag.tokenizer.do_lower_case", True))
    strip = kv.get("edgetag.tokenizer.strip_accents", -1)
    if "tokenizer.ggml.normalizer.strip_accents" in kv:
        strip = int(kv["tokenizer.ggml.normalizer.strip_accents"])
    task = kv.get("edgetag.task", "embedding")
    labels = kv.get("bert.classifier.output_labels", kv.get("edgetag.labels"))
    provenance = json.loads(kv.get("edgetag.provenance", "{}"))
    provenance["converter"] = CONVERTER
    return {
        "name": kv.get("general.name", os.path.basename(path)), "file_type": kv.get("general.file_type"),
        "hp": {"context_length": kv["bert.context_length"], "embedding_length": kv["bert.embedding_length"],
               "feed_forward_length": kv["bert.feed_forward_length"], "block_count": kv["bert.block_count"],
               "head_count": kv["bert.attention.head_count"],
               "layer_norm_eps": kv["bert.attention.layer_norm_epsilon"]},
        "task": task, "tokens": tokens, "token_types": types,
        "type_count": kv.get("tokenizer.ggml.token_type_count", g.tensors["token_types.weight"].ne[1]),
        "specials": ids,
        "tok_opts": {"do_lower_case": bool(lowercase), "strip_accents": strip,
                     "tokenize_chinese_chars": kv.get("edgetag.tokenizer.tokenize_chinese_chars", True),
                     "max_input_chars_per_word": kv.get("edgetag.tokenizer.max_input_chars_per_word", 100)},
        "labels": labels if task != "embedding" else None,
        "temperature": kv.get("edgetag.calibration.temperature"), "threshold": kv.get("edgetag.escalation.threshold"),
        "abstain_label": kv.get("edgetag.escalation.abstain_label"),
        "aggregation": kv.get("edgetag.tagging.aggregation"),
        "model_version": kv.get("edgetag.model.version", "0"),
        "provenance": json.dumps(provenance, separators=(",", ":")),
        "extra": [(k, g.kv_types[k][0], g.kv_types[k][1], v) for k, v in kv.items() if k not in KNOWN],
    }


def tensor_name(g, name):
    """The tensor's name in format 2: an I8 weight's scales "X.scale" become "edgetag.row_scale.X.weight"."""
    if name.endswith(".scale"):
        weight = name[:-len(".scale")] + ".weight"
        if weight in g.tensors and g.tensors[weight].type == I8:
            return ROW_SCALE + weight
    return name


def relayout(in_path, out_path):
    """Rewrites in_path as format 2 into out_path; returns a one-line summary."""
    try:
        with open(in_path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConvertError("cannot read %s: %s" % (in_path, e.strerror or e))
    g = ggufio.parse_gguf(data)
    w = ggufio.GGUFWriter()
    write_keys(w, describe(g, in_path))
    renamed = 0
    for name, t in g.tensors.items():
        new = tensor_name(g, name)
        renamed += new != name
        w.add_tensor_raw(new, t.ne, t.type, t.raw)
    try:
        size = w.write(out_path)
    except OSError as e:
        raise ConvertError("cannot write %s: %s" % (out_path, e.strerror or e))
    return "wrote %s: format 2, %d tensors (%d renamed), %.1f MB" % (out_path, len(g.tensors), renamed, size / 1e6)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="relayout", description="Rewrite an edgetag GGUF file in format 2.")
    ap.add_argument("input", help="an edgetag GGUF file, format 1 or 2")
    ap.add_argument("output", help="the output .gguf path")
    args = ap.parse_args(argv)
    try:
        print(relayout(args.input, args.output))
    except (ConvertError, ggufio.GGUFError) as e:
        print("relayout: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
