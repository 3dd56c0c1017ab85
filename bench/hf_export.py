"""hf_export — an edgetag f32 GGUF classifier as the Hugging Face folder transformers.js loads, for bench/e2e.mjs.

    /usr/bin/python3 -m bench.hf_export MODEL-f32.gguf -o OUT_DIR [--opset 14]

MODEL-f32.gguf is a sequence- or token-classification model in edgetag's GGUF (f32 weights: the shipped
models/<name>-f32.gguf, or a reference made by tools/convert). OUT_DIR receives, all from that one file:

  config.json, model.safetensors, vocab.txt, tokenizer.json, tokenizer_config.json, edgetag.json
                   the file taken back to a checkpoint by tools/distill/student.py (the exact f32 weights under
                   Hugging Face's names, id2label from the file's labels, architectures
                   BertForSequenceClassification or BertForTokenClassification; the WordPiece vocabulary and
                   the normalizer flags the GGUF carries, written by tools/formats/tokenizer_json.py as
                   BertTokenizer). tokenizer_config.json's model_max_length is set to the model's positions
                   (bert.context_length), so that transformers.js truncates where edgetag's classify() cuts;
                   config.json names this tool and the source file under "edgetag_export".
  onnx/model.onnx  the f32 graph of bench/onnx_export.py with the head on top (inputs input_ids,
                   attention_mask, token_type_ids; output logits). The module it is traced from is checked here
                   against the PyTorch oracle (tools/eval/reference_bert.py) on a padded random batch (max |logit
                   difference| <= 1e-4); the graph itself is checked end to end by bench/e2e.mjs, which compares
                   transformers.js's answers on it with edgetag's on the GGUF;
  onnx/model_quantized.onnx
                   what transformers.js loads for dtype "q8": the same graph rewritten as onnxruntime's
                   quantize_dynamic (QInt8, per output channel) writes it (bench/onnx_export.py's
                   quantize_graph: DynamicQuantizeLinear + MatMulInteger for every constant-weight MatMul,
                   uint8 embedding tables; a 2-D classifier (sequence classification) exports as Gemm and stays
                   f32, as in onnxruntime's own output).
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch

from bench.onnx_export import export_f32, quantize_graph
from tools.distill.student import ARCHITECTURES, to_folder
from tools.eval.reference_bert import ReferenceBert
from tools.formats import ggufio

HEADS = {"BertForSequenceClassification": "sequence", "BertForTokenClassification": "token"}


def check_against_oracle(module, ref, seed):
    """Max |logit difference| of the traced module against ReferenceBert on a padded batch of 2 random texts."""
    rng = np.random.RandomState(seed)
    vocab, lengths = ref.config["vocab_size"], [23, 9]
    L = max(lengths)
    ids = np.zeros((2, L), np.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = rng.randint(5, vocab, size=n)
    mask = (np.arange(L)[None, :] < np.array(lengths)[:, None]).astype(np.int64)
    ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
    types = torch.zeros_like(ids_t)
    with torch.no_grad():
        got = module(ids_t, mask_t, types)
    want = ref.forward(ids_t, types, mask_t)["logits"]
    if got.dim() == 3:  # token logits: only the real tokens count
        keep = mask_t.bool()
        got, want = got[keep], want[keep]
    return float((got - want).abs().max())


def export(gguf_path, out, opset=14, seed=1234):
    to_folder(gguf_path, out, tasks=tuple(ARCHITECTURES))
    kv = ggufio.read_gguf(gguf_path).kv
    with open(gguf_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()

    tc_path = os.path.join(out, "tokenizer_config.json")
    with open(tc_path, encoding="utf-8") as f:
        tc = json.load(f)
    tc["model_max_length"] = int(kv["bert.context_length"])
    with open(tc_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(tc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")

    cfg_path = os.path.join(out, "config.json")
    with open(cfg_path, encoding="utf-8") as f:
        config = json.load(f)
    config["edgetag_export"] = {
        "tool": "/usr/bin/python3 -m bench.hf_export %s -o %s" % (gguf_path, out),
        "source": os.path.basename(gguf_path), "source_sha256": sha,
        "note": "derived file: regenerate with the tool above (make bench-e2e does); do not edit",
    }
    with open(cfg_path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(config, f, indent=1)
        f.write("\n")

    torch.set_num_threads(1)
    ref = ReferenceBert.load(out)
    head = HEADS[config["architectures"][0]]
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    f32_path = os.path.join(out, "onnx", "model.onnx")
    module = export_f32(ref, f32_path, opset, head)
    diff = check_against_oracle(module, ref, seed)
    if not diff <= 1e-4:
        raise SystemExit("hf_export: the exported graph's logits differ from the oracle's by %.3g (> 1e-4)" % diff)
    model = onnx.load(f32_path)
    onnx.checker.check_model(model)
    stats = quantize_graph(model, per_channel=True, gather=True)
    onnx.checker.check_model(model)
    q_path = os.path.join(out, "onnx", "model_quantized.onnx")
    onnx.save(model, q_path)
    print("wrote %s: %s (%s head, %d labels), logits vs oracle max %.2g; onnx/model.onnx %.1f MB, "
          "onnx/model_quantized.onnx %.1f MB (%d MatMul int8, %d Gather uint8)"
          % (out, config["architectures"][0], head, config["num_labels"], diff, os.path.getsize(f32_path) / 1e6,
             os.path.getsize(q_path) / 1e6, stats["matmul"], stats["gather"]))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gguf", help="an f32 GGUF sequence or token classifier")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    args = ap.parse_args(argv[1:])
    try:
        export(args.gguf, args.out, args.opset)
    except (OSError, ValueError, KeyError, ggufio.GGUFError) as e:
        print("hf_export: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
