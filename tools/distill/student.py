"""The shipped student back into a checkpoint folder: a f32 GGUF (ours: llama.cpp's BERT tensor names) as
config.json, model.safetensors (Hugging Face names, what tools/train/model.py loads), the tokenizer files, and
edgetag.json with the calibration the file carries (temperature, threshold, abstain label, version).

tools/distill takes sequence classifiers only (the default); bench/hf_export.py passes
tasks=ARCHITECTURES to take token classifiers back the same way (BertForTokenClassification: no pooler)."""

import json
import os

import numpy as np

from tools.convert.tensors import EMBEDDING_NAMES, HEAD_NAMES, LAYER_NAMES
from tools.formats import ggufio, safetensors_np, tokenizer_json
from tools.tokenizer.vocab_from_gguf import read_vocabulary


def hf_names():
    """GGUF tensor name -> Hugging Face name (the converter's tables, inverted)."""
    out = {g: "bert." + h for h, g in EMBEDDING_NAMES.items()}
    for h, g in HEAD_NAMES.items():
        out[g] = ("bert." + h) if h.startswith("pooler.") else h
    return out


# edgetag.task -> the Hugging Face architecture of its checkpoint.
ARCHITECTURES = {"sequence_classification": "BertForSequenceClassification",
                 "token_classification": "BertForTokenClassification"}


def to_folder(gguf_path, folder, tasks=("sequence_classification",)):
    """Writes the folder; returns its edgetag.json contents. Refuses files that are not f32 models of one of
    `tasks` (edgetag.task values; tools/distill fine-tunes sequence classifiers)."""
    g = ggufio.read_gguf(gguf_path)
    kv = g.kv
    task = kv.get("edgetag.task")
    if task not in tasks or task not in ARCHITECTURES:
        raise ValueError("%s: this file's task is %r; expected %s" % (gguf_path, task, " or ".join(tasks)))
    names = hf_names()
    state = {}
    for name, t in g.tensors.items():
        if t.type != 0:
            raise ValueError("%s: tensor %s is not F32 (give the -f32.gguf file, not the int8 one)" % (gguf_path, name))
        if name in names:
            hf = names[name]
        else:
            blk, n, part, wb = name.split(".")
            hf = "bert.encoder.layer.%s.%s.%s" % (n, {v: k for k, v in LAYER_NAMES.items()}[part], wb)
        state[hf] = np.array(t.data, dtype=np.float32)
    labels = kv["bert.classifier.output_labels"]
    tokens, opts = read_vocabulary(gguf_path)
    os.makedirs(folder, exist_ok=True)
    config = {
        "architectures": [ARCHITECTURES[task]], "model_type": "bert",
        "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "hidden_size": kv["bert.embedding_length"], "initializer_range": 0.02,
        "intermediate_size": kv["bert.feed_forward_length"],
        "layer_norm_eps": float(kv["bert.attention.layer_norm_epsilon"]),
        "max_position_embeddings": kv["bert.context_length"], "num_attention_heads": kv["bert.attention.head_count"],
        "num_hidden_layers": kv["bert.block_count"], "pad_token_id": kv["tokenizer.ggml.padding_token_id"],
        "position_embedding_type": "absolute", "type_vocab_size": kv["tokenizer.ggml.token_type_count"],
        "vocab_size": len(tokens), "id2label": {str(i): l for i, l in enumerate(labels)},
        "label2id": {l: i for i, l in enumerate(labels)}, "num_labels": len(labels),
    }
    if task == "sequence_classification":
        config["problem_type"] = "single_label_classification"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    safetensors_np.save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    tokenizer_json.write_vocab_txt(tokens, os.path.join(folder, "vocab.txt"))
    tokenizer_json.write_tokenizer_files(tokens, folder, **opts)
    edge = {
        "temperature": float(kv.get("edgetag.calibration.temperature", 1.0)),
        "threshold": kv.get("edgetag.escalation.threshold"),
        "abstain_label": kv.get("edgetag.escalation.abstain_label"),
        "model_version": kv.get("edgetag.model.version"),
        "name": kv.get("general.name"),
        "labels": labels,
        "calibrated": True,
        "provenance": json.loads(kv["edgetag.provenance"]) if "edgetag.provenance" in kv else {},
    }
    with open(os.path.join(folder, "edgetag.json"), "w") as f:
        json.dump(edge, f, indent=1)
    return edge
