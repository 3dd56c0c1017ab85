"""The training model: BERT with Hugging Face's parameter names (so that a saved folder is a Hugging Face
checkpoint), its configuration and saved folder, torch's settings, and the optimiser.

Model(config, kind, num_labels, dropout) is BertForMaskedLM (kind "mlm", the decoder tied to the word
embeddings), BertForSequenceClassification (pooler dense + tanh on [CLS], dropout, classifier) or
BertForTokenClassification (dropout, classifier on every token), initialised as Hugging Face does (normal
0.02, zero biases, LayerNorm 1/0). Exact-erf GELU, LayerNorm eps from the config.
"""

import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tools.formats import safetensors_np
from tools.train.runtime import write_json
from tools.train.settings import PRESETS, THREADS


def setup_torch():
    """torch's process settings of a run: THREADS threads, deterministic algorithms."""
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    return torch


def seed_all(seed):
    setup_torch()
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


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


def head_size(c):
    """The size of one attention head: hidden / heads, or the config's attention_head_size (a model whose heads
    were pruned keeps its head size with fewer heads: tools/prune)."""
    return c.get("attention_head_size") or c["hidden_size"] // c["num_attention_heads"]


class SelfAttention(nn.Module):
    def __init__(self, c, p):
        super().__init__()
        H = c["hidden_size"]
        self.heads, self.head_size = c["num_attention_heads"], head_size(c)
        A = self.heads * self.head_size
        self.query, self.key, self.value = nn.Linear(H, A), nn.Linear(H, A), nn.Linear(H, A)
        self.dropout = nn.Dropout(p)

    def forward(self, x, mask):
        B, L, _ = x.shape
        nh, d = self.heads, self.head_size
        H = nh * d

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
        self.output = AddNorm(c["num_attention_heads"] * head_size(c), c, p)

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


class Model(nn.Module):
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


def hf_state(model):
    """{HF name: float32 numpy array} of a model (the tied MLM decoder is not stored separately)."""
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}


def make_config(preset, vocab, kind, labels=None):
    """config.json of a model of the preset's sizes (kind: "mlm", "sequence_classification" or
    "token_classification")."""
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


def make_optimizer(model, hp, total_steps):
    """AdamW (no weight decay on biases and LayerNorm) with linear warm-up then linear decay to 0."""
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


def optimizer_step(model, opt, sched, loss):
    """One training step on loss: gradients clipped to norm 1.0, then the optimiser and the schedule."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
