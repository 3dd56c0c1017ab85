"""Hugging Face tensor names -> GGUF tensor names (llama.cpp's BERT conventions, models/FORMAT.md), and the
tensors a task needs with their shapes, checked before anything is written."""

import re

import numpy as np

from tools.convert.errors import ConvertError, note

# HF tensor names (after dropping "bert." and renaming gamma/beta) -> GGUF names.
EMBEDDING_NAMES = {
    "embeddings.word_embeddings.weight": "token_embd.weight",
    "embeddings.position_embeddings.weight": "position_embd.weight",
    "embeddings.token_type_embeddings.weight": "token_types.weight",
    "embeddings.LayerNorm.weight": "token_embd_norm.weight",
    "embeddings.LayerNorm.bias": "token_embd_norm.bias",
}
LAYER_NAMES = {  # suffix of encoder.layer.N. -> GGUF blk.N. suffix (without .weight/.bias)
    "attention.self.query": "attn_q",
    "attention.self.key": "attn_k",
    "attention.self.value": "attn_v",
    "attention.output.dense": "attn_output",
    "attention.output.LayerNorm": "attn_output_norm",
    "intermediate.dense": "ffn_up",
    "output.dense": "ffn_down",
    "output.LayerNorm": "layer_output_norm",
}
HEAD_NAMES = {
    "pooler.dense.weight": "cls.weight",
    "pooler.dense.bias": "cls.bias",
    "classifier.weight": "cls.output.weight",
    "classifier.bias": "cls.output.bias",
}
# Tensors dropped with a note: buffers and the pre-training heads.
IGNORED = re.compile(r"^(embeddings\.position_ids|cls\.predictions\..*|cls\.seq_relationship\..*)$")
LAYER_RE = re.compile(r"^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$")


def canonical_name(name):
    """HF name without the "bert." prefix, with LayerNorm gamma/beta spelt weight/bias."""
    if name.startswith("bert."):
        name = name[len("bert."):]
    if name.endswith("LayerNorm.gamma"):
        name = name[:-len("gamma")] + "weight"
    elif name.endswith("LayerNorm.beta"):
        name = name[:-len("beta")] + "bias"
    return name


def map_tensors(tensors, hp, task):
    """Maps HF tensors to GGUF names: returns {gguf name: (hf name, float32 array)}."""
    mapped = {}
    unknown, ignored, dropped = [], [], []
    for hf_name in sorted(tensors):
        name = canonical_name(hf_name)
        gguf = None
        if IGNORED.match(name):
            ignored.append(hf_name)
            continue
        if name in EMBEDDING_NAMES:
            gguf = EMBEDDING_NAMES[name]
        elif name in HEAD_NAMES:
            gguf = HEAD_NAMES[name]
            if gguf.startswith("cls.output") and task == "embedding":
                dropped.append(hf_name)
                continue
        else:
            m = LAYER_RE.match(name)
            if m and m.group(2) in LAYER_NAMES:
                layer = int(m.group(1))
                if layer >= hp["num_hidden_layers"]:
                    raise ConvertError("tensor %s belongs to layer %d but num_hidden_layers is %d"
                                       % (hf_name, layer, hp["num_hidden_layers"]))
                gguf = "blk.%d.%s.%s" % (layer, LAYER_NAMES[m.group(2)], m.group(3))
        if gguf is None:
            unknown.append(hf_name)
            continue
        if gguf in mapped:
            raise ConvertError("tensors %s and %s both map to %s" % (mapped[gguf][0], hf_name, gguf))
        arr = tensors[hf_name]
        if arr.dtype.kind != "f":
            raise ConvertError("tensor %s has dtype %s; a floating-point type is expected" % (hf_name, arr.dtype))
        mapped[gguf] = (hf_name, np.asarray(arr, dtype=np.float32))
    if unknown:
        more = " (and %d more)" % (len(unknown) - 20) if len(unknown) > 20 else ""
        raise ConvertError("unknown tensors: %s%s" % (", ".join(unknown[:20]), more))
    if ignored:
        note("ignoring %d tensors (position_ids buffer, MLM/NSP heads): %s"
             % (len(ignored), ", ".join(ignored[:6]) + (", ..." if len(ignored) > 6 else "")))
    if dropped:
        note("task is embedding: dropping the classifier (%s)" % ", ".join(dropped))
    return mapped


