"""convert(): a checkpoint folder -> one GGUF v3 file of format 2: the model's description, whose keys
layout.py writes in models/FORMAT.md's order, then the tensors."""

import json
import os

import numpy as np

from tools.convert.checkpoint import choose_task, load_weights, read_config, read_edgetag_json, read_labels
from tools.convert.errors import ConvertError
from tools.convert.layout import write_keys
from tools.convert.tensors import check_tensors, expected_tensors, map_tensors
from tools.convert.vocab import read_tokenizer, special_ids, token_types
from tools.formats import ggufio

# The converter's name and version in every file's edgetag.provenance; part of the files' bytes (models/
# reference-tiny.gguf is compared with a fresh conversion), so it changes only with what the converter writes.
# 2: format 2 (llama.cpp's vocabulary spelling and keys, layout.py).
CONVERTER = "edgetag tools/convert.py 2"
# Tensors that stay F32 in an f16 file, as llama.cpp's converter keeps them: llama.cpp adds the segment
# embedding's row to F32 activations with an op that takes no F16 operand (it aborts on an F16 token_types).
F32_ALWAYS = ("position_embd.weight", "token_types.weight")


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

    aggregation = aggregation or (edgetag or {}).get("aggregation")
    if aggregation is not None and task != "token_classification":
        raise ConvertError("an aggregation (edgetag.tagging.aggregation) only applies to token classifiers")
    source = os.path.basename(os.path.normpath(os.path.abspath(folder)))
    provenance = {"source": source, "weights_file": weights_file, "weights_sha256": weights_sha,
                  "converter": CONVERTER, "architecture": hp["architecture"]}
    if edgetag is not None:
        provenance = dict(edgetag["provenance"], **provenance)
    model = {
        "name": name if name is not None else source, "file_type": 1 if outtype == "f16" else 0,
        "hp": {"context_length": hp["max_position_embeddings"], "embedding_length": hp["hidden_size"],
               "feed_forward_length": hp["intermediate_size"], "block_count": hp["num_hidden_layers"],
               "head_count": hp["num_attention_heads"], "layer_norm_eps": hp["layer_norm_eps"]},
        "task": task, "tokens": tokens, "token_types": token_types(tokens), "type_count": hp["type_vocab_size"],
        "specials": specials, "tok_opts": tok_opts, "labels": labels,
        "temperature": edgetag["temperature"] if edgetag is not None else None,
        "threshold": edgetag["threshold"] if edgetag is not None else None,
        "abstain_label": abstain_label, "aggregation": aggregation, "model_version": model_version,
        "provenance": json.dumps(provenance, separators=(",", ":")),
    }
    w = ggufio.GGUFWriter()
    write_keys(w, model)

    for gguf_name, _, _ in expected:
        hf_name, arr = mapped[gguf_name]
        ggml_type = ggufio.GGML_TYPE_F32
        if outtype == "f16" and arr.ndim == 2 and gguf_name not in F32_ALWAYS:
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
