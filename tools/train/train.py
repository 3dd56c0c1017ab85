"""train — train edgetag's student models: small BERT encoders, pre-trained with masked-language modelling on
the datasets' train text, fine-tuned per task, temperature-calibrated and given an escalation threshold.
Writes Hugging Face-layout folders that python3 -m tools.convert turns into GGUF files.

Usage (from the repository root; Debian's python3 with numpy and torch, CPU, 2 threads):
    /usr/bin/python3 -m tools.train vocab                        # build/train/vocab/  (WordPiece, cased)
    /usr/bin/python3 -m tools.train pretrain                     # build/train/mlm/    (BertForMaskedLM)
    /usr/bin/python3 -m tools.train finetune --task intent-clinc # build/train/intent-clinc/
    /usr/bin/python3 -m tools.train calibrate --task intent-clinc
    /usr/bin/python3 -m tools.train all                          # all of the above, every task, in order
    /usr/bin/python3 -m tools.train ablate --task maint-ner      # fine-tune from scratch vs from the MLM
    /usr/bin/python3 -m tools.train cards                        # build/train/MODEL_CARDS.md (drafts)
Common options: --out DIR (default build/train), --data DIR (default ../shared/data), --seed N (default
1234), --tasks a,b (for all), --preset full|tiny (tiny: toy sizes and data subsets, for tests),
--epochs/--lr/--batch/--warmup/--dropout/--synth to override a stage's hyper-parameters (recorded in
provenance).

Tasks (tools/data/tasks.py): intent-clinc (sequence classification), maint-ner, pii-ner, ner-general (token
classification).

Model (every task; PRESETS["full"]): BERT, hidden 256, 4 layers, 4 heads, FFN 1024, 256 positions, 2
token types, exact-erf GELU, LayerNorm eps 1e-12, vocabulary of VOCAB_SIZE cased WordPiece tokens learned
by tools/tokenizer/build_vocab.py from all datasets' train splits. Sequence classification = Hugging Face's
BertForSequenceClassification (pooler dense + tanh on [CLS], dropout, classifier); token classification =
BertForTokenClassification (dropout, classifier on every token). Weights initialised as Hugging Face does
(normal 0.02, zero biases, LayerNorm 1/0).

Tokenization: tools/tokenizer/wordpiece.py's "rust" flavour with character offsets, equal to the engine's C tokenizer
(ids and code-point offsets). Texts are cut to 256 tokens ([CLS] + 254 + [SEP]).

NER labels per subword token: B-X on the first token overlapping an entity, I-X on every later token of it
(later words too), O elsewhere; [CLS], [SEP] and padding get -100 (ignored by the loss).

Stages:
    pretrain   MLM on every train text of every dataset (tools/data/datasets.py iter_texts), one text per
               sequence, dynamic masking: 15% of the content tokens, of which 80% -> [MASK], 10% -> a
               random non-special token, 10% unchanged; loss on the selected tokens only.
    finetune   from build/train/mlm (or from scratch: --init scratch); AdamW, linear warm-up then linear
               decay, gradient clipping 1.0; the dev split is scored after each epoch and the best epoch's
               weights are kept (intent-clinc: accuracy; NER: span F1).
               pii-ner trains on the train split plus synthetic texts (--synth, a multiple of the train
               size; HPARAMS: 2), drawn afresh every epoch by augment_pii from the train split only: 1-3
               train texts joined, their entity values swapped for train values of the same type or for
               format-generated ones (cards, phones, e-mails, URLs, IPs, IBANs), plus code-written carrier
               sentences with generated US_SSN / US_DRIVER_LICENSE values (the types no train template
               holds). The old per-template value swapping (--augment) did not help: the templates stay the
               same, so the model keeps memorizing them, and split-value pieces (a house number) were swapped
               into whole-address slots.
    calibrate  dev logits from the saved folder through tools/eval/reference_bert.py (the PyTorch oracle);
               temperature scaling: T = exp(s), s minimizing the dev NLL (LBFGS, strong Wolfe) over the
               examples (NER: over every non-ignored token); then the escalation threshold by the rules of
               tools/eval/metrics.py (choose_intent_threshold: oos recall >= 0.90; choose_ner_threshold: at most
               20% of dev texts escalated). Writes edgetag.json.

Reproducibility: torch.manual_seed / numpy seeds per stage, a fixed data order (numpy RandomState permutations
of file order), torch.use_deterministic_algorithms(True), 2 threads: the same command on this machine gives
byte-identical model.safetensors. Hyper-parameters are fixed per stage in HPARAMS; --epochs etc. override.

Outputs under --out: vocab/, mlm/ (config.json, model.safetensors with the MLM head, vocab files, mlm.json),
and per task <task>/: config.json, model.safetensors, vocab.txt, tokenizer.json, tokenizer_config.json and
edgetag.json = {temperature, threshold, model_version, provenance, metrics, curve, rule}.
"""

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time

import numpy as np

from tools import ROOT
from tools.tokenizer import build_vocab
from tools.data import datasets
from tools.eval import metrics
from tools.formats import safetensors_np
from tools.data import tasks as tasks_mod
from tools.formats import tokenizer_json
from tools.tokenizer import wordpiece

DEFAULT_OUT = os.path.join(ROOT, "build", "train")
DEFAULT_SEED = 1234
MAX_LEN = 256
VOCAB_SIZE = 8000
THREADS = 2
MODEL_VERSION_PREFIX = "1"

PRESETS = {
    "full": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                 max_position_embeddings=256, type_vocab_size=2, vocab_size=VOCAB_SIZE, limit=None),
    # For tests: toy sizes, a few hundred texts per dataset and split.
    "tiny": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                 max_position_embeddings=256, type_vocab_size=2, vocab_size=400, limit=120),
}

# Stage hyper-parameters (full preset). epochs: passes over the train split; batch: texts per step.
HPARAMS = {
    "pretrain": dict(epochs=5, lr=1e-3, batch=128, warmup=0.06, dropout=0.1, weight_decay=0.01),
    "intent-clinc": dict(epochs=6, lr=6e-4, batch=32, warmup=0.06, dropout=0.1, weight_decay=0.01),
    "maint-ner": dict(epochs=40, lr=3e-4, batch=16, warmup=0.06, dropout=0.1, weight_decay=0.01),
    "pii-ner": dict(epochs=10, lr=3e-4, batch=16, warmup=0.06, dropout=0.1, weight_decay=0.01, synth=2.0),
    "ner-general": dict(epochs=4, lr=3e-4, batch=32, warmup=0.06, dropout=0.1, weight_decay=0.01),
}
TINY_HPARAMS = dict(epochs=1, lr=1e-3, batch=16, warmup=0.1, dropout=0.1, weight_decay=0.01)

ESCALATION = {"min_oos_recall": 0.90, "max_ner_escalation": 0.20}

_T0 = time.time()

# The process environment of a training run, set before torch loads (main() re-executes itself once with
# it): OpenMP threads sleep instead of spinning when idle (the 2 cores are shared: spinning threads made a
# step 5x slower under load), and Debian's OpenBLAS, when installed (libopenblas0-pthread), replaces the
# reference BLAS that python3-torch links by default (about 10x faster matrix products), with one BLAS
# thread (torch's own 2 threads do the rest). The system's default BLAS is not changed.
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
RUN_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_NUM_THREADS": "1"}


def reexec_with_run_env():
    """Re-executes `python3 -m tools.train` once with RUN_ENV (and OpenBLAS first on LD_LIBRARY_PATH when present)."""
    if os.environ.get("EDGETAG_TRAIN_ENV") == "1":
        return
    env = dict(os.environ)
    env.update(RUN_ENV)
    env["EDGETAG_TRAIN_ENV"] = "1"
    if os.path.isfile(os.path.join(OPENBLAS_DIR, "libblas.so.3")):
        env["LD_LIBRARY_PATH"] = OPENBLAS_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "tools.train"] + sys.argv[1:], env)


def blas_in_use():
    """The BLAS library loaded in this process (from /proc/self/maps), for provenance."""
    try:
        with open("/proc/self/maps", "r") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none found"


def log(msg):
    print("[%8.1fs] %s" % (time.time() - _T0, msg), flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path):
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


# ------------------------------------------------------------------------------------------------
# torch setup and the model (Hugging Face parameter names)
# ------------------------------------------------------------------------------------------------

torch = nn = F = None
Model = None  # the nn.Module class, made by build_model_classes() once torch is imported


def setup_torch():
    """Imports torch, 2 threads, deterministic algorithms."""
    global torch, nn, F
    if torch is None:
        import torch as _torch
        torch = _torch
        nn = _torch.nn
        F = _torch.nn.functional
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    return torch