def expected_tensors(hp, task, mapped):
    """[(gguf name, numpy shape, why)] in file order. Optional heads are included when present."""
    H, F, V = hp["hidden_size"], hp["intermediate_size"], hp["vocab_size"]
    P, T = hp["max_position_embeddings"], hp["type_vocab_size"]
    out = [
        ("token_embd.weight", (V, H), "vocab_size, hidden_size"),
        ("position_embd.weight", (P, H), "max_position_embeddings, hidden_size"),
        ("token_types.weight", (T, H), "type_vocab_size, hidden_size"),
        ("token_embd_norm.weight", (H,), "hidden_size"),
        ("token_embd_norm.bias", (H,), "hidden_size"),
    ]
    for n in range(hp["num_hidden_layers"]):
        b = "blk.%d." % n
        for part, w_shape, b_shape, why in (
                ("attn_q", (H, H), (H,), "hidden_size, hidden_size"),
                ("attn_k", (H, H), (H,), "hidden_size, hidden_size"),
                ("attn_v", (H, H), (H,), "hidden_size, hidden_size"),
                ("attn_output", (H, H), (H,), "hidden_size, hidden_size"),
                ("attn_output_norm", (H,), (H,), "hidden_size"),
                ("ffn_up", (F, H), (F,), "intermediate_size, hidden_size"),
                ("ffn_down", (H, F), (H,), "hidden_size, intermediate_size"),
                ("layer_output_norm", (H,), (H,), "hidden_size")):
            out.append((b + part + ".weight", w_shape, why))
            out.append((b + part + ".bias", b_shape, why.split(",")[0]))
    need_pooler = task == "sequence_classification"
    if need_pooler or "cls.weight" in mapped or "cls.bias" in mapped:
        out.append(("cls.weight", (H, H), "hidden_size, hidden_size"))
        out.append(("cls.bias", (H,), "hidden_size"))
    if task != "embedding":
        w = mapped.get("cls.output.weight")
        C = w[1].shape[0] if w is not None and w[1].ndim == 2 else None
        if C is not None:
            out.append(("cls.output.weight", (C, H), "labels, hidden_size"))
            out.append(("cls.output.bias", (C,), "labels (classifier rows)"))
        else:
            out.append(("cls.output.weight", ("C", H), "labels, hidden_size"))
            out.append(("cls.output.bias", ("C",), "labels"))
    return out


def check_tensors(mapped, expected, task):
    missing = []
    for name, shape, why in expected:
        if name not in mapped:
            missing.append(name)
            continue
        hf_name, arr = mapped[name]
        if tuple(arr.shape) != shape:
            raise ConvertError("tensor %s has shape [%s], expected [%s] (%s)"
                               % (hf_name, ", ".join(map(str, arr.shape)), ", ".join(map(str, shape)), why))
        if not np.isfinite(arr).all():
            raise ConvertError("tensor %s holds NaN or infinite values" % hf_name)
    if missing:
        hf = {v: k for k, v in list(EMBEDDING_NAMES.items()) + list(HEAD_NAMES.items())}

        def source(g):
            if g in hf:
                return hf[g]
            m = re.match(r"^blk\.(\d+)\.(\w+)\.(weight|bias)$", g)
            part = {v: k for k, v in LAYER_NAMES.items()}[m.group(2)]
            return "encoder.layer.%s.%s.%s" % (m.group(1), part, m.group(3))
        what = ", ".join("%s (%s)" % (source(g), g) for g in missing[:10])
        if len(missing) > 10:
            what += " and %d more" % (len(missing) - 10)
        extra = ""
        if any(g.startswith("cls.") for g in missing):
            extra = "; task %s needs %s" % (task, "the pooler and the classifier"
                                            if task == "sequence_classification" else "the classifier")
        raise ConvertError("missing tensors: %s%s" % (what, extra))
    extra = sorted(set(mapped) - {name for name, _, _ in expected})
    if extra:  # cannot happen for well-formed names, kept as a guard
        raise ConvertError("unexpected tensors: %s" % ", ".join(mapped[g][0] for g in extra))
