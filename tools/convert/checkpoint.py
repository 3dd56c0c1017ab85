"""What the converter reads from a Hugging Face checkpoint folder besides the vocabulary: config.json (the
hyper-parameters, validated, and the task), the weights (safetensors, sharded or not, or pytorch_model.bin),
the labels (id2label), and edgetag.json (calibration, escalation, version, provenance, aggregation)."""

import hashlib
import json
import os

from tools.convert.errors import ConvertError, note
from tools.formats import safetensors_np

TASK_BY_ARCH = {
    "BertModel": "embedding",
    "BertForMaskedLM": "embedding",
    "BertForPreTraining": "embedding",
    "BertForSequenceClassification": "sequence_classification",
    "BertForTokenClassification": "token_classification",
}
TASKS = ("embedding", "sequence_classification", "token_classification")


def read_json(path, what):
    """The JSON value of the file; a missing or unreadable file is a ConvertError naming what it is."""
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
    abstain = e.get("abstain_label")
    if abstain is not None and (not isinstance(abstain, str) or not abstain):
        raise ConvertError("edgetag.json abstain_label must be a non-empty string, got %r" % (abstain,))
    return {"temperature": float(t), "threshold": None if th is None else float(th), "model_version": v,
            "provenance": prov, "aggregation": agg, "abstain_label": abstain}