def seed_all(seed):
    setup_torch()
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def build_model_classes():
    """The nn.Module classes (defined once torch is imported)."""
    global Model
    setup_torch()
    if Model is not None:
        return

    class Embeddings(nn.Module):
        def __init__(self, c, p):
            super().__init__()
            H = c["hidden_size"]
            self.word_embeddings = nn.Embedding(c["vocab_size"], H, padding_idx=c["pad_token_id"])
            self.position_embeddings = nn.Embedding(c["max_position_embeddings"], H)
            self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], H)
            self.LayerNorm = nn.LayerNorm(H, eps=c["layer_norm_eps"])
            self.dropout = nn.Dropout(p)

        def forward(self, ids):
            L = ids.shape[1]
            x = self.word_embeddings(ids) + self.token_type_embeddings(torch.zeros_like(ids))
            x = x + self.position_embeddings(torch.arange(L, device=ids.device))[None]
            return self.dropout(self.LayerNorm(x))

    class SelfAttention(nn.Module):
        def __init__(self, c, p):
            super().__init__()
            H = c["hidden_size"]
            self.heads = c["num_attention_heads"]
            self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
            self.dropout = nn.Dropout(p)

        def forward(self, x, mask):
            B, L, H = x.shape
            nh, d = self.heads, H // self.heads

            def split(t):
                return t.view(B, L, nh, d).permute(0, 2, 1, 3)
            q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + mask
            probs = self.dropout(F.softmax(scores, dim=-1))
            return torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, L, H)

    class AddNorm(nn.Module):  # attention.output and output: dense, dropout, residual, LayerNorm
        def __init__(self, n_in, c, p):
            super().__init__()
            self.dense = nn.Linear(n_in, c["hidden_size"])
            self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
            self.dropout = nn.Dropout(p)

        def forward(self, h, residual):
            return self.LayerNorm(self.dropout(self.dense(h)) + residual)

    class Attention(nn.Module):
        def __init__(self, c, p):
            super().__init__()
            setattr(self, "self", SelfAttention(c, p))
            self.output = AddNorm(c["hidden_size"], c, p)

        def forward(self, x, mask):
            return self.output(getattr(self, "self")(x, mask), x)

    class Intermediate(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

        def forward(self, x):
            return F.gelu(self.dense(x))  # exact erf GELU

    class Layer(nn.Module):
        def __init__(self, c, p):
            super().__init__()
            self.attention = Attention(c, p)
            self.intermediate = Intermediate(c)
            self.output = AddNorm(c["intermediate_size"], c, p)

        def forward(self, x, mask):
            x = self.attention(x, mask)
            return self.output(self.intermediate(x), x)

    class Encoder(nn.Module):
        def __init__(self, c, p):
            super().__init__()
            self.layer = nn.ModuleList([Layer(c, p) for _ in range(c["num_hidden_layers"])])

        def forward(self, x, mask):
            for layer in self.layer:
                x = layer(x, mask)
            return x

    class Pooler(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

        def forward(self, x):
            return torch.tanh(self.dense(x[:, 0]))

    class BertModel(nn.Module):
        def __init__(self, c, p, pooler):
            super().__init__()
            self.embeddings = Embeddings(c, p)
            self.encoder = Encoder(c, p)
            if pooler:
                self.pooler = Pooler(c)

        def forward(self, ids, attention_mask):
            mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
            return self.encoder(self.embeddings(ids), mask)

    class MLMTransform(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
            self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

        def forward(self, x):
            return self.LayerNorm(F.gelu(self.dense(x)))

    class MLMPredictions(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.transform = MLMTransform(c)
            self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))

    class MLMHead(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.predictions = MLMPredictions(c)

    class _Model(nn.Module):
        """kind: "mlm" (BertForMaskedLM, decoder tied to the word embeddings), "sequence_classification"
        or "token_classification"."""

        def __init__(self, c, kind, num_labels=0, dropout=0.1):
            super().__init__()
            self.kind = kind
            self.bert = BertModel(c, dropout, pooler=kind == "sequence_classification")
            if kind == "mlm":
                self.cls = MLMHead(c)
            else:
                self.dropout = nn.Dropout(dropout)
                self.classifier = nn.Linear(c["hidden_size"], num_labels)
            self.apply(self._init)

        @staticmethod
        def _init(m):
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.padding_idx is not None:
                    with torch.no_grad():
                        m.weight[m.padding_idx].zero_()
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

        def forward(self, ids, attention_mask, positions=None):
            h = self.bert(ids, attention_mask)
            if self.kind == "mlm":
                sel = h[positions]  # the masked tokens only: [n, H]
                t = self.cls.predictions.transform(sel)
                return F.linear(t, self.bert.embeddings.word_embeddings.weight, self.cls.predictions.bias)
            if self.kind == "sequence_classification":
                return self.classifier(self.dropout(self.bert.pooler(h)))
            return self.classifier(self.dropout(h))

    globals()["Model"] = _Model


def hf_state(model):
    """{HF name: float32 numpy array} of a model (the tied MLM decoder is not stored separately)."""
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}


def make_config(preset, vocab, kind, labels=None):
    p = PRESETS[preset]
    arch = {"mlm": "BertForMaskedLM", "sequence_classification": "BertForSequenceClassification",
            "token_classification": "BertForTokenClassification"}[kind]
    c = {
        "architectures": [arch],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": p["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": p["intermediate_size"],
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": p["max_position_embeddings"],
        "num_attention_heads": p["num_attention_heads"],
        "num_hidden_layers": p["num_hidden_layers"],
        "pad_token_id": vocab.index("[PAD]"),
        "position_embedding_type": "absolute",
        "type_vocab_size": p["type_vocab_size"],
        "vocab_size": len(vocab),
    }
    if labels is not None:
        c["id2label"] = {str(i): l for i, l in enumerate(labels)}
        c["label2id"] = {l: i for i, l in enumerate(labels)}
        c["num_labels"] = len(labels)
    if kind == "sequence_classification":
        c["problem_type"] = "single_label_classification"
    return c


def save_folder(folder, config, model, vocab_dir, extra_metadata=None):
    """config.json, model.safetensors, vocab.txt, tokenizer.json, tokenizer_config.json."""
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "config.json"), config)
    meta = {"format": "pt"}
    if extra_metadata:
        meta.update(extra_metadata)
    safetensors_np.save_file(hf_state(model), os.path.join(folder, "model.safetensors"), metadata=meta)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(vocab_dir, name), "rb") as src, open(os.path.join(folder, name), "wb") as dst:
            dst.write(src.read())


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------


def load_tokenizer(folder):
    return wordpiece.BertTokenizer.from_dir(folder, "rust")


def read_vocab(folder):
    return tokenizer_json.read_vocab(os.path.join(folder, "vocab.txt"))


def ner_token_tags(offsets, spans, n_content):
    """Tag names of the content tokens 1..n_content from character spans (module docstring)."""
    tags = ["O"] * n_content
    for s, e, typ in spans:
        first = True
        for i in range(n_content):
            a, b = offsets[i + 1]
            if a < e and b > s and tags[i] == "O":
                tags[i] = ("B-" if first else "I-") + typ
                first = False
    return tags


def encode_task(task, examples, tok):
    """Encoded examples: dicts with ids, offsets, and label (class id) or tags (tag names of the content
    tokens) + label_ids (per token, -100 at [CLS]/[SEP])."""
    label2id = {l: i for i, l in enumerate(task.labels)}
    out = []
    for text, y in examples:
        ids, tokens, offsets = tok.encode_offsets(text, MAX_LEN)
        ex = {"text": text, "ids": ids, "offsets": offsets, "tokens": tokens}
        if task.kind == "sequence_classification":
            ex["label"] = label2id[y]
        else:
            tags = ner_token_tags(offsets, y, len(ids) - 2)
            ex["spans"] = [tuple(s) for s in y]
            ex["tags"] = tags
            ex["label_ids"] = [-100] + [label2id[t] for t in tags] + [-100]
        out.append(ex)
    return out


def batch_order(lengths, batch, rng, shuffle=True, pool=50):
    """Lists of example indices: shuffled (by rng), grouped into pools of pool*batch examples sorted by
    length (little padding), cut into batches, the batches shuffled. Without shuffle: sorted by length."""
    n = len(lengths)
    if not shuffle:
        idx = sorted(range(n), key=lambda i: (lengths[i], i))
        return [idx[i:i + batch] for i in range(0, n, batch)]
    perm = rng.permutation(n)
    batches = []
    size = pool * batch
    for p in range(0, n, size):
        chunk = sorted(perm[p:p + size].tolist(), key=lambda i: lengths[i])
        batches += [chunk[i:i + batch] for i in range(0, len(chunk), batch)]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def collate(seqs, pad_id, label_seqs=None):
    L = max(len(s) for s in seqs)
    ids = np.full((len(seqs), L), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), L), dtype=np.int64)
    labels = None if label_seqs is None else np.full((len(seqs), L), -100, dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
        if labels is not None:
            labels[i, :len(s)] = label_seqs[i]
    out = (torch.from_numpy(ids), torch.from_numpy(mask))
    return out + ((torch.from_numpy(labels),) if labels is not None else ())


def limit_examples(examples, limit):
    return examples if limit is None else examples[:limit]


# ------------------------------------------------------------------------------------------------
# Optimisation
# ------------------------------------------------------------------------------------------------


def make_optimizer(model, hp, total_steps):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=hp["lr"], betas=(0.9, 0.999),
                            eps=1e-6)
    warm = max(1, int(round(hp["warmup"] * total_steps)))

    def factor(step):
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def stage_hparams(stage, args):
    hp = dict(TINY_HPARAMS if args.preset == "tiny" else HPARAMS[stage])
    for k in ("epochs", "lr", "batch", "warmup", "dropout", "augment", "synth"):
        v = getattr(args, k, None)
        if v is not None:
            hp[k] = v
    return hp


# ------------------------------------------------------------------------------------------------
# Stage: vocab
# ------------------------------------------------------------------------------------------------


def cmd_vocab(args):
    out = os.path.join(args.out, "vocab")
    p = PRESETS[args.preset]
    t0 = time.time()
    if p["limit"] is None:
        build_vocab.build(args.data, out, size=p["vocab_size"], cased=True, log=log)
    else:  # tiny: the first `limit` train texts of each dataset
        texts = []
        for d in datasets.DATASETS:
            texts += [t for _, _, t in datasets.iter_texts(args.data, ("train",), (d,))][:p["limit"]]
        counts = build_vocab.count_words(texts, build_vocab.make_normalizer(True))
        tokens = build_vocab.train_wordpiece(counts, p["vocab_size"])
        os.makedirs(out, exist_ok=True)
        tokenizer_json.write_vocab_txt(tokens, os.path.join(out, "vocab.txt"))
        tokenizer_json.write_tokenizer_files(tokens, out, lowercase=False, strip_accents=False)
    info = {"size": len(read_vocab(out)), "cased": True, "preset": args.preset, "seconds": time.time() - t0,
            "command": "python3 -m tools.train vocab" + preset_flag(args)}
    write_json(os.path.join(out, "vocab.json"), info)
    log("vocab: %d tokens in %s (%.1f s)" % (info["size"], out, info["seconds"]))


def preset_flag(args):
    return "" if args.preset == "full" else " --preset " + args.preset


# ------------------------------------------------------------------------------------------------
# Stage: pretrain (MLM)
# ------------------------------------------------------------------------------------------------


def mlm_texts(args, split):
    limit = PRESETS[args.preset]["limit"]
    texts = []
    for d in datasets.DATASETS:
        ts = [t for _, _, t in datasets.iter_texts(args.data, (split,), (d,))]
        texts += limit_examples(ts, limit)
    return texts


