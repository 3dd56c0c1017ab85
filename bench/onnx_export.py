"""onnx_export — the benchmark's ONNX twins of a reference checkpoint: f32 and dynamic-int8, same weights.

    /usr/bin/python3 -m bench.onnx_export HF_DIR -o OUT_DIR [--opset 14] [--per-tensor] [--no-gather]

HF_DIR is a Hugging Face BERT folder as tools/fixtures/make_reference.py writes it (config.json + model.safetensors),
the same one python3 -m tools.convert turns into the GGUF file edgetag runs. OUT_DIR receives:

  model-f32.onnx   Hugging Face's BertModel graph (inputs input_ids, attention_mask, token_type_ids, int64
                   [batch, sequence]; outputs last_hidden_state [batch, sequence, hidden] and pooler_output
                   [batch, hidden]), exported with torch.onnx from a module written here that follows
                   transformers' BertModel op by op (eager attention, the (1 - mask) * finfo.min extended
                   mask, erf GELU, nn.Linear as MatMul + Add), so onnxruntime sees the graph it sees in
                   models exported from transformers / optimum and applies the same fusions.
  model-int8.onnx  What onnxruntime.quantization.quantize_dynamic(model, weight_type=QuantType.QInt8,
                   per_channel=True) writes for that graph (rebuilt here with onnx.helper: onnxruntime has
                   no Python package on this machine):
                   - every MatMul whose B is an initializer (the 6 Linear layers of each encoder layer) becomes
                       DynamicQuantizeLinear(A) -> A_q uint8, A_scale, A_zp  (one per activation, shared by
                                                                              the Q, K and V MatMuls)
                       MatMulInteger(A_q, W_q int8, A_zp, W_zp) -> int32
                       Cast(to float) ; Mul(A_scale, W_scale) ; Mul(cast, scales)
                     followed by the graph's own bias Add, untouched. Weights are symmetric int8 in
                     [-127, 127] (zero point 0), one scale per output column (axis -1 of the [in, out]
                     matrix; per_channel=True), or one per tensor with --per-tensor; reduce_range off
                     (quantize_dynamic's default). Per channel is the default because it is the scheme of
                     edgetag's int8 GGUF and measured as fast in onnxruntime-web 1.30 as per tensor (MiniLM
                     shape, 128 tokens, 1 thread: 55.1-56.1 ms vs 55.2-55.5 ms, alternating sessions).
                   - the pooler's Linear exports as Gemm (2-D input), which quantize_dynamic does not
                     quantize: it stays f32, as in onnxruntime's own output.
                   - the attention MatMuls (QK^T, PV) have no constant input and stay f32
                     (quantize_dynamic's MatMulConstBOnly).
                   - every Gather of an initializer (word, position and token type embeddings) reads a
                     uint8 table, asymmetric per tensor as quantize_dynamic's GatherQuant makes it
                     (activation type), followed by DequantizeLinear; --no-gather leaves them f32.
  reference.json   a padded batch of random ids (two texts) and tools/eval/reference_bert.py's outputs for it,
                   for bench/onnx_check.mjs (which checks both files in onnxruntime-node/-web).

bench/hf_export.py reuses the graph (with a sequence- or token-classification head: output logits) and the
int8 rewrite for the folders transformers.js loads (onnx/model.onnx, onnx/model_quantized.onnx).
"""

import argparse
import base64
import json
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from tools.eval.reference_bert import ReferenceBert


# ---- the f32 graph: transformers' BertModel, written out -------------------------------------------------

class Embeddings(nn.Module):
    def __init__(self, w, cfg):
        super().__init__()
        self.word_embeddings = nn.Embedding.from_pretrained(w["embeddings.word_embeddings.weight"], freeze=True)
        self.position_embeddings = nn.Embedding.from_pretrained(w["embeddings.position_embeddings.weight"], freeze=True)
        self.token_type_embeddings = nn.Embedding.from_pretrained(w["embeddings.token_type_embeddings.weight"], freeze=True)
        self.LayerNorm = layer_norm(w, "embeddings.LayerNorm", cfg)
        self.register_buffer("position_ids", torch.arange(cfg["max_position_embeddings"]).expand((1, -1)))

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size(1)
        position_ids = self.position_ids[:, :seq_length]
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        return self.LayerNorm(embeddings)


