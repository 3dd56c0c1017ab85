"""convert — turn a Hugging Face BERT checkpoint folder into an edgetag GGUF v3 file (models/FORMAT.md).

Usage:
    /usr/bin/python3 -m tools.convert HF_DIR -o OUT.gguf [--outtype f32|f16]
        [--task auto|embedding|sequence_classification|token_classification]
        [--model-version V] [--name NAME]

Input folder:
    config.json                      model_type "bert"; architectures[0] picks the task (--task auto)
    model.safetensors                weights; or model.safetensors.index.json + shards;
    pytorch_model.bin                ... or this (needs torch)
    vocab.txt or tokenizer.json      WordPiece vocabulary (tokenizer.json wins when both exist)
    tokenizer_config.json            optional: do_lower_case, strip_accents, tokenize_chinese_chars
    edgetag.json                     optional (python3 -m tools.train writes it): {"temperature", "threshold",
                                     "model_version", "provenance", "aggregation"} ->
                                     edgetag.calibration.temperature (f32), edgetag.escalation.threshold (f32,
                                     when not null), edgetag.model.version (unless --model-version is given),
                                     the provenance's keys merged into edgetag.provenance (the converter's own
                                     keys win) and edgetag.tagging.aggregation (unless --aggregation is given).
                                     Without the file the output is what it always was.

Tasks: BertModel, BertForMaskedLM, BertForPreTraining -> embedding (MLM/NSP heads dropped);
BertForSequenceClassification -> sequence_classification; BertForTokenClassification ->
token_classification. --outtype f16 stores the 2-D tensors as F16; 1-D tensors are always F32.

Every user error (missing file, bad config, wrong shape, unknown tensor, ...) ends the program with exit
status 1 and one line "convert.py: error: ..." on stderr. Notes (dropped heads) also go to stderr.
Same input folder and options -> byte-identical output.
"""

import argparse
import hashlib
import json
import os
import re
import sys

import numpy as np

from tools.formats import ggufio
from tools.formats import safetensors_np

# The converter's name and version in every file's edgetag.provenance; part of the files' bytes (models/
# reference-tiny.gguf is compared with a fresh conversion), so it changes only with what the converter writes.
CONVERTER = "edgetag tools/convert.py 1"
FORMAT_VERSION = 1

TASK_BY_ARCH = {
    "BertModel": "embedding",
    "BertForMaskedLM": "embedding",
    "BertForPreTraining": "embedding",
    "BertForSequenceClassification": "sequence_classification",
    "BertForTokenClassification": "token_classification",
}
TASKS = ("embedding", "sequence_classification", "token_classification")
# llama.cpp's pooling enum: 0 none, 1 mean, 2 cls, 3 last, 4 rank.
POOLING_BY_TASK = {"embedding": 1, "sequence_classification": 4, "token_classification": 0}

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

# tokenizer.ggml.token_type values.
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_UNUSED = 1, 2, 3, 5
UNUSED_RE = re.compile(r"^\[unused\d+\]$")


class ConvertError(Exception):
    """A user error: printed as one line, exit status 1."""


def note(msg):
    print("convert.py: note: " + msg, file=sys.stderr)


# ------------------------------------------------------------------------------------------------
# config.json
# ------------------------------------------------------------------------------------------------


def read_json(path, what):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ConvertError("%s not found: %s" % (what, path))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ConvertError("cannot read %s %s: %s" % (what, path, e))