def mask_tokens(ids, mask, gen, vocab_size, first_normal, mask_id, special_ids):
    """BERT masking of a padded batch: returns (input ids, selected positions as a bool tensor, targets)."""
    special = torch.zeros_like(ids, dtype=torch.bool)
    for s in special_ids:
        special |= ids == s
    candidates = (mask == 1) & ~special
    r = torch.rand(ids.shape, generator=gen)
    selected = candidates & (r < 0.15)
    # every sequence gets at least one selected token (short texts would often get none)
    none = candidates.any(1) & ~selected.any(1)
    if none.any():
        rr = torch.rand(ids.shape, generator=gen).masked_fill(~candidates, -1.0)
        pick = rr.argmax(1)
        rows = torch.nonzero(none).flatten()
        selected[rows, pick[rows]] = True
    targets = ids[selected]
    r2 = torch.rand(ids.shape, generator=gen)
    rand_ids = torch.randint(first_normal, vocab_size, ids.shape, generator=gen)
    new = ids.clone()
    new[selected & (r2 < 0.8)] = mask_id
    use_rand = selected & (r2 >= 0.8) & (r2 < 0.9)
    new[use_rand] = rand_ids[use_rand]
    return new, selected, targets


def mlm_eval(model, seqs, pad_id, vocab, seed, batch=128):
    """(loss, accuracy) of the MLM on seqs with a fixed masking."""
    gen = torch.Generator().manual_seed(seed)
    specials = [vocab.index(t) for t in wordpiece.SPECIAL_TOKENS if t in vocab]
    model.eval()
    tot_loss = tot_ok = tot_n = 0.0
    with torch.no_grad():
        for b in batch_order([len(s) for s in seqs], batch, None, shuffle=False):
            ids, mask = collate([seqs[i] for i in b], pad_id)
            inp, sel, tgt = mask_tokens(ids, mask, gen, len(vocab), len(wordpiece.SPECIAL_TOKENS),
                                        vocab.index("[MASK]"), specials)
            logits = model(inp, mask, sel)
            tot_loss += F.cross_entropy(logits, tgt, reduction="sum").item()
            tot_ok += (logits.argmax(-1) == tgt).sum().item()
            tot_n += tgt.numel()
    return tot_loss / max(1, tot_n), tot_ok / max(1, tot_n)


