"""pytorch — dev-split metrics of a trained checkpoint folder with the PyTorch oracle
(tools/eval/reference_bert.py), at the folder's calibrated temperature and escalation threshold (edgetag.json),
and PyTorch outputs for the engine's parity tests.

Usage (from the repository root):
    /usr/bin/python3 -m tools.eval.pytorch --task intent-clinc [--ckpt build/train/intent-clinc] [--json OUT.json]
    /usr/bin/python3 -m tools.eval.pytorch --task maint-ner --dump parity.json --texts 20

--ckpt defaults to build/train/<task>. Prints the dev measures before calibration (T = 1) and at the stored
temperature and threshold (tools/eval/scores.py: intent-clinc accuracy, in-scope accuracy, oos
recall/precision, NLL, ECE; NER seqeval-strict entity P/R/F1 over subword tags, span P/R/F1 over character
spans, word-level entity F1 for the word-tokenized datasets, per type), and --json writes them.

--dump FILE --texts N writes the first N dev texts (in file order) as JSON (--texts-file F: instead the
texts of F, a JSON object whose member named after the task lists them; tests/fixtures/golden/models/texts.json):
    {"task", "ckpt", "temperature", "threshold", "labels", "max_length",
     "texts": [{"text", "ids", "tokens", "offsets" ([start, end) code points; [0, 0] for [CLS]/[SEP]),
                "logits", "probs"}]}
ids come from tools/tokenizer/wordpiece.py (equal to the engine's tokenizer), cut to 256 tokens; logits are the
reference forward's float32 outputs of one unpadded text at a time ([C] for sequence classification,
[n_tokens][C] for token classification, [CLS]/[SEP] rows included) and probs = softmax(logits / T).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

from tools.data import datasets
from tools.data import tasks as tasks_mod
from tools.eval import metrics, reference_bert
from tools.eval.scores import evaluate, summary
from tools.train.data import encode_task, load_tokenizer, oracle_logits, read_vocab
from tools.train.model import setup_torch
from tools.train.runtime import read_json, sha256_file
from tools.train.settings import DEFAULT_OUT, MAX_LEN


def load(task_name, ckpt, data_dir):
    task = tasks_mod.get(task_name, data_dir)
    edge_path = os.path.join(ckpt, "edgetag.json")
    edge = read_json(edge_path) if os.path.isfile(edge_path) else {"temperature": 1.0, "threshold": None}
    with open(os.path.join(ckpt, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    if labels != task.labels:
        raise SystemExit("eval_torch.py: error: %s's labels are not task %s's" % (ckpt, task_name))
    return task, edge


def dump(task, edge, ckpt, tok, examples, n, path):
    setup_torch()
    ref = reference_bert.ReferenceBert.load(ckpt)
    T = edge.get("temperature") or 1.0
    out = []
    for text, _ in examples[:n]:
        ids, tokens, offsets = tok.encode_offsets(text, MAX_LEN)
        t = torch.tensor([ids], dtype=torch.long)
        lg = ref.forward(t)["logits"][0].numpy().astype(np.float32)
        probs = metrics.softmax(lg.astype(np.float64), T).astype(np.float32)
        out.append({"text": text, "ids": ids, "tokens": tokens, "offsets": [list(o) for o in offsets],
                    "logits": lg.tolist(), "probs": probs.tolist()})
    weights = os.path.join(ckpt, "model.safetensors")
    doc = {"generated_by": "python3 -m tools.eval.pytorch (PyTorch %s, tools/eval/reference_bert.py: a BERT forward written by hand "
                           "in torch) on the checkpoint folder %s" % (torch.__version__, os.path.relpath(ckpt)),
           "regenerate": "make golden-models", "weights_sha256": sha256_file(weights),
           "task": task.name, "ckpt": os.path.relpath(ckpt), "temperature": T, "threshold": edge.get("threshold"),
           "labels": task.labels, "max_length": MAX_LEN, "texts": out}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
        f.write("\n")
    print("wrote %s: %d texts" % (path, len(out)))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="eval_torch.py", description="Dev metrics of a checkpoint with PyTorch.")
    ap.add_argument("--task", required=True, choices=tasks_mod.TASK_NAMES)
    ap.add_argument("--ckpt", help="checkpoint folder (default build/train/TASK)")
    ap.add_argument("--data", default=datasets.DEFAULT_DATA_DIR)
    ap.add_argument("--json", help="write the metrics here")
    ap.add_argument("--dump", help="write the first --texts dev texts' ids, logits and probabilities here")
    ap.add_argument("--texts", type=int, default=20)
    ap.add_argument("--texts-file", help="with --dump: the texts of this JSON file's member named after the task")
    ap.add_argument("--limit", type=int, help="score only the first N dev examples")
    args = ap.parse_args(argv)
    ckpt = args.ckpt or os.path.join(DEFAULT_OUT, args.task)
    setup_torch()
    task, edge = load(args.task, ckpt, args.data)
    tok = load_tokenizer(ckpt)
    if args.dump and args.texts_file:
        with open(args.texts_file, encoding="utf-8") as f:
            texts = json.load(f)[args.task]
        dump(task, edge, ckpt, tok, [(t, None) for t in texts], len(texts), args.dump)
        return 0
    examples = task.examples("dev", args.data)
    if args.limit:
        examples = examples[:args.limit]
    if args.dump:
        dump(task, edge, ckpt, tok, examples, args.texts, args.dump)
        return 0
    vocab = read_vocab(ckpt)
    encoded = encode_task(task, examples, tok)
    logits = oracle_logits(ckpt, encoded, vocab.index("[PAD]"))
    T = edge.get("temperature") or 1.0
    th = edge.get("threshold")
    before, _, _ = evaluate(task, encoded, logits, 1.0)
    after, _, _ = evaluate(task, encoded, logits, T, th)
    print("%s (%s), dev %d examples" % (task.name, ckpt, len(encoded)))
    print("T = 1:       " + summary(task, before))
    print("T = %.4f:  %s" % (T, summary(task, after)))
    print("threshold:   %s" % (th,))
    if task.kind == "token_classification":
        key = "per_type_word_entity" if "per_type_word_entity" in after else "per_type_entity"
        print("per type (%s, and span F1):" % key)
        for t in task.types:
            e = after[key].get(t)
            s = after["per_type_span"].get(t)
            if e is None and s is None:
                print("  %-18s (no gold or predicted entity)" % t)
                continue
            print("  %-18s P %.3f R %.3f F1 %.3f support %4d | span F1 %.3f" % (
                t, e["precision"] if e else 0, e["recall"] if e else 0, e["f1"] if e else 0,
                e["support"] if e else 0, s["f1"] if s else 0))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"task": task.name, "ckpt": ckpt, "temperature": T, "threshold": th,
                       "dev_before_calibration": before, "dev_at_temperature_and_threshold": after}, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
