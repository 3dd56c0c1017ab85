"""reference_bert — a hand-written BERT forward pass in PyTorch (float32, CPU): the independent oracle.

It computes what Hugging Face's BertModel / BertForSequenceClassification / BertForTokenClassification
compute in eval mode, on a padded batch with an attention mask, written out op by op from the
architecture (no `transformers` package here). tools/fixtures/make_golden.py runs it to make tests/fixtures/golden.

    from tools.eval.reference_bert import ReferenceBert
    model = ReferenceBert.load("build/ref/tiny")       # config.json + model.safetensors
    out = model.forward(input_ids, token_type_ids, attention_mask)   # int64 [B, L] tensors
    out["last_hidden_state"]   # [B, L, H]
    out["pooler_output"]       # [B, H] or None (no pooler)
    out["logits"]              # [B, C] (sequence), [B, L, C] (token) or None (BertModel)

Command line (prints the outputs for one text of token ids):
    /usr/bin/python3 -m tools.eval.reference_bert HF_DIR 101 2023 102
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from tools.formats import safetensors_np


class ReferenceBert:
    """Weights (torch float32 tensors keyed by HF names without the "bert." prefix) + config."""

    def __init__(self, config, weights):
        self.config = config
        self.w = weights
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.has_pooler = "pooler.dense.weight" in weights
        self.has_classifier = "classifier.weight" in weights
        self.arch = (config.get("architectures") or ["BertModel"])[0]
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError("only hidden_act gelu is implemented")

    @classmethod
    def load(cls, folder):
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        weights = {}
        for name, arr in safetensors_np.load_checkpoint(folder).items():
            if name.endswith("position_ids"):
                continue
            if name.startswith("bert."):
                name = name[len("bert."):]
            name = name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
            weights[name] = torch.from_numpy(np.array(arr, dtype=np.float32))
        return cls(config, weights)

    def _linear(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def _layer_norm(self, x, name):
        return F.layer_norm(x, (self.hidden,), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    @torch.no_grad()
    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        """input_ids, token_type_ids, attention_mask: int64 [B, L] (mask 1 = token, 0 = padding)."""
        B, L = input_ids.shape
        H, nh = self.hidden, self.heads
        d = H // nh
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)

        # Embeddings, in Hugging Face's order of additions: (word + token type) + position.
        positions = torch.arange(L, dtype=torch.long).unsqueeze(0).expand(B, L)
        x = F.embedding(input_ids, self.w["embeddings.word_embeddings.weight"])
        x = x + F.embedding(token_type_ids, self.w["embeddings.token_type_embeddings.weight"])
        x = x + F.embedding(positions, self.w["embeddings.position_embeddings.weight"])
        x = self._layer_norm(x, "embeddings.LayerNorm")

        # The extended mask: 0 where attended, the most negative float32 where padded. [B, 1, 1, L]
        mask = attention_mask[:, None, None, :].to(torch.float32)
        mask = (1.0 - mask) * torch.finfo(torch.float32).min

        def split_heads(t):  # [B, L, H] -> [B, nh, L, d]
            return t.view(B, L, nh, d).permute(0, 2, 1, 3)

        for n in range(self.layers):
            p = "encoder.layer.%d." % n
            q = split_heads(self._linear(x, p + "attention.self.query"))
            k = split_heads(self._linear(x, p + "attention.self.key"))
            v = split_heads(self._linear(x, p + "attention.self.value"))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
            scores = scores + mask
            probs = F.softmax(scores, dim=-1)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(B, L, H)
            attn = self._linear(ctx, p + "attention.output.dense")
            x = self._layer_norm(attn + x, p + "attention.output.LayerNorm")
            up = F.gelu(self._linear(x, p + "intermediate.dense"))  # exact erf GELU
            down = self._linear(up, p + "output.dense")
            x = self._layer_norm(down + x, p + "output.LayerNorm")

        pooled = None
        if self.has_pooler:
            pooled = torch.tanh(self._linear(x[:, 0], "pooler.dense"))
        logits = None
        if self.has_classifier:
            if self.arch == "BertForTokenClassification":
                logits = self._linear(x, "classifier")
            else:
                if pooled is None:
                    raise ValueError("sequence classification needs the pooler")
                logits = self._linear(pooled, "classifier")
        return {"last_hidden_state": x, "pooler_output": pooled, "logits": logits}


def main(argv):
    if len(argv) < 3:
        print("usage: reference_bert.py HF_DIR ID [ID ...]", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    model = ReferenceBert.load(argv[1])
    ids = torch.tensor([[int(t) for t in argv[2:]]], dtype=torch.long)
    out = model.forward(ids)
    torch.set_printoptions(precision=6, linewidth=120)
    for key, value in out.items():
        print(key, None if value is None else value[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