def cmd_pretrain(args):
    setup_torch()
    build_model_classes()
    seed_all(args.seed)
    vocab_dir = os.path.join(args.out, "vocab")
    out = os.path.join(args.out, "mlm")
    vocab = read_vocab(vocab_dir)
    tok = load_tokenizer(vocab_dir)
    hp = stage_hparams("pretrain", args)
    train = [tok.encode_offsets(t, MAX_LEN)[0] for t in mlm_texts(args, "train")]
    dev = [tok.encode_offsets(t, MAX_LEN)[0] for t in mlm_texts(args, "dev")]
    n_tokens = sum(len(s) for s in train)
    log("pretrain: %d train texts (%d tokens), %d dev texts; %s" % (len(train), n_tokens, len(dev), hp))
    config = make_config(args.preset, vocab, "mlm")
    model = Model(config, "mlm", dropout=hp["dropout"])
    n_params = sum(p.numel() for p in model.parameters())
    log("pretrain: model %d parameters" % n_params)
    rng = np.random.RandomState(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    lengths = [len(s) for s in train]
    steps_per_epoch = len(batch_order(lengths, hp["batch"], np.random.RandomState(0)))
    total = steps_per_epoch * hp["epochs"]
    if args.max_steps:
        total = min(total, args.max_steps)
    opt, sched = make_optimizer(model, hp, total)
    specials = [vocab.index(t) for t in wordpiece.SPECIAL_TOKENS if t in vocab]
    pad_id, mask_id = vocab.index("[PAD]"), vocab.index("[MASK]")
    t0 = time.time()
    step = seen = 0
    history = []
    for epoch in range(hp["epochs"]):
        model.train()
        run_loss = run_n = 0.0
        for b in batch_order(lengths, hp["batch"], rng):
            if step >= total:
                break
            ids, mask = collate([train[i] for i in b], pad_id)
            inp, sel, tgt = mask_tokens(ids, mask, gen, len(vocab), len(wordpiece.SPECIAL_TOKENS), mask_id, specials)
            logits = model(inp, mask, sel)
            loss = F.cross_entropy(logits, tgt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            run_loss += loss.item()
            run_n += 1
            seen += int(mask.sum())
            if step % 100 == 0:
                log("pretrain: step %d/%d epoch %d loss %.3f lr %.2e, %.0f tokens/s (%.0f s)" % (
                    step, total, epoch + 1, run_loss / run_n, sched.get_last_lr()[0], seen / (time.time() - t0),
                    time.time() - t0))
        dl, da = mlm_eval(model, dev, pad_id, vocab, args.seed)
        history.append({"epoch": epoch + 1, "train_loss": run_loss / max(1, run_n), "dev_loss": dl, "dev_accuracy": da,
                        "seconds": time.time() - t0})
        log("pretrain: epoch %d train loss %.3f, dev MLM loss %.3f accuracy %.3f (%.0f s)"
            % (epoch + 1, run_loss / max(1, run_n), dl, da, time.time() - t0))
        if step >= total:
            break
    seconds = time.time() - t0
    save_folder(out, config, model, vocab_dir)
    info = {"preset": args.preset, "seed": args.seed, "hparams": hp, "steps": step, "train_texts": len(train),
            "train_tokens": n_tokens, "parameters": n_params, "seconds": seconds, "history": history,
            "vocab_sha256": sha256_file(os.path.join(vocab_dir, "vocab.txt")),
            "weights_sha256": sha256_file(os.path.join(out, "model.safetensors")),
            "command": "python3 -m tools.train pretrain" + preset_flag(args) + override_flags(args),
            "torch": torch.__version__, "blas": blas_in_use(), "threads": THREADS,
            "data_files": data_provenance(args.data, "mlm")}
    write_json(os.path.join(out, "mlm.json"), info)
    log("pretrain: wrote %s (%d steps, %.0f s)" % (out, step, seconds))


def override_flags(args):
    s = ""
    for k in ("epochs", "lr", "batch", "warmup", "dropout", "augment", "synth"):
        v = getattr(args, k, None)
        if v is not None:
            s += " --%s %s" % (k, v)
    if getattr(args, "max_steps", None):
        s += " --max-steps %d" % args.max_steps
    if getattr(args, "seed", DEFAULT_SEED) != DEFAULT_SEED:
        s += " --seed %d" % args.seed
    return s


MLM_FILES = ["clinc150/data_full.json", "wnut17/wnut17train.conll", "btc/btc.train",
             "maintie/maintie_gold_train.bio", "presidio_synth_pii/synth_dataset_v2.json"]


def data_provenance(data_dir, task_name):
    files = MLM_FILES if task_name == "mlm" else tasks_mod.DATA_FILES[task_name]
    return [{"file": f, "sha256": sha256_file(os.path.join(data_dir, f))} for f in files]


# ------------------------------------------------------------------------------------------------
# Evaluation (shared with tools/eval/pytorch.py)
# ------------------------------------------------------------------------------------------------


def forward_logits(fn, encoded, pad_id, batch=64):
    """Per example logits (numpy float32): [C] for classification, [n_tokens, C] (the whole sequence,
    [CLS]/[SEP] included) for token classification. fn(ids, mask) -> logits tensor."""
    out = [None] * len(encoded)
    lengths = [len(e["ids"]) for e in encoded]
    with torch.no_grad():
        for b in batch_order(lengths, batch, None, shuffle=False):
            ids, mask = collate([encoded[i]["ids"] for i in b], pad_id)
            lg = fn(ids, mask).numpy().astype(np.float32)
            for j, i in enumerate(b):
                out[i] = lg[j] if lg.ndim == 2 else lg[j, :lengths[i]]
    return out


def word_tags(text, spans):
    """Word-level IOB2 gold tags of a text made of space-joined words (MaintIE, BTC, WNUT)."""
    words = text.split(" ")
    offs = datasets.token_offsets(words)
    tags = ["O"] * len(words)
    for s, e, typ in spans:
        for k, (a, b) in enumerate(offs):
            if a >= s and b <= e:
                tags[k] = ("B-" if a == s else "I-") + typ
    return offs, tags


def evaluate(task, encoded, logits, temperature=1.0, threshold=None):
    """Dev measures of per-example logits at a temperature (and threshold, when given). Returns
    (metrics dict, curve rows, per-example details)."""
    labels = task.labels
    if task.kind == "sequence_classification":
        L = np.stack(logits).astype(np.float64)
        P = metrics.softmax(L, temperature)
        y = np.array([e["label"] for e in encoded])
        pred = P.argmax(1)
        top = P.max(1)
        yt = [labels[i] for i in y]
        yp = [labels[i] for i in pred]
        m = metrics.clinc_scores(yt, yp)
        m["nll"] = metrics.nll(P[np.arange(len(y)), y])
        m["ece"] = metrics.ece(top, pred == y)
        m["n"] = len(y)
        curve = metrics.intent_curve(yt, yp, top)
        if threshold is not None:
            esc = [bool(p < threshold) or l == "oos" for p, l in zip(top, yp)]
            at = metrics.clinc_scores(yt, yp, esc)
            del at["accuracy"]
            at["escalation_rate"] = sum(esc) / len(esc)
            kept = [i for i in range(len(y)) if not esc[i]]
            at["local_accuracy"] = sum(1 for i in kept if yp[i] == yt[i]) / len(kept) if kept else 1.0
            m["at_threshold"] = at
        return m, curve, {"pred": yp, "top": top.tolist()}
    # token classification
    label2id = {l: i for i, l in enumerate(labels)}
    gold_tags, pred_tags, gold_spans, pred_spans, text_scores = [], [], [], [], []
    tok_conf, tok_ok, tok_ptrue = [], [], []
    gold_words, pred_words, first_spans = [], [], []
    word_level = task.name in ("maint-ner", "ner-general")
    for e, lg in zip(encoded, logits):
        P = metrics.softmax(np.asarray(lg, dtype=np.float64)[1:-1], temperature)
        pi = P.argmax(1)
        pt = [labels[i] for i in pi]
        gi = np.array([label2id[t] for t in e["tags"]], dtype=np.int64)
        conf = P.max(1)
        tok_conf += conf.tolist()
        tok_ok += (pi == gi).tolist()
        tok_ptrue += P[np.arange(len(gi)), gi].tolist()
        gold_tags.append(e["tags"])
        pred_tags.append(pt)
        offs = e["offsets"][1:-1]
        ents = metrics.iob2_entities(pt)
        spans = [(offs[s][0], offs[t - 1][1], typ) for typ, s, t in ents]
        scores = [float(conf[s:t].mean()) for _, s, t in ents]
        pred_spans.append(spans)
        gold_spans.append(e["spans"])
        # "first subword" decoding: a ## continuation takes the tag of the piece before it (B-X/I-X -> I-X)
        pf = list(pt)
        for k, piece in enumerate(e["tokens"][1:-1]):
            if k and piece.startswith("##"):
                pf[k] = "O" if pf[k - 1] == "O" else "I-" + pf[k - 1][2:]
        first_spans.append(metrics.tags_to_spans(pf, offs))
        text_scores.append(min(scores) if scores else float("inf"))
        if word_level:
            woffs, wg = word_tags(e["text"], e["spans"])
            wp = ["O"] * len(woffs)
            starts = {a: k for k, (a, _) in enumerate(woffs)}
            for k, (a, _) in enumerate(offs):
                if a in starts and wp[starts[a]] == "O":
                    wp[starts[a]] = pt[k]
            gold_words.append(wg)
            pred_words.append(wp)
    ent = metrics.entity_prf(gold_tags, pred_tags)
    sp = metrics.span_prf(gold_spans, pred_spans)
    m = {"entity_f1": ent["f1"], "entity_precision": ent["precision"], "entity_recall": ent["recall"],
         "span_f1": sp["f1"], "span_precision": sp["precision"], "span_recall": sp["recall"],
         "token_accuracy": float(np.mean(tok_ok)), "nll": metrics.nll(tok_ptrue), "ece": metrics.ece(tok_conf, tok_ok),
         "per_type_entity": {t: v for t, v in ent["per_type"].items()},
         "per_type_span": {t: v for t, v in sp["per_type"].items()},
         "texts": len(encoded), "tokens": len(tok_ok), "gold_entities": sp["support"]}
    fs = metrics.span_prf(gold_spans, first_spans)
    m["span_f1_first_subword"] = fs["f1"]
    m["span_precision_first_subword"] = fs["precision"]
    m["span_recall_first_subword"] = fs["recall"]
    if word_level:
        w = metrics.entity_prf(gold_words, pred_words)
        m["word_entity_f1"] = w["f1"]
        m["word_entity_precision"] = w["precision"]
        m["word_entity_recall"] = w["recall"]
        m["per_type_word_entity"] = w["per_type"]
    curve = metrics.ner_curve(gold_spans, pred_spans, text_scores)
    if threshold is not None:
        keep = [i for i in range(len(encoded)) if not text_scores[i] < threshold]
        s = metrics.span_prf([gold_spans[i] for i in keep], [pred_spans[i] for i in keep])
        m["at_threshold"] = {"escalation_rate": 1 - len(keep) / len(encoded), "local_f1": s["f1"],
                             "local_precision": s["precision"], "local_recall": s["recall"]}
    return m, curve, {"pred_tags": pred_tags, "pred_spans": pred_spans, "text_scores": text_scores}


def selection_score(task, m):
    return m["accuracy"] if task.kind == "sequence_classification" else m["span_f1"]


def summary(task, m):
    if task.kind == "sequence_classification":
        s = "accuracy %.4f in-scope %.4f oos recall %.3f precision %.3f nll %.4f ece %.4f" % (
            m["accuracy"], m["in_scope_accuracy"], m["oos_recall"], m["oos_precision"], m["nll"], m["ece"])
    else:
        s = "entity F1 %.4f (P %.3f R %.3f) span F1 %.4f token acc %.4f nll %.4f ece %.4f" % (
            m["entity_f1"], m["entity_precision"], m["entity_recall"], m["span_f1"], m["token_accuracy"],
            m["nll"], m["ece"])
        if "word_entity_f1" in m:
            s += " word-level entity F1 %.4f" % m["word_entity_f1"]
        if "span_f1_first_subword" in m:
            s += " first-subword span F1 %.4f" % m["span_f1_first_subword"]
    if "at_threshold" in m:
        s += " | at threshold: " + ", ".join("%s %.4f" % kv for kv in m["at_threshold"].items())
    return s


# ------------------------------------------------------------------------------------------------
# Stage: finetune
# ------------------------------------------------------------------------------------------------


def augment_values(examples, copies, seed):
    """Entity-value swapping, for NER tasks whose train texts are templates (pii-ner): `copies` extra
    copies of every train text holding an entity, each entity replaced by a value of the same type drawn
    (numpy RandomState(seed)) from the train split's distinct values of that type (sorted). The templates
    are unchanged; the values no longer go with their template, so the model has to read the values."""
    pool = {}
    for text, spans in examples:
        for s, e, t in spans:
            pool.setdefault(t, set()).add(text[s:e])
    pool = {t: sorted(v) for t, v in pool.items()}
    rng = np.random.RandomState(seed)
    out = list(examples)
    for _ in range(copies):
        for text, spans in examples:
            if not spans:
                continue
            parts, new, pos, cur = [], [], 0, 0
            for s, e, t in spans:
                parts.append(text[pos:s])
                cur += s - pos
                v = pool[t][rng.randint(len(pool[t]))]
                parts.append(v)
                new.append((cur, cur + len(v), t))
                cur += len(v)
                pos = e
            parts.append(text[pos:])
            out.append(("".join(parts), new))
    return out


# Synthetic training texts for pii-ner (augment_pii). Everything here is generated by code from the TRAIN
# split's examples and from format rules; no dev or test text, value or template is used.
PII_STRUCTURED = ("CREDIT_CARD", "DOMAIN_NAME", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER",
                  "US_DRIVER_LICENSE", "US_SSN")
PII_SEPARATORS = (" ", " ", "\n", "\n\n", ". ", "\n", " | ", "; ", "\n\n", " ")
# Carrier sentences for the two types that no train template holds (US_SSN, US_DRIVER_LICENSE) and, with the
# same weight, for the other structured types: written for this augmentation (generic phrasings of how such
# identifiers are mentioned; none is a Presidio template). "{}" is the value.
PII_CARRIERS = {
    "US_SSN": ("SSN: {}", "SSN {}", "Social Security Number: {}", "social security no. {}",
               "Please verify the SSN {} before payroll runs.", "The applicant listed {} as her SSN.",
               "Tax ID (SSN) {} is on file.", "Can you update the SSN on my record to {}?",
               "ssn:{}", "I typed {} in the SSN field but it was rejected."),
    "US_DRIVER_LICENSE": ("Driver license: {}", "DL# {}", "DL {}", "License No. {} (issued by the DMV)",
                          "Please scan the driving licence {} at the desk.",
                          "Her driver license, number {}, expired last year.",
                          "Enter the driver license number {} to continue.", "driver lic. {}",
                          "The officer wrote down license {} and let him go.", "ID type: driver license, no. {}"),
    "CREDIT_CARD": ("Card: {}", "card no. {}", "Charge it to {} please.", "The payment with {} failed.",
                    "CC {}", "Visa {} exp 09/27"),
    "EMAIL_ADDRESS": ("Email: {}", "mail {}", "Reach me at {} any time.", "Contact {} for details.",
                      "From: {}", "cc: {}"),
    "PHONE_NUMBER": ("Tel: {}", "Phone {}", "Call {} after 5pm.", "mobile: {}", "Text me on {} when you land.",
                     "Fax {}"),
    "IP_ADDRESS": ("IP: {}", "Server {} is down again.", "login from {} was blocked", "host={}"),
    "IBAN_CODE": ("IBAN: {}", "Wire it to {} today.", "account (IBAN) {}", "iban {}"),
    "DOMAIN_NAME": ("Site: {}", "Visit {} for more.", "URL {}", "See {} for the details."),
}
_SYL = ("an", "ber", "cor", "da", "el", "fin", "gar", "hol", "is", "jo", "ka", "lin", "mar", "no", "or", "pe",
        "qua", "ri", "sol", "ta", "ul", "ven", "wes", "xa", "yo", "zen", "tech", "soft", "net", "hub", "ly")
_TLDS = ("com", "org", "net", "io", "de", "fr", "co.uk", "com.au", "it", "nl", "se", "pl", "ca", "us", "info",
         "biz", "ch", "es", "jp", "com.br")
_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "mail.com", "example.org", "proton.me",
         "web.de", "gmx.net", "icloud.com")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _digits(rng, n):
    return "".join(str(rng.randint(10)) for _ in range(n))


def _luhn_complete(prefix, length, rng):
    body = prefix + _digits(rng, length - len(prefix) - 1)
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def _word(rng, cap=True):
    w = "".join(_SYL[rng.randint(len(_SYL))] for _ in range(1 + rng.randint(3)))
    return w.capitalize() if cap else w


def gen_pii_value(typ, rng, names):
    """A synthetic value of a structured PII type, from format rules (names: train PERSON values, for e-mail
    local parts)."""
    r = rng.randint
    if typ == "CREDIT_CARD":
        prefix, length = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
                          ("6011", 16), ("35", 16), ("30", 14), ("36", 14), ("62", 16), ("4", 19)][r(13)]
        n = _luhn_complete(prefix, length, rng)
        g = r(4)
        if g == 1 and length == 16:
            return " ".join(n[i:i + 4] for i in range(0, 16, 4))
        if g == 2 and length == 16:
            return "-".join(n[i:i + 4] for i in range(0, 16, 4))
        return n
    if typ == "US_SSN":
        area = 1 + r(899)
        while area == 666:
            area = 1 + r(899)
        a, b, c = "%03d" % area, "%02d" % (1 + r(99)), "%04d" % (1 + r(9999))
        return [a + "-" + b + "-" + c, a + "-" + b + "-" + c, a + " " + b + " " + c, a + b + c][r(4)]
    if typ == "US_DRIVER_LICENSE":  # common US state formats
        k = r(9)
        if k == 0:
            return _LETTERS[r(26)] + _digits(rng, 7)            # e.g. California
        if k == 1:
            return _LETTERS[r(26)] + _digits(rng, 12)           # e.g. Florida, Michigan, Maryland
        if k == 2:
            return _digits(rng, 9)                              # e.g. New York
        if k == 3:
            return _digits(rng, 7 + r(2))                       # e.g. 7-8 digit states
        if k == 4:
            return _LETTERS[r(26)] + _digits(rng, 11 + 2 * r(2))  # e.g. Illinois, Wisconsin
        if k == 5:
            return _LETTERS[r(26)] + _digits(rng, 14)
        if k == 6:
            return "".join(_LETTERS[r(26)] for _ in range(2)) + _digits(rng, 6)
        if k == 7:
            return _digits(rng, 3) + " " + _digits(rng, 3) + " " + _digits(rng, 3)
        return _LETTERS[r(26)] + "-" + _digits(rng, 3) + "-" + _digits(rng, 3) + "-" + _digits(rng, 3)
    if typ == "PHONE_NUMBER":
        fmts = ("###-###-####", "(###) ###-####", "### ####", "#### ######", "+## ## #### ####", "##-##-##-##",
                "(##) ####-####", "0### ### ###", "+1-###-###-####", "###.###.####", "## ### ### ####",
                "(0#) #### ####", "#### ####", "+## ### ### ###", "0#### ######", "### ### ###")
        return "".join(str(r(10)) if ch == "#" else ch for ch in fmts[r(len(fmts))])
    if typ == "IP_ADDRESS":
        if r(6) == 0:
            return ":".join("%x" % r(65536) for _ in range(8))
        return ".".join(str(r(256)) for _ in range(4))
    if typ == "IBAN_CODE":
        cc, n = [("GB", None), ("DE", 18), ("FR", 23), ("NL", None), ("ES", 20), ("IT", None), ("CH", 17),
                 ("BE", 12), ("PL", 24), ("AT", 16)][r(10)]
        if cc in ("GB", "NL"):
            bban = "".join(_LETTERS[r(26)] for _ in range(4)) + _digits(rng, 14 if cc == "GB" else 10)
        elif cc == "IT":
            bban = _LETTERS[r(26)] + _digits(rng, 22)
        else:
            bban = _digits(rng, n)
        s = cc + "%02d" % r(100) + bban
        if r(4) == 0:
            s = " ".join(s[i:i + 4] for i in range(0, len(s), 4))
        return s.lower() if r(8) == 0 else s
    if typ == "EMAIL_ADDRESS" or typ == "DOMAIN_NAME":
        if typ == "EMAIL_ADDRESS":
            parts = names[r(len(names))].replace(".", "").split()
            parts = [p for p in parts if p.isalpha()] or [_word(rng)]
            first, last = parts[0], parts[-1]
            local = [first + last, first.lower() + "." + last.lower(), first[0].lower() + last.lower(),
                     first + last + str(r(100)), last.lower() + "_" + first.lower(), first.lower() + str(r(1000))][r(6)]
            dom = _MAIL[r(len(_MAIL))] if r(2) else _word(rng, False) + "." + _TLDS[r(len(_TLDS))]
            return local + "@" + dom
        host = _word(rng, bool(r(2))) + (_word(rng) if r(2) else "") + "." + _TLDS[r(len(_TLDS))]
        return ["", "www.", "http://", "https://", "http://www.", "https://www."][r(6)] + host + ("/" if r(2) else "")
    raise ValueError(typ)