def linear(w, name):
    weight = w[name + ".weight"]
    m = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        m.weight.copy_(weight)
        m.bias.copy_(w[name + ".bias"])
    return m


def layer_norm(w, name, cfg):
    m = nn.LayerNorm(cfg["hidden_size"], eps=cfg.get("layer_norm_eps", 1e-12))
    with torch.no_grad():
        m.weight.copy_(w[name + ".weight"])
        m.bias.copy_(w[name + ".bias"])
    return m


class Layer(nn.Module):
    def __init__(self, w, cfg, n):
        super().__init__()
        p = "encoder.layer.%d." % n
        self.heads = cfg["num_attention_heads"]
        self.head_size = cfg["hidden_size"] // self.heads
        self.all_head_size = self.heads * self.head_size
        self.query = linear(w, p + "attention.self.query")
        self.key = linear(w, p + "attention.self.key")
        self.value = linear(w, p + "attention.self.value")
        self.attn_out = linear(w, p + "attention.output.dense")
        self.attn_norm = layer_norm(w, p + "attention.output.LayerNorm", cfg)
        self.intermediate = linear(w, p + "intermediate.dense")
        self.output = linear(w, p + "output.dense")
        self.out_norm = layer_norm(w, p + "output.LayerNorm", cfg)

    def transpose_for_scores(self, x):
        new_x_shape = x.size()[:-1] + (self.heads, self.head_size)
        return x.view(new_x_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask):
        mixed_query_layer = self.query(hidden_states)
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        query_layer = self.transpose_for_scores(mixed_query_layer)
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(self.head_size)
        attention_scores = attention_scores + attention_mask
        attention_probs = F.softmax(attention_scores, dim=-1)
        context_layer = torch.matmul(attention_probs, value_layer)
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        context_layer = context_layer.view(context_layer.size()[:-2] + (self.all_head_size,))
        attention_output = self.attn_norm(self.attn_out(context_layer) + hidden_states)
        intermediate_output = F.gelu(self.intermediate(attention_output))
        return self.out_norm(self.output(intermediate_output) + attention_output)


class BertModel(nn.Module):
    """BertModel (head None: outputs last_hidden_state and pooler_output), or with its classifier on top as
    BertForSequenceClassification (head "sequence": logits = classifier(pooler_output), [batch, labels]) and
    BertForTokenClassification (head "token": logits = classifier(last_hidden_state), [batch, sequence,
    labels]), as bench/hf_export.py exports them for transformers.js."""

    def __init__(self, ref, head=None):
        super().__init__()
        w, cfg = ref.w, ref.config
        if head is None and not ref.has_pooler:
            raise SystemExit("onnx_export: the benchmark models are BertModel with a pooler")
        if head == "sequence" and not ref.has_pooler:
            raise SystemExit("onnx_export: sequence classification needs the pooler")
        if head and not ref.has_classifier:
            raise SystemExit("onnx_export: a %s head needs classifier.weight" % head)
        self.head = head
        self.embeddings = Embeddings(w, cfg)
        self.layers = nn.ModuleList([Layer(w, cfg, n) for n in range(cfg["num_hidden_layers"])])
        self.pooler = linear(w, "pooler.dense") if head != "token" else None
        self.classifier = linear(w, "classifier") if head else None

    def forward(self, input_ids, attention_mask, token_type_ids):
        extended = attention_mask[:, None, None, :].to(torch.float32)
        extended = (1.0 - extended) * torch.finfo(torch.float32).min
        x = self.embeddings(input_ids, token_type_ids)
        for layer in self.layers:
            x = layer(x, extended)
        if self.head == "token":
            return self.classifier(x)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        if self.head == "sequence":
            return self.classifier(pooled)
        return x, pooled


INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
DYNAMIC_INPUTS = {name: {0: "batch_size", 1: "sequence_length"} for name in INPUT_NAMES}


def export_f32(ref, path, opset, head=None):
    """Exports the f32 graph to path; returns the torch module it traced."""
    model = BertModel(ref, head).eval()
    ids = torch.tensor([[101, 2000, 2001, 2002, 102], [101, 2003, 102, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    if head is None:
        outputs = {"last_hidden_state": {0: "batch_size", 1: "sequence_length"}, "pooler_output": {0: "batch_size"}}
    elif head == "token":
        outputs = {"logits": {0: "batch_size", 1: "sequence_length"}}
    else:
        outputs = {"logits": {0: "batch_size"}}
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, mask, types), path, opset_version=opset, do_constant_folding=True,
            input_names=INPUT_NAMES, output_names=list(outputs), dynamic_axes={**DYNAMIC_INPUTS, **outputs})
        return model


# ---- the int8 graph: quantize_dynamic's output, rebuilt ----------------------------------------------------

def quantize_weight(w, per_channel):
    """Symmetric int8 in [-127, 127], zero point 0: per output column (axis -1) or per tensor."""
    amax = np.abs(w).max(axis=0) if per_channel else np.array(np.abs(w).max())
    scale = (amax / 127.0).astype(np.float32)
    scale = np.where(scale == 0, np.float32(1), scale).astype(np.float32)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale, np.zeros(scale.shape, np.int8)


def quantize_table_u8(w):
    """quantize_dynamic's GatherQuant: the activation type (uint8), asymmetric, per tensor, range incl. 0."""
    rmin, rmax = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale = np.float32((rmax - rmin) / 255.0) if rmax > rmin else np.float32(1)
    zp = np.uint8(np.clip(round(-rmin / float(scale)), 0, 255))
    q = np.clip(np.round(w / scale) + int(zp), 0, 255).astype(np.uint8)
    return q, np.array(scale, np.float32), np.array(zp, np.uint8)


def quantize_graph(model, per_channel, gather):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    consumers = {}
    for node in g.node:
        for i in node.input:
            consumers[i] = consumers.get(i, 0) + 1
    new_inits, new_nodes, dql = [], [], {}  # dql: activation name -> (q, scale, zp)
    stats = {"matmul": 0, "matmul_f32": 0, "gather": 0}
    used = set()

    def const_b(node):
        b = inits.get(node.input[1])
        return b is not None and b.data_type == TensorProto.FLOAT and len(b.dims) == 2

    for node in g.node:
        if node.op_type == "MatMul" and const_b(node):
            a, bname = node.input[0], node.input[1]
            w = numpy_helper.to_array(inits[bname])
            q, scale, zp = quantize_weight(w, per_channel)
            new_inits += [numpy_helper.from_array(q, bname + "_quantized"),
                          numpy_helper.from_array(scale, bname + "_scale"),
                          numpy_helper.from_array(zp, bname + "_zero_point")]
            used.add(bname)
            if a not in dql:
                dql[a] = (a + "_quantized", a + "_scale", a + "_zero_point")
                new_nodes.append(helper.make_node("DynamicQuantizeLinear", [a], list(dql[a]), a + "_QuantizeLinear"))
            aq, ascale, azp = dql[a]
            name = (node.name or node.output[0]) + "_quant"
            mm_out = node.output[0] + "_output_quantized"
            new_nodes += [
                helper.make_node("MatMulInteger", [aq, bname + "_quantized", azp, bname + "_zero_point"], [mm_out], name),
                helper.make_node("Cast", [mm_out], [mm_out + "_cast_output"], mm_out + "_cast", to=TensorProto.FLOAT),
                helper.make_node("Mul", [ascale, bname + "_scale"], [name + "_scales_mul:0"], name + "_scales_mul"),
                helper.make_node("Mul", [mm_out + "_cast_output", name + "_scales_mul:0"], [node.output[0]],
                                 name + "_output_scale_mul"),
            ]
            stats["matmul"] += 1
        elif gather and node.op_type == "Gather" and node.input[0] in inits and \
                inits[node.input[0]].data_type == TensorProto.FLOAT:
            tname = node.input[0]
            q, scale, zp = quantize_table_u8(numpy_helper.to_array(inits[tname]))
            new_inits += [numpy_helper.from_array(q, tname + "_quantized"),
                          numpy_helper.from_array(scale, tname + "_scale"),
                          numpy_helper.from_array(zp, tname + "_zero_point")]
            used.add(tname)
            out = node.output[0] + "_quantized"
            gnode = helper.make_node("Gather", [tname + "_quantized", node.input[1]], [out], node.name)
            gnode.attribute.extend(node.attribute)
            new_nodes += [gnode, helper.make_node("DequantizeLinear", [out, tname + "_scale", tname + "_zero_point"],
                                                  [node.output[0]], node.output[0] + "_DequantizeLinear")]
            stats["gather"] += 1
        else:
            if node.op_type == "MatMul":
                stats["matmul_f32"] += 1
            new_nodes.append(node)

    # Drop the f32 originals that nothing reads any more (a weight read elsewhere stays).
    remaining = set(i for n in new_nodes for i in n.input)
    keep = [t for t in g.initializer if t.name not in used or t.name in remaining]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]
    model.producer_name = "edgetag bench/onnx_export.py (quantize_dynamic QInt8 %s)" % (
        "per-channel" if per_channel else "per-tensor")
    return stats


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("hf_dir")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor (default: per column)")
    ap.add_argument("--no-gather", action="store_true", help="leave the embedding tables f32")
    ap.add_argument("--int8-name", default="model-int8.onnx")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args(argv[1:])
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    ref = ReferenceBert.load(args.hf_dir)
    f32_path = os.path.join(args.out, "model-f32.onnx")
    export_f32(ref, f32_path, args.opset)
    model = onnx.load(f32_path)
    onnx.checker.check_model(model)
    print("wrote %s: %d nodes, %.1f MB" % (f32_path, len(model.graph.node), os.path.getsize(f32_path) / 1e6))

    stats = quantize_graph(model, per_channel=not args.per_tensor, gather=not args.no_gather)
    onnx.checker.check_model(model)
    int8_path = os.path.join(args.out, args.int8_name)
    onnx.save(model, int8_path)
    print("wrote %s: %d MatMul -> DynamicQuantizeLinear + MatMulInteger (%s), %d f32 MatMul (attention), "
          "%d Gather tables uint8, %.1f MB" % (int8_path, stats["matmul"], "per-tensor" if args.per_tensor else
                                                "per-channel", stats["matmul_f32"], stats["gather"],
                                                os.path.getsize(int8_path) / 1e6))

    # The oracle's outputs on a padded batch of two random texts, for bench/onnx_check.mjs.
    rng = np.random.RandomState(args.seed)
    cfg = ref.config
    lengths = [64, 37]
    L = max(lengths)
    ids = np.zeros((2, L), np.int64)
    types = np.zeros((2, L), np.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = rng.randint(1000, cfg["vocab_size"], size=n)
        ids[b, 0], ids[b, n - 1] = 101, 102
        types[b, n // 2:n] = 1
    mask = (np.arange(L)[None, :] < np.array(lengths)[:, None]).astype(np.int64)
    out = ref.forward(torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(mask))
    enc = lambda a: base64.b64encode(np.ascontiguousarray(a, np.float32).tobytes()).decode()
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump({"shape": [2, L, cfg["hidden_size"]], "lengths": lengths, "input_ids": ids.tolist(),
                   "attention_mask": mask.tolist(), "token_type_ids": types.tolist(),
                   "last_hidden_state": enc(out["last_hidden_state"].numpy()),
                   "pooler_output": enc(out["pooler_output"].numpy())}, f)
    print("wrote %s" % os.path.join(args.out, "reference.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