def read_config(folder):
    """The hyper-parameters we need, validated; returns a dict."""
    cfg = read_json(os.path.join(folder, "config.json"), "config.json")
    if not isinstance(cfg, dict):
        raise ConvertError("config.json is not a JSON object")
    if cfg.get("model_type") != "bert":
        raise ConvertError("config.json model_type is %r; only \"bert\" is supported" % cfg.get("model_type"))

    def positive_int(key):
        v = cfg.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ConvertError("config.json %s must be a positive integer, got %r" % (key, v))
        return v

    hp = {k: positive_int(k) for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                       "intermediate_size", "vocab_size", "max_position_embeddings",
                                       "type_vocab_size")}
    if hp["hidden_size"] % hp["num_attention_heads"]:
        raise ConvertError("config.json num_attention_heads=%d does not divide hidden_size=%d"
                           % (hp["num_attention_heads"], hp["hidden_size"]))
    eps = cfg.get("layer_norm_eps", 1e-12)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < 1:
        raise ConvertError("config.json layer_norm_eps must be a small positive number, got %r" % (eps,))
    hp["layer_norm_eps"] = float(eps)
    act = cfg.get("hidden_act", "gelu")
    if act != "gelu":
        raise ConvertError("config.json hidden_act is %r: only \"gelu\" (exact erf GELU) is supported" % (act,))
    pet = cfg.get("position_embedding_type", "absolute")
    if pet != "absolute":
        raise ConvertError("config.json position_embedding_type is %r: only \"absolute\" is supported" % (pet,))
    if cfg.get("is_decoder"):
        raise ConvertError("config.json is_decoder is true: only bidirectional encoders are supported")
    archs = cfg.get("architectures")
    if archs is not None and (not isinstance(archs, list) or not archs or not isinstance(archs[0], str)):
        raise ConvertError("config.json architectures must be a non-empty list of names, got %r" % (archs,))
    hp["architecture"] = archs[0] if archs else None
    hp["id2label"] = cfg.get("id2label")
    return hp


def choose_task(requested, arch):
    if requested != "auto":
        return requested
    if arch is None:
        raise ConvertError("config.json has no architectures; pass --task")
    if arch not in TASK_BY_ARCH:
        raise ConvertError("architecture %s is not supported (supported: %s); --task can override"
                           % (arch, ", ".join(sorted(TASK_BY_ARCH))))
    return TASK_BY_ARCH[arch]


# ------------------------------------------------------------------------------------------------
# Weights
# ------------------------------------------------------------------------------------------------


def sha256_files(paths):
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def load_torch_bin(path):
    try:
        import torch
    except ImportError:
        raise ConvertError("%s needs PyTorch to read (import torch failed); convert the checkpoint to "
                           "model.safetensors or install python3-torch" % os.path.basename(path))
    try:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # torch older than 1.13 has no weights_only
            state = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many types for a bad file
        raise ConvertError("cannot read %s: %s" % (path, str(e).splitlines()[0] if str(e) else type(e).__name__))
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ConvertError("%s does not hold a state dict" % path)
    out = {}
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            raise ConvertError("%s: entry %r is not a tensor" % (path, name))
        t = t.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16, torch.float64):
            t = t.to(torch.float32)
        out[name] = t.contiguous().numpy()
    return out


def load_weights(folder):
    """Returns (tensors {HF name: array}, weights file name, sha256 of the weight bytes).
    For a sharded checkpoint the hash covers the shards' bytes in sorted file-name order."""
    try:
        found = safetensors_np.checkpoint_files(folder)
        if found is not None:
            kind, paths = found
            for p in paths:
                if not os.path.isfile(p):
                    raise ConvertError("shard %s listed in %s is missing" % (p, kind))
            return safetensors_np.load_checkpoint(folder), kind, sha256_files(paths)
    except safetensors_np.SafetensorsError as e:
        raise ConvertError(str(e))
    path = os.path.join(folder, "pytorch_model.bin")
    if os.path.isfile(path):
        return load_torch_bin(path), "pytorch_model.bin", sha256_files([path])
    raise ConvertError("no weights in %s: expected model.safetensors, model.safetensors.index.json or "
                       "pytorch_model.bin" % folder)


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


def read_labels(hp, n_classes):
    id2label = hp["id2label"]
    if id2label is None:
        note("config.json has no id2label: labels are LABEL_0 .. LABEL_%d" % (n_classes - 1))
        return ["LABEL_%d" % i for i in range(n_classes)]
    if not isinstance(id2label, dict):
        raise ConvertError("config.json id2label must be an object, got %r" % (id2label,))
    labels = {}
    for key, value in id2label.items():
        try:
            i = int(key)
        except ValueError:
            raise ConvertError("config.json id2label key %r is not an integer" % key)
        if str(i) != key or i in labels:
            raise ConvertError("config.json id2label key %r is not a canonical integer" % key)
        if not isinstance(value, str):
            raise ConvertError("config.json id2label[%s] is not a string: %r" % (key, value))
        labels[i] = value
    if sorted(labels) != list(range(len(labels))):
        raise ConvertError("config.json id2label keys must be exactly 0..%d, got %s"
                           % (len(labels) - 1, sorted(labels)))
    if len(labels) != n_classes:
        raise ConvertError("config.json id2label has %d labels but the classifier has %d rows"
                           % (len(labels), n_classes))
    return [labels[i] for i in range(n_classes)]