def _is_part(text, spans, i):
    """Whether spans[i] is one piece of a value split over several spans of its type (Presidio's multi-part
    templates, e.g. "{{STREET_ADDRESS}} {{STREET_ADDRESS}}"): a neighbour span of the same type separated
    from it by blanks or commas only. Swapped values come from the pool of the same kind (piece or whole)."""
    s, e, t = spans[i]
    for j in (i - 1, i + 1):
        if 0 <= j < len(spans) and spans[j][2] == t:
            gap = text[spans[j][1]:s] if j < i else text[e:spans[j][0]]
            if gap.strip(" ,\n") == "":
                return True
    return False


def augment_pii(examples, n_new, seed, p_generated=0.5, p_carrier=0.6):
    """n_new synthetic pii-ner training texts, appended to examples (deterministic in seed). Each one joins
    1-3 train examples (random order, random separators) with every entity value replaced by a value of the
    same type: for structured types (PII_STRUCTURED) a generated one (gen_pii_value) with probability
    p_generated, else one drawn from the train split's distinct values of that type and kind (_is_part: a
    piece of a split value or a whole value); with probability p_carrier a carrier sentence (PII_CARRIERS)
    holding a generated structured value (US_SSN or US_DRIVER_LICENSE in 40% of them, else any structured
    type) is inserted at a random place, and a second one with probability p_carrier / 3. The separators
    are mostly blanks and line breaks, which the tokenizer drops: the model has to find where a value ends
    from the value's form (an e-mail followed by a capitalized word on the next line). Joining examples breaks the one-template
    = one-text pattern the model otherwise memorizes, and the generated values make it read the values' form
    (the only cue for identifiers in an unseen context)."""
    rng = np.random.RandomState(seed)
    pool, part_pool = {}, {}
    for text, spans in examples:
        for i, (s, e, t) in enumerate(spans):
            pool.setdefault(t, set()).add(text[s:e])
            part_pool.setdefault((t, _is_part(text, spans, i)), set()).add(text[s:e])
    pool = {t: sorted(v) for t, v in pool.items()}
    part_pool = {k: sorted(v) for k, v in part_pool.items()}
    names = pool.get("PERSON", ["Alex Smith"])
    with_spans = [ex for ex in examples if ex[1]]
    carrier_types = sorted(PII_CARRIERS)
    out = list(examples)

    def refill(text, spans):
        parts, new, pos, cur = [], [], 0, 0
        for i, (s, e, t) in enumerate(spans):
            parts.append(text[pos:s])
            cur += s - pos
            if t in PII_STRUCTURED and (t not in pool or rng.rand() < p_generated):
                v = gen_pii_value(t, rng, names)
            else:
                vs = part_pool[(t, _is_part(text, spans, i))]
                v = vs[rng.randint(len(vs))]
            parts.append(v)
            new.append((cur, cur + len(v), t))
            cur += len(v)
            pos = e
        parts.append(text[pos:])
        return "".join(parts), new

    for _ in range(n_new):
        k = 1 + rng.randint(3)
        pieces = []
        for _ in range(k):
            src = with_spans if rng.rand() < 0.85 else examples
            pieces.append(refill(*src[rng.randint(len(src))]))
        for _ in range(int(rng.rand() < p_carrier) + int(rng.rand() < p_carrier / 3)):
            t = ("US_SSN", "US_DRIVER_LICENSE")[rng.randint(2)] if rng.rand() < 0.4 else \
                carrier_types[rng.randint(len(carrier_types))]
            c = PII_CARRIERS[t][rng.randint(len(PII_CARRIERS[t]))]
            v = gen_pii_value(t, rng, names)
            a = c.index("{}")
            pieces.insert(rng.randint(len(pieces) + 1), (c.replace("{}", v), [(a, a + len(v), t)]))
        text, spans = "", []
        for i, (pt, ps) in enumerate(pieces):
            if i:
                text += PII_SEPARATORS[rng.randint(len(PII_SEPARATORS))]
            spans += [(s + len(text), e + len(text), t) for s, e, t in ps]
            text += pt
        if rng.rand() < 0.05 and len(text.lower()) == len(text):
            text = text.lower()
        out.append((text, spans))
    return out


def task_data(args, task, tok, hp=None, epoch=0, dev=True):
    """(encoded train, encoded dev). pii-ner with hp["synth"]: the train split plus synth x its size
    synthetic texts (augment_pii), drawn afresh for every epoch (seed + 1000 * epoch)."""
    limit = PRESETS[args.preset]["limit"]
    raw = limit_examples(task.examples("train", args.data), limit)
    if hp and hp.get("augment"):
        raw = augment_values(raw, hp["augment"], args.seed)
    if hp and hp.get("synth") and task.name == "pii-ner":
        raw = augment_pii(raw, int(round(hp["synth"] * len(raw))), args.seed + 1000 * epoch)
    train = encode_task(task, raw, tok)
    if not dev:
        return train, None
    return train, encode_task(task, limit_examples(task.examples("dev", args.data), limit), tok)


def resample_each_epoch(task, hp):
    return bool(hp.get("synth")) and task.name == "pii-ner"


