"""convert(): a checkpoint folder -> one GGUF v3 file: the keys of models/FORMAT.md in file order, then the
tensors; the one place that decides what a file holds."""

import json
import os

import numpy as np

from tools.convert.checkpoint import choose_task, load_weights, read_config, read_edgetag_json, read_labels
from tools.convert.errors import ConvertError
from tools.convert.tensors import check_tensors, expected_tensors, map_tensors
from tools.convert.vocab import read_tokenizer, special_ids, token_types
from tools.formats import ggufio

# The converter's name and version in every file's edgetag.provenance; part of the files' bytes (models/
# reference-tiny.gguf is compared with a fresh conversion), so it changes only with what the converter writes.
CONVERTER = "edgetag tools/convert.py 1"
FORMAT_VERSION = 1
# llama.cpp's pooling enum: 0 none, 1 mean, 2 cls, 3 last, 4 rank.
POOLING_BY_TASK = {"embedding": 1, "sequence_classification": 4, "token_classification": 0}


def check_abstain_label(flag, edgetag, labels):
    """The label whose prediction means "the model declines: escalate" (--abstain-label, else edgetag.json's
    abstain_label, else None), which must be one of the model's labels."""
    label, where = (flag, "--abstain-label") if flag is not None else ((edgetag or {}).get("abstain_label"),
                                                                          "edgetag.json abstain_label")
    if label is None:
        return None
    if labels is None:
        raise ConvertError("%s: an abstain label (edgetag.escalation.abstain_label) only applies to classifiers, "
                           "not to an embedding model" % where)
    if label not in labels:
        shown = ", ".join(labels[:8]) + (", ... (%d labels)" % len(labels) if len(labels) > 8 else "")
        raise ConvertError("%s %r is not one of the model's labels (%s)" % (where, label, shown))
    return label


def convert(folder, out_path, outtype="f32", task="auto", model_version=None, name=None, aggregation=None,
            abstain_label=None):
    """Converts; returns a one-line summary. Raises ConvertError on any user error. model_version None:
    edgetag.json's model_version when the folder has one, else "0"; aggregation and abstain_label None:
    edgetag.json's, else none written."""
    if not os.path.isdir(folder):
        raise ConvertError("%s is not a directory" % folder)
    hp = read_config(folder)
    task = choose_task(task, hp["architecture"])
    tokens, vocab_source, tok_opts = read_tokenizer(folder)
    if len(tokens) != hp["vocab_size"]:
        raise ConvertError("%s has %d tokens but config.json vocab_size is %d"
                           % (vocab_source, len(tokens), hp["vocab_size"]))
    specials = special_ids(tokens)
    tensors, weights_file, weights_sha = load_weights(folder)
    mapped = map_tensors(tensors, hp, task)
    expected = expected_tensors(hp, task, mapped)
    check_tensors(mapped, expected, task)
    labels = None
    if task != "embedding":
        labels = read_labels(hp, mapped["cls.output.weight"][1].shape[0])
    edgetag = read_edgetag_json(folder)
    if model_version is None:
        model_version = edgetag["model_version"] if edgetag and edgetag["model_version"] else "0"
    abstain_label = check_abstain_label(abstain_label, edgetag, labels)

    source = os.path.basename(os.path.normpath(os.path.abspath(folder)))
    w = ggufio.GGUFWriter()
    w.add_string("general.architecture", "bert")
    w.add_string("general.name", name if name is not None else source)
    w.add_u32("general.alignment", 32)
    w.add_u32("general.file_type", 1 if outtype == "f16" else 0)
    w.add_u32("bert.context_length", hp["max_position_embeddings"])
    w.add_u32("bert.embedding_length", hp["hidden_size"])
    w.add_u32("bert.feed_forward_length", hp["intermediate_size"])
    w.add_u32("bert.block_count", hp["num_hidden_layers"])
    w.add_u32("bert.attention.head_count", hp["num_attention_heads"])
    w.add_f32("bert.attention.layer_norm_epsilon", hp["layer_norm_eps"])
    w.add_bool("bert.attention.causal", False)
    w.add_u32("bert.pooling_type", POOLING_BY_TASK[task])
    w.add_string("tokenizer.ggml.model", "bert")
    w.add_array("tokenizer.ggml.tokens", tokens, ggufio.GGUF_TYPE_STRING)
    w.add_array("tokenizer.ggml.token_type", token_types(tokens), ggufio.GGUF_TYPE_INT32)
    w.add_u32("tokenizer.ggml.token_type_count", hp["type_vocab_size"])
    for token, key in (("[UNK]", "unknown"), ("[SEP]", "seperator"), ("[PAD]", "padding"),
                       ("[CLS]", "cls"), ("[MASK]", "mask")):
        if token in specials:
            w.add_u32("tokenizer.ggml.%s_token_id" % key, specials[token])
    w.add_u32("edgetag.format_version", FORMAT_VERSION)
    w.add_string("edgetag.task", task)
    if labels is not None:
        w.add_array("edgetag.labels", labels, ggufio.GGUF_TYPE_STRING)
    w.add_string("edgetag.hidden_act", "gelu")
    w.add_bool("edgetag.tokenizer.do_lower_case", tok_opts["do_lower_case"])
    w.add_i32("edgetag.tokenizer.strip_accents", tok_opts["strip_accents"])
    w.add_bool("edgetag.tokenizer.tokenize_chinese_chars", tok_opts["tokenize_chinese_chars"])
    w.add_u32("edgetag.tokenizer.max_input_chars_per_word", tok_opts["max_input_chars_per_word"])
    if edgetag is not None:
        w.add_f32("edgetag.calibration.temperature", edgetag["temperature"])
        if edgetag["threshold"] is not None:
            w.add_f32("edgetag.escalation.threshold", edgetag["threshold"])
    if abstain_label is not None:
        w.add_string("edgetag.escalation.abstain_label", abstain_label)
    aggregation = aggregation or (edgetag or {}).get("aggregation")
    if aggregation is not None:
        if task != "token_classification":
            raise ConvertError("an aggregation (edgetag.tagging.aggregation) only applies to token classifiers")
        w.add_string("edgetag.tagging.aggregation", aggregation)
    w.add_string("edgetag.model.version", model_version)
    provenance = {"source": source, "weights_file": weights_file, "weights_sha256": weights_sha,
                  "converter": CONVERTER, "architecture": hp["architecture"]}
    if edgetag is not None:
        provenance = dict(edgetag["provenance"], **provenance)
    w.add_string("edgetag.provenance", json.dumps(provenance, separators=(",", ":")))

    for gguf_name, _, _ in expected:
        hf_name, arr = mapped[gguf_name]
        ggml_type = ggufio.GGML_TYPE_F32
        if outtype == "f16" and arr.ndim == 2:
            ggml_type = ggufio.GGML_TYPE_F16
            if np.abs(arr).max() > 65504.0:
                raise ConvertError("tensor %s has values beyond the F16 range; use --outtype f32" % hf_name)
        w.add_tensor(gguf_name, arr, ggml_type)
    try:
        size = w.write(out_path)
    except OSError as e:
        raise ConvertError("cannot write %s: %s" % (out_path, e.strerror or e))
    return "wrote %s: task %s, %d tensors, %d tokens, %s, %.1f MB" % (
        out_path, task, len(expected), len(tokens), outtype, size / 1e6)