# ------------------------------------------------------------------------------------------------
# Vocabulary and tokenizer options
# ------------------------------------------------------------------------------------------------


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


AGGREGATIONS = ("none", "simple", "first", "average", "max")


def read_edgetag_json(folder):
    """The checked contents of folder/edgetag.json, or None when there is none."""
    path = os.path.join(folder, "edgetag.json")
    if not os.path.isfile(path):
        return None
    e = read_json(path, "edgetag.json")
    if not isinstance(e, dict):
        raise ConvertError("edgetag.json is not a JSON object")
    t = e.get("temperature", 1.0)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not (0 < t < float("inf")):
        raise ConvertError("edgetag.json temperature must be a positive number, got %r" % (t,))
    th = e.get("threshold")
    if th is not None and (isinstance(th, bool) or not isinstance(th, (int, float)) or not (0 <= th <= 2)):
        raise ConvertError("edgetag.json threshold must be null or a number in [0, 2], got %r" % (th,))
    v = e.get("model_version")
    if v is not None and (not isinstance(v, str) or not v):
        raise ConvertError("edgetag.json model_version must be a non-empty string, got %r" % (v,))
    prov = e.get("provenance", {})
    if not isinstance(prov, dict):
        raise ConvertError("edgetag.json provenance must be a JSON object, got %r" % (type(prov).__name__,))
    agg = e.get("aggregation")
    if agg is not None and agg not in AGGREGATIONS:
        raise ConvertError("edgetag.json aggregation must be one of %s, got %r" % (", ".join(AGGREGATIONS), agg))
    return {"temperature": float(t), "threshold": None if th is None else float(th), "model_version": v,
            "provenance": prov, "aggregation": agg}


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


# ------------------------------------------------------------------------------------------------
# Conversion
# ------------------------------------------------------------------------------------------------


def convert(folder, out_path, outtype="f32", task="auto", model_version=None, name=None, aggregation=None):
    """Converts; returns a one-line summary. Raises ConvertError on any user error. model_version None:
    edgetag.json's model_version when the folder has one, else "0"."""
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


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 1 (argparse's default is 2 + usage)
        print("convert.py: error: %s" % message, file=sys.stderr)
        sys.exit(1)


def main(argv=None):
    ap = _Parser(prog="convert.py", description="Convert a Hugging Face BERT folder to an edgetag GGUF file.")
    ap.add_argument("hf_dir", help="Hugging Face checkpoint folder")
    ap.add_argument("-o", "--out", required=True, help="output .gguf path")
    ap.add_argument("--outtype", choices=("f32", "f16"), default="f32", help="2-D tensor type (default f32)")
    ap.add_argument("--task", choices=("auto",) + TASKS, default="auto",
                    help="task (default: from config.json architectures)")
    ap.add_argument("--model-version", default=None,
                    help="edgetag.model.version (default: edgetag.json's model_version, else \"0\")")
    ap.add_argument("--name", help="general.name (default: the folder's name)")
    ap.add_argument("--aggregation", choices=AGGREGATIONS,
                    help="token classifiers: how their entities are best decoded, the engine's default "
                         "(edgetag.tagging.aggregation; default: edgetag.json's aggregation, else none written)")
    args = ap.parse_args(argv)
    try:
        print(convert(args.hf_dir, args.out, args.outtype, args.task, args.model_version, args.name,
                      aggregation=args.aggregation))
    except ConvertError as e:
        print("convert.py: error: %s" % e, file=sys.stderr)
        return 1
    except ggufio.GGUFError as e:
        print("convert.py: error: cannot write the GGUF file: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("convert.py: error: %s: %s" % (e.filename or "I/O", e.strerror or e), file=sys.stderr)
        return 1
    except MemoryError:
        print("convert.py: error: out of memory", file=sys.stderr)
        return 1
    return 0