def finetune(args, task_name, init="mlm", out=None):
    """Fine-tunes one task; returns (out folder, info)."""
    setup_torch()
    build_model_classes()
    seed_all(args.seed)
    task = tasks_mod.get(task_name, args.data)
    vocab_dir = os.path.join(args.out, "vocab")
    vocab = read_vocab(vocab_dir)
    tok = load_tokenizer(vocab_dir)
    hp = stage_hparams(task_name, args)
    out = out or os.path.join(args.out, task_name)
    train, dev = task_data(args, task, tok, hp)
    log("finetune %s: %d train, %d dev examples, %d labels, init %s; %s" % (
        task_name, len(train), len(dev), len(task.labels), init, hp))
    config = make_config(args.preset, vocab, task.kind, task.labels)
    model = Model(config, task.kind, len(task.labels), dropout=hp["dropout"])
    init_sha = None
    if init == "mlm":
        mlm_dir = os.path.join(args.out, "mlm")
        state = safetensors_np.load_checkpoint(mlm_dir)
        own = model.state_dict()
        loaded = 0
        with torch.no_grad():
            for k, v in state.items():
                if k.startswith("bert.") and k in own:
                    own[k].copy_(torch.from_numpy(np.array(v)))
                    loaded += 1
        init_sha = sha256_file(os.path.join(mlm_dir, "model.safetensors"))
        log("finetune %s: %d tensors from %s" % (task_name, loaded, mlm_dir))
    n_params = sum(p.numel() for p in model.parameters())
    pad_id = vocab.index("[PAD]")
    rng = np.random.RandomState(args.seed)
    lengths = [len(e["ids"]) for e in train]
    steps_per_epoch = len(batch_order(lengths, hp["batch"], np.random.RandomState(0)))
    total = steps_per_epoch * hp["epochs"]
    if args.max_steps:
        total = min(total, args.max_steps)
    opt, sched = make_optimizer(model, hp, total)
    t0 = time.time()
    step, best, best_state, best_epoch, history = 0, -1.0, None, 0, []
    for epoch in range(hp["epochs"]):
        if epoch and resample_each_epoch(task, hp):
            train, _ = task_data(args, task, tok, hp, epoch=epoch, dev=False)
            lengths = [len(e["ids"]) for e in train]
        model.train()
        run_loss = run_n = 0.0
        for b in batch_order(lengths, hp["batch"], rng):
            if step >= total:
                break
            if task.kind == "sequence_classification":
                ids, mask = collate([train[i]["ids"] for i in b], pad_id)
                y = torch.tensor([train[i]["label"] for i in b], dtype=torch.long)
                loss = F.cross_entropy(model(ids, mask), y)
            else:
                ids, mask, y = collate([train[i]["ids"] for i in b], pad_id, [train[i]["label_ids"] for i in b])
                lg = model(ids, mask)
                loss = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            run_loss += loss.item()
            run_n += 1
        model.eval()
        dev_logits = forward_logits(lambda i, m: model(i, m), dev, pad_id)
        m, _, _ = evaluate(task, dev, dev_logits)
        score = selection_score(task, m)
        history.append({"epoch": epoch + 1, "train_loss": run_loss / max(1, run_n), "dev": {
            k: v for k, v in m.items() if not isinstance(v, dict)}, "seconds": time.time() - t0})
        log("finetune %s: epoch %d/%d loss %.4f dev %s (%.0f s)" % (
            task_name, epoch + 1, hp["epochs"], run_loss / max(1, run_n), summary(task, m), time.time() - t0))
        if score > best:
            best, best_epoch = score, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if step >= total:
            break
    seconds = time.time() - t0
    model.load_state_dict(best_state)
    save_folder(out, config, model, vocab_dir)
    weights_sha = sha256_file(os.path.join(out, "model.safetensors"))
    prov = {
        "task": task_name, "preset": args.preset, "seed": args.seed, "hparams": hp, "init": init,
        "init_sha256": init_sha, "best_epoch": best_epoch, "epochs_run": len(history), "steps": step,
        "train_examples": len(train), "dev_examples": len(dev), "parameters": n_params,
        "finetune_seconds": seconds, "max_length": MAX_LEN,
        "data_dir": "../shared/data", "data_files": data_provenance(args.data, task_name),
        "vocab_sha256": sha256_file(os.path.join(vocab_dir, "vocab.txt")),
        "weights_sha256": weights_sha,
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "threads": THREADS, "machine": platform.machine(), "blas": blas_in_use(),
        "run_env": {k: os.environ.get(k) for k in RUN_ENV},
        "commands": ["python3 -m tools.train vocab" + preset_flag(args), "python3 -m tools.train pretrain" + preset_flag(args),
                     "python3 -m tools.train finetune --task %s%s%s%s" % (task_name, preset_flag(args), override_flags(args),
                                                                "" if init == "mlm" else " --init scratch")]
        if init == "mlm" else ["python3 -m tools.train vocab" + preset_flag(args),
                               "python3 -m tools.train finetune --task %s --init scratch%s%s" % (
                                   task_name, preset_flag(args), override_flags(args))],
        "history": history,
    }
    mlm_info = os.path.join(args.out, "mlm", "mlm.json")
    if init == "mlm" and os.path.isfile(mlm_info):
        mi = read_json(mlm_info)
        prov["pretrain"] = {k: mi.get(k) for k in ("seconds", "steps", "hparams", "train_texts", "train_tokens",
                                                     "weights_sha256", "command")}
        prov["pretrain"]["final_dev_mlm"] = mi["history"][-1] if mi.get("history") else None
    edge = {"temperature": 1.0, "threshold": None,
            "model_version": "%s-%s.%s" % (task_name, MODEL_VERSION_PREFIX, weights_sha[:8]),
            "calibrated": False, "provenance": prov, "metrics": {"selection": "best dev epoch by %s" % (
                "accuracy" if task.kind == "sequence_classification" else "span F1")}}
    write_json(os.path.join(out, "edgetag.json"), edge)
    log("finetune %s: best epoch %d (%s %.4f), wrote %s (%.0f s)" % (
        task_name, best_epoch, "accuracy" if task.kind == "sequence_classification" else "span F1", best, out, seconds))
    return out, prov


def cmd_finetune(args):
    finetune(args, args.task, init=args.init, out=args.ckpt)


# ------------------------------------------------------------------------------------------------
# Stage: calibrate
# ------------------------------------------------------------------------------------------------


def fit_temperature(logits_2d, targets):
    """T = exp(s) minimizing the mean NLL of softmax(logits / T) (LBFGS over s, float64)."""
    setup_torch()
    L = torch.tensor(np.asarray(logits_2d, dtype=np.float64))
    y = torch.tensor(np.asarray(targets, dtype=np.int64))
    s = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([s], lr=1.0, max_iter=200, tolerance_grad=1e-10, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(L / torch.exp(s), y)
        loss.backward()
        return loss
    opt.step(closure)
    return float(torch.exp(s).item())


def oracle_logits(folder, encoded, pad_id):
    """Logits of the saved folder through tools/eval/reference_bert.py."""
    setup_torch()
    from tools.eval import reference_bert
    ref = reference_bert.ReferenceBert.load(folder)
    return forward_logits(lambda ids, mask: ref.forward(ids, None, mask)["logits"], encoded, pad_id)


def calibration_targets(task, encoded, logits):
    """(2-D logits, targets) over which the temperature is fitted."""
    if task.kind == "sequence_classification":
        return np.stack(logits), np.array([e["label"] for e in encoded])
    rows, ys = [], []
    for e, lg in zip(encoded, logits):
        for lab, row in zip(e["label_ids"], lg):
            if lab != -100:
                rows.append(row)
                ys.append(lab)
    return np.stack(rows), np.array(ys)


def print_curve(task, rows):
    if task.kind == "sequence_classification":
        log("  threshold  escalated  oos-recall  oos-prec  in-scope-acc  kept-acc")
        for r in rows:
            log("  %9.4f  %9.3f  %10.3f  %8.3f  %12.4f  %8.4f" % (r["threshold"], r["escalation_rate"], r["oos_recall"],
                                                                   r["oos_precision"], r["in_scope_accuracy"],
                                                                   r["local_accuracy"]))
    else:
        log("  threshold  escalated  local-F1  local-P  local-R")
        for r in rows:
            log("  %9.4f  %9.3f  %8.4f  %7.4f  %7.4f" % (r["threshold"], r["escalation_rate"], r["local_f1"],
                                                         r["local_precision"], r["local_recall"]))


def calibrate(args, task_name, folder=None):
    setup_torch()
    task = tasks_mod.get(task_name, args.data)
    folder = folder or os.path.join(args.out, task_name)
    edge_path = os.path.join(folder, "edgetag.json")
    edge = read_json(edge_path)
    tok = load_tokenizer(folder)
    vocab = read_vocab(folder)
    limit = PRESETS[edge["provenance"].get("preset", "full")]["limit"]
    dev = encode_task(task, limit_examples(task.examples("dev", args.data), limit), tok)
    t0 = time.time()
    logits = oracle_logits(folder, dev, vocab.index("[PAD]"))
    before, _, _ = evaluate(task, dev, logits, 1.0)
    L2, y2 = calibration_targets(task, dev, logits)
    T = fit_temperature(L2, y2)
    after, curve, _ = evaluate(task, dev, logits, T)
    if task.kind == "sequence_classification":
        row, reached = metrics.choose_intent_threshold(curve, ESCALATION["min_oos_recall"])
        rule = ("intent: escalate when the calibrated top probability < threshold or the label is oos; threshold = "
                "the one with the highest in-scope accuracy (escalated in-scope cases count as not answered "
                "locally) among those with oos recall >= %.2f (oos caught = escalated or labelled oos), i.e. "
                "the lowest threshold reaching that recall; ties -> lowest threshold"
                % ESCALATION["min_oos_recall"])
        if not reached:
            rule += "; NOT REACHED on dev: the threshold with the highest oos recall was taken instead"
    else:
        row = metrics.choose_ner_threshold(curve, ESCALATION["max_ner_escalation"])
        reached = True
        rule = ("NER: a text escalates when any predicted entity's score (mean calibrated probability of its "
                "tokens' predicted tags) < threshold; threshold = the one maximizing span F1 over the texts kept "
                "local, escalating at most %.0f%% of dev texts; ties -> lowest threshold"
                % (100 * ESCALATION["max_ner_escalation"]))
    threshold = row["threshold"]
    at, _, _ = evaluate(task, dev, logits, T, threshold)
    edge["temperature"] = T
    edge["threshold"] = threshold
    edge["calibrated"] = True
    edge["rule"] = rule
    edge["threshold_rule_satisfied"] = reached
    edge["metrics"] = {"selection": edge["metrics"].get("selection"), "dev_before_calibration": before,
                       "dev_after_calibration": at}
    edge["curve"] = metrics.thin_curve(curve, 41)
    edge["curve_points_total"] = len(curve)
    edge["provenance"]["calibration"] = {"split": "dev", "examples": len(dev), "fitted_over": int(len(y2)),
                                         "method": "temperature scaling, LBFGS on log T, dev NLL",
                                         "logits_from": "tools/eval/reference_bert.py on the saved folder",
                                         "command": "python3 -m tools.train calibrate --task %s%s" % (
                                             task_name, preset_flag(args))}
    write_json(edge_path, edge)
    log("calibrate %s: T = %.4f, threshold = %.4f (%s) (%.1f s)" % (task_name, T, threshold, "rule met" if reached
                                                                   else "rule NOT met", time.time() - t0))
    log("calibrate %s: before: %s" % (task_name, summary(task, before)))
    log("calibrate %s: after:  %s" % (task_name, summary(task, at)))
    log("calibrate %s: escalation curve (dev; %d thresholds, %d shown):" % (task_name, len(curve),
                                                                             len(edge["curve"])))
    print_curve(task, metrics.thin_curve(curve, 21))
    return edge


def cmd_calibrate(args):
    calibrate(args, args.task, folder=args.ckpt)


# ------------------------------------------------------------------------------------------------
# all, ablate
# ------------------------------------------------------------------------------------------------


def cmd_all(args):
    names = args.tasks.split(",") if args.tasks else list(tasks_mod.TASK_NAMES)
    times = {}
    t = time.time()
    cmd_vocab(args)
    times["vocab"] = time.time() - t
    t = time.time()
    cmd_pretrain(args)
    times["pretrain"] = time.time() - t
    for name in names:
        t = time.time()
        finetune(args, name)
        times["finetune " + name] = time.time() - t
        t = time.time()
        calibrate(args, name)
        times["calibrate " + name] = time.time() - t
    for k, v in times.items():
        log("all: %-24s %7.1f s" % (k, v))
    cmd_cards(args)


def cmd_ablate(args):
    """Fine-tunes args.task from scratch into OUT/ablation/<task>-scratch with the same hyper-parameters,
    calibrates it, and compares it with OUT/<task> (from the MLM), which must exist."""
    name = args.task
    out = os.path.join(args.out, "ablation", name + "-scratch")
    finetune(args, name, init="scratch", out=out)
    calibrate(args, name, folder=out)
    task = tasks_mod.get(name, args.data)
    rows = []
    for label, folder in (("from MLM", os.path.join(args.out, name)), ("from scratch", out)):
        e = read_json(os.path.join(folder, "edgetag.json"))
        m = e["metrics"]["dev_before_calibration"]
        rows.append((label, m, e["provenance"]))
        log("ablate %s: %-12s %s (best epoch %d, %.0f s)" % (name, label, summary(task, m),
                                                             e["provenance"]["best_epoch"],
                                                             e["provenance"]["finetune_seconds"]))
    result = {"task": name, "runs": [{"init": label, "dev": {k: v for k, v in m.items() if not isinstance(v, dict)},
                                      "best_epoch": p["best_epoch"], "finetune_seconds": p["finetune_seconds"],
                                      "hparams": p["hparams"]} for label, m, p in rows]}
    write_json(os.path.join(args.out, "ablation", name + ".json"), result)


# ------------------------------------------------------------------------------------------------
# Model cards (a draft of models/README.md)
# ------------------------------------------------------------------------------------------------

CARD_INFO = {
    "intent-clinc": {
        "title": "intent-clinc: intent classification with out-of-scope detection",
        "data": "CLINC150 (\"oos-eval\", data_full.json; github.com/clinc/oos-eval at 828f809): train = train + "
                "oos_train (15,000 in-scope utterances, 100 per intent, + 100 out-of-scope), dev = val + "
                "oos_val (3,000 + 100). Licence CC BY 3.0. Attribution: Stefan Larson, Anish Mahendran, Joseph "
                "J. Peper, Christopher Clarke, Andrew Lee, Parker Hill, Jonathan K. Kummerfeld, Kevin Leach, "
                "Michael A. Laurenzano, Lingjia Tang, Jason Mars. 2019. An Evaluation Dataset for Intent "
                "Classification and Out-of-Scope Prediction. EMNLP-IJCNLP 2019.",
        "use": "Routing short assistant requests to one of 150 intents in 10 domains (banking, credit cards, "
               "travel, home, auto, kitchen, utility, work, small talk, meta), on the client, with escalation "
               "to a cloud model for out-of-scope or low-confidence requests.",
        "limits": "CLINC150 is short (mostly under 15 words), lower-case English assistant queries written by "
                  "crowd workers; punctuation, casing, other languages, long or multi-intent texts are out of "
                  "its distribution. Only 100 out-of-scope training examples: out-of-scope detection leans on the "
                  "escalation threshold. The threshold is tuned on the dev split, which is also where the best "
                  "epoch was picked: expect somewhat lower figures on the held-out test split. Trials: lr 3e-4 gave dev accuracy 0.8713, "
                  "lr 6e-4 (shipped) 0.8787.",
    },
    "maint-ner": {
        "title": "maint-ner: entities in maintenance work orders",
        "data": "MaintIE gold_release.json (github.com/nlp-tlp/maintie at 825e771), flattened to outermost "
                "spans with top-level types (maintie_gold_{train,dev}.bio made by derive_bio.py; records i % 10 "
                "== 8 are dev, == 9 held-out test): 862 train and 107 dev texts. Licence MIT (copyright the "
                "MaintIE authors, UWA NLP-TLP group). Attribution: Tyler K. Bikaun, Tim French, Michael "
                "Stewart, Wei Liu, Melinda Hodkiewicz. 2024. MaintIE: A Fine-Grained Annotation Schema and "
                "Benchmark for Information Extraction from Maintenance Short Texts. LREC-COLING 2024.",
        "use": "Tagging PhysicalObject, Activity, State, Process and Property mentions in terse field notes "
               "and work orders on the client.",
        "limits": "MaintIE texts are terse, lower-case technical notes (\"<id> replace hydraulic pump seal\"), "
                  "about 5 words on average, from one mining-industry source; nested entities were flattened to "
                  "the outermost span; Property has only 24 training entities. The training set is small (862 "
                  "texts): per-type figures on 107 dev texts are noisy.",
    },
    "pii-ner": {
        "title": "pii-ner: PII spans for redaction before escalation",
        "data": "Presidio-research synth_dataset_v2.json (github.com/microsoft/presidio-research at 7622dec), "
                "1,500 synthetic sentences from 209 templates with character-offset PII spans, split by template "
                "(template_id % 10 == 8 dev, == 9 held out): 1,173 train and 162 dev texts. Licence MIT "
                "(Copyright (c) Microsoft Corporation); the filled-in fake identities partly come from Fake Name "
                "Generator (fakenamegenerator.com), CC BY-SA 3.0 US.",
        "use": "Finding PII (names, addresses, phone numbers, e-mails, card numbers, ...) in a text on the client "
               "so that it can be redacted before the text is escalated to a cloud model.",
        "limits": "Presidio's data is synthetic: template sentences filled with fake values, so real text (typos, "
                  "other formats, other countries' identifiers) will be harder. US_DRIVER_LICENSE and US_SSN occur "
                  "in the dev split only, never in train, so the model cannot find them (recall 0 on those "
                  "types); IBAN_CODE, IP_ADDRESS, NRP and ZIP_CODE have no dev examples. Dev templates are unseen "
                  "in training, but dev has only 162 texts. Use a rule-based detector (regular expressions) beside "
                  "it for structured identifiers. Dev F1 is low because the dev templates are unseen: one-field "
                  "templates (\"My name is ...\") score 0.75-1.0, while the multi-field resume-like template (13 "
                  "dev texts holding 78 of the 346 dev entities) scores about 0.02. A trial with entity-value "
                  "swapping (python3 -m tools.train --augment 4) did not beat the plain run within the budget.",
    },
    "ner-general": {
        "title": "ner-general: persons, organisations and locations in social text",
        "data": "Broad Twitter Corpus (github.com/GateNLP/broad_twitter_corpus at 0c45ef7; 6,338 train, 1,000 "
                "dev tweets; CC BY 4.0; Leon Derczynski, Kalina Bontcheva, Ian Roberts. 2016. Broad Twitter "
                "Corpus: A Diverse Named Entity Recognition Resource. COLING 2016) and WNUT-17 "
                "(github.com/leondz/emerging_entities_17 at e52a2d2; 3,394 train, 1,009 dev; CC BY 4.0; Leon "
                "Derczynski, Eric Nichols, Marieke van Erp, Nut Limsopatham. 2017. Results of the WNUT2017 Shared "
                "Task on Novel and Emerging Entity Recognition. W-NUT at EMNLP). WNUT person -> PER, location -> "
                "LOC, corporation and group -> ORG, product and creative-work dropped; BTC's \"@\" of a mention "
                "is left out of the entity.",
        "use": "General-purpose PER / ORG / LOC tagging of short informal English text on the client.",
        "limits": "Tweets and web comments from 2009-2017 with real user handles; WNUT's entities are rare and "
                  "emerging by design, so recall on unseen names is low; BTC tags @-mentions as entities, WNUT "
                  "mostly does not, so handles are tagged inconsistently.",
    },
}


def _fmt(x, nd=4):
    return ("%." + str(nd) + "f") % x if isinstance(x, float) else str(x)


def card(args, name):
    folder = os.path.join(args.out, name)
    edge = read_json(os.path.join(folder, "edgetag.json"))
    config = read_json(os.path.join(folder, "config.json"))
    prov = edge["provenance"]
    task = tasks_mod.get(name, args.data)
    info = CARD_INFO[name]
    before = edge["metrics"]["dev_before_calibration"]
    after = edge["metrics"]["dev_after_calibration"]
    L = []
    L.append("## %s\n" % info["title"])
    L.append("- **Model version**: `%s`; task `%s`; %d labels (%s)." % (
        edge["model_version"], task.kind, len(task.labels),
        "150 intents in sorted order, then `oos`" if name == "intent-clinc" else ", ".join(task.labels)))
    L.append("- **Architecture**: BERT encoder, hidden %d, %d layers, %d heads, FFN %d, %d positions, exact-erf "
             "GELU, LayerNorm eps 1e-12, %s; cased WordPiece vocabulary of %d tokens shared by every edgetag "
             "student model. %d parameters (%.1f MB as f32)." % (
                 config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"],
                 config["intermediate_size"], config["max_position_embeddings"],
                 "pooler (dense + tanh on [CLS]) + classifier" if task.kind == "sequence_classification"
                 else "per-token classifier", config["vocab_size"], prov["parameters"], prov["parameters"] * 4 / 1e6))
    L.append("- **Data and licence**: %s" % info["data"])
    pre = prov.get("pretrain") or {}
    recipe = ("- **Training**: %s; fine-tuned %d epochs max (best dev epoch %d kept), AdamW lr %g, batch %d, "
              "warm-up %g, linear decay, dropout %g, weight decay %g, max %d tokens; seed %d; fine-tune %.0f s "
              "on 2 CPU threads (torch %s)." % (
                  ("from the shared masked-LM pre-training (%s steps, %.0f s: every dataset's train text, 15%% "
                   "masking 80/10/10, lr %g, batch %d)" % (pre.get("steps"), pre.get("seconds") or 0,
                                                            (pre.get("hparams") or {}).get("lr", 0),
                                                            (pre.get("hparams") or {}).get("batch", 0)))
                  if prov["init"] == "mlm" else "from scratch",
                  prov["hparams"]["epochs"], prov["best_epoch"], prov["hparams"]["lr"], prov["hparams"]["batch"],
                  prov["hparams"]["warmup"], prov["hparams"]["dropout"], prov["hparams"]["weight_decay"],
                  prov["max_length"], prov["seed"], prov["finetune_seconds"], prov["torch"]))
    if prov["hparams"].get("synth"):
        recipe += (" Train data: the train split plus %g x its size synthetic texts drawn afresh every epoch "
                   "(augment_pii: joined train texts with swapped or format-generated values, and code-written "
                   "carrier sentences for US_SSN / US_DRIVER_LICENSE; no dev or test text)." % prov["hparams"]["synth"])
    L.append(recipe)
    L.append("- **Reproduce**: `%s` (or `python3 -m tools.train all`), then `python3 -m tools.train calibrate --task %s`." % (
        "`, `".join(prov["commands"]), name))
    if task.kind == "sequence_classification":
        at = after["at_threshold"]
        L.append("- **Dev metrics (f32, PyTorch reference forward)**: accuracy %.4f; in-scope accuracy %.4f; "
                 "out-of-scope recall %.3f, precision %.3f (label `oos` alone, no threshold). NLL %.4f -> %.4f and "
                 "ECE %.4f -> %.4f after calibration." % (
                     before["accuracy"], before["in_scope_accuracy"], before["oos_recall"], before["oos_precision"],
                     before["nll"], after["nll"], before["ece"], after["ece"]))
        L.append("- **At the shipped threshold** (escalate when the calibrated top probability < threshold or the "
                 "label is `oos`): %.1f%% of dev escalated; oos recall %.3f, oos precision %.3f; in-scope accuracy "
                 "counting escalations as not answered locally %.4f; accuracy of the cases kept local %.4f." % (
                     100 * at["escalation_rate"], at["oos_recall"], at["oos_precision"], at["in_scope_accuracy"],
                     at["local_accuracy"]))
    else:
        wl = (" word-level (first-subword) seqeval-strict F1 %.4f;" % before["word_entity_f1"]
              if "word_entity_f1" in before else "")
        L.append("- **Dev metrics (f32, PyTorch reference forward)**: seqeval-strict entity F1 over subword tags "
                 "%.4f (P %.4f, R %.4f);%s character-span F1 %.4f (P %.4f, R %.4f); token accuracy %.4f. Token NLL "
                 "%.4f -> %.4f and ECE %.4f -> %.4f after calibration." % (
                     before["entity_f1"], before["entity_precision"], before["entity_recall"], wl, before["span_f1"],
                     before["span_precision"], before["span_recall"], before["token_accuracy"], before["nll"],
                     after["nll"], before["ece"], after["ece"]))
        if "span_f1_first_subword" in before:
            L.append("- **With first-subword decoding** (each ## continuation piece takes the tag of the piece before "
                     "it, B-X -> I-X; an engine aggregation choice): character-span F1 %.4f (P %.4f, R %.4f)." % (
                         before["span_f1_first_subword"], before["span_precision_first_subword"],
                         before["span_recall_first_subword"]))
        key = "per_type_word_entity" if "per_type_word_entity" in before else "per_type_entity"
        L.append("\n  | type | dev support | entity P | entity R | entity F1 | span F1 |")
        L.append("  |---|---|---|---|---|---|")
        for t in task.types:
            e = before[key].get(t, {})
            sp = before["per_type_span"].get(t, {})
            L.append("  | %s | %d | %.3f | %.3f | %.3f | %.3f |" % (t, sp.get("support", e.get("support", 0)),
                                                                  e.get("precision", 0), e.get("recall", 0),
                                                                  e.get("f1", 0), sp.get("f1", 0)))
        at = after["at_threshold"]
        L.append("\n- **At the shipped threshold** (a text escalates when one of its predicted entities scores "
                 "below it): %.1f%% of dev texts escalated; span F1 of the texts kept local %.4f." % (
                     100 * at["escalation_rate"], at["local_f1"]))
    L.append("- **Calibration**: temperature %.4f (dev NLL, LBFGS over log T); escalation threshold %.4f. Rule: %s." % (
        edge["temperature"], edge["threshold"], edge["rule"]))
    L.append("\n  Escalation curve on dev (calibrated; a subset of the %d thresholds, all in edgetag.json's "
             "`curve`):\n" % edge.get("curve_points_total", len(edge["curve"])))
    rows = metrics.thin_curve(edge["curve"], 11)
    if task.kind == "sequence_classification":
        L.append("  | threshold | escalated | oos recall | oos precision | in-scope acc. (escalated = not local) | kept acc. |")
        L.append("  |---|---|---|---|---|---|")
        for r in rows:
            L.append("  | %.4f | %.3f | %.3f | %.3f | %.4f | %.4f |" % (
                r["threshold"], r["escalation_rate"], r["oos_recall"], r["oos_precision"], r["in_scope_accuracy"],
                r["local_accuracy"]))
    else:
        L.append("  | threshold | texts escalated | kept span F1 | kept P | kept R |")
        L.append("  |---|---|---|---|---|")
        for r in rows:
            L.append("  | %.4f | %.3f | %.4f | %.4f | %.4f |" % (r["threshold"], r["escalation_rate"], r["local_f1"],
                                                              r["local_precision"], r["local_recall"]))
    abl = os.path.join(args.out, "ablation", name + ".json")
    if os.path.isfile(abl):
        a = read_json(abl)
        key = "accuracy" if task.kind == "sequence_classification" else "span_f1"
        parts = ["%s %s %.4f (best epoch %d, %.0f s)" % (r["init"], key, r["dev"][key], r["best_epoch"],
                                                          r["finetune_seconds"]) for r in a["runs"]]
        L.append("\n- **MLM ablation** (same fine-tuning budget): " + "; ".join(parts) + ".")
    L.append("- **Intended use**: %s" % info["use"])
    L.append("- **Limits**: %s" % info["limits"])
    return "\n".join(L) + "\n"


def cmd_cards(args):
    names = [n for n in tasks_mod.TASK_NAMES if os.path.isfile(os.path.join(args.out, n, "edgetag.json"))]
    parts = ["# edgetag student models (draft model cards)\n",
             "Written by `python3 -m tools.train cards` from each folder's edgetag.json and config.json. Figures are on "
             "the dev splits (the test splits are held out of ../shared/data), computed in float32 by the "
             "PyTorch reference forward (tools/eval/reference_bert.py); int8 figures come from the engine's `make "
             "eval`.\n"]
    mlm = os.path.join(args.out, "mlm", "mlm.json")
    if os.path.isfile(mlm):
        m = read_json(mlm)
        last = m["history"][-1] if m.get("history") else {}
        parts.append("Shared pre-training: masked-LM on %d train texts (%d tokens) of all five datasets, %d steps "
                     "(%d epochs), %.0f s; final dev MLM loss %.3f, masked-token accuracy %.3f. Vocabulary: %d cased "
                     "WordPiece tokens learned with tools/tokenizer/build_vocab.py from the same train texts.\n" % (
                         m["train_texts"], m["train_tokens"], m["steps"], m["hparams"]["epochs"], m["seconds"],
                         last.get("dev_loss", float("nan")), last.get("dev_accuracy", float("nan")),
                         len(read_vocab(os.path.join(args.out, "vocab")))))
    for n in names:
        parts.append(card(args, n))
    path = os.path.join(args.out, "MODEL_CARDS.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    log("cards: wrote %s (%s)" % (path, ", ".join(names)))


# ------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(prog="train.py", description="Train edgetag's student models.")
    ap.add_argument("stage", choices=("vocab", "pretrain", "finetune", "calibrate", "all", "ablate", "cards"))
    ap.add_argument("--task", choices=tasks_mod.TASK_NAMES)
    ap.add_argument("--tasks", help="comma-separated tasks for `all` (default: every task)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default build/train)")
    ap.add_argument("--data", default=datasets.DEFAULT_DATA_DIR, help="data folder (default ../shared/data)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="full")
    ap.add_argument("--init", choices=("mlm", "scratch"), default="mlm", help="finetune: start from (default mlm)")
    ap.add_argument("--ckpt", help="finetune/calibrate: the task folder (default OUT/TASK), e.g. for trials")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--dropout", type=float)
    ap.add_argument("--augment", type=int, help="NER: value-swapped copies of each train text (default 0)")
    ap.add_argument("--synth", type=float, help="pii-ner: synthetic texts (augment_pii), as a multiple of the "
                    "train texts (default: HPARAMS; 0 = none)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (0: no limit)")
    args = ap.parse_args(argv)
    if args.stage in ("finetune", "calibrate", "ablate") and not args.task:
        ap.error("%s needs --task" % args.stage)
    if args.tasks:
        for n in args.tasks.split(","):
            if n not in tasks_mod.TASK_NAMES:
                ap.error("unknown task %r" % n)
    global _T0
    _T0 = time.time()
    try:
        {"vocab": cmd_vocab, "pretrain": cmd_pretrain, "finetune": cmd_finetune, "calibrate": cmd_calibrate,
         "all": cmd_all, "ablate": cmd_ablate, "cards": cmd_cards}[args.stage](args)
    except datasets.DataError as e:
        print("train.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0
