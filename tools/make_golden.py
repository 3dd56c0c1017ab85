"""make_golden — write tests/fixtures/golden/<shape>.json: PyTorch reference outputs of the random-weight models.

Usage (from the repository root; `make golden` runs the same):
    /usr/bin/python3 tools/make_golden.py [--out tests/fixtures/golden] [--work build/ref] [--shapes tiny,minilm,odd]

For each shape it writes the Hugging Face folder WORK/<shape> with tools/make_reference.py, runs the
hand-written PyTorch forward of tools/reference_bert.py on fixed token ids, and writes OUT/<shape>.json:

    {"about", "tool", "regenerate",
     "model": {"shape", "seed", "task", "generator", "safetensors_sha256", "hidden_size", "labels"},
     "cases": [{"name", "ids": [[...] per text], "type_ids": [[...] per text],
                "logits": [per text: list of rows], "mean": [per text: H values]}]}

logits per text: token classification -> one row of C per token; sequence classification -> one row
of C; embedding (BertModel) -> one row, the pooler output (H values). mean: the mean over the text's
tokens of last_hidden_state. Each case runs as ONE padded batch with an attention mask, as Hugging Face
runs it, so the "mixed" case checks that the engine's unpadded ragged batch gives the same numbers.

Cases: single texts of 1, 7, 128 (a text pair: type ids 0 for the first 64 tokens, 1 after) and 512
tokens, then "mixed": one batch of 7, 1, 128 (again a pair), 40 and 512 tokens. Token ids come from
np.random.RandomState(1000 + model seed), drawn text by text in that order: [CLS]=101 first, [SEP]=102
last (length >= 2), the others uniform in [104, V).

The engine converts WORK/<shape> with tools/convert.py (the GGUF files are not kept in the repository);
the C tests compare its outputs with these numbers. Floats are float32 values printed with %.9g.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference  # noqa: E402
from reference_bert import ReferenceBert  # noqa: E402

CLS_ID, SEP_ID, FIRST_WORD_ID = 101, 102, 104
CASES = [("len1", [1]), ("len7", [7]), ("len128", [128]), ("len512", [512]),
         ("mixed", [7, 1, 128, 40, 512])]
PAIR_LENGTH, PAIR_SPLIT = 128, 64


def make_ids(rs, length, vocab_size):
    if length == 1:
        return [CLS_ID]
    middle = rs.randint(FIRST_WORD_ID, vocab_size, size=length - 2).tolist()
    return [CLS_ID] + middle + [SEP_ID]


def make_type_ids(length):
    if length == PAIR_LENGTH:
        return [0] * PAIR_SPLIT + [1] * (length - PAIR_SPLIT)
    return [0] * length


def run_case(model, ids, type_ids, task):
    """One padded batch -> (logits per text: list of rows, mean per text)."""
    B, L = len(ids), max(len(t) for t in ids)
    input_ids = torch.zeros((B, L), dtype=torch.long)  # padded with [PAD] = 0
    token_types = torch.zeros((B, L), dtype=torch.long)
    mask = torch.zeros((B, L), dtype=torch.long)
    for b, (t, tt) in enumerate(zip(ids, type_ids)):
        input_ids[b, :len(t)] = torch.tensor(t)
        token_types[b, :len(t)] = torch.tensor(tt)
        mask[b, :len(t)] = 1
    out = model.forward(input_ids, token_types, mask)
    logits, means = [], []
    for b, t in enumerate(ids):
        n = len(t)
        if task == "token_classification":
            rows = out["logits"][b, :n]
        elif task == "sequence_classification":
            rows = out["logits"][b:b + 1]
        else:
            rows = out["pooler_output"][b:b + 1]
        logits.append(rows.numpy().astype(np.float32))
        means.append(out["last_hidden_state"][b, :n].double().mean(0).float().numpy())
    return logits, means


def fmt_row(values):
    values = np.asarray(values, dtype=np.float32)
    if not np.isfinite(values).all():
        raise ValueError("non-finite output")
    return "[" + ",".join("%.9g" % float(v) for v in values) + "]"


def dumps(obj):
    return json.dumps(obj, separators=(", ", ": "))


def write_golden(path, header, cases):
    """Compact JSON: one line per text for ids, type_ids, logits (all rows) and mean."""
    lines = ["{"]
    for key, value in header.items():
        lines.append("%s: %s," % (dumps(key), dumps(value)))
    lines.append('"cases": [')
    for ci, case in enumerate(cases):
        lines.append('{"name": %s,' % dumps(case["name"]))
        for key in ("ids", "type_ids"):
            rows = [dumps(r).replace(" ", "") for r in case[key]]
            lines.append(' "%s": [\n  %s],' % (key, ",\n  ".join(rows)))
        rows = ["[" + ",".join(fmt_row(r) for r in text) + "]" for text in case["logits"]]
        lines.append(' "logits": [\n  %s],' % ",\n  ".join(rows))
        rows = [fmt_row(m) for m in case["mean"]]
        lines.append(' "mean": [\n  %s]}%s' % (",\n  ".join(rows), "," if ci + 1 < len(cases) else ""))
    lines.append("]}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # must parse
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return len(text)


def golden_for_shape(shape, out_dir, work_dir):
    folder = os.path.join(work_dir, shape)
    seed, vocab_size = make_reference.write_reference(shape, folder)
    with open(os.path.join(folder, "model.safetensors"), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    spec = make_reference.SHAPES[shape]
    task = make_reference.TASKS[spec["arch"]]
    model = ReferenceBert.load(folder)
    rs = np.random.RandomState(1000 + seed)
    cases = []
    all_logits = []
    for name, lengths in CASES:
        ids = [make_ids(rs, n, vocab_size) for n in lengths]
        type_ids = [make_type_ids(n) for n in lengths]
        logits, means = run_case(model, ids, type_ids, task)
        cases.append({"name": name, "ids": ids, "type_ids": type_ids, "logits": logits, "mean": means})
        all_logits += [x.ravel() for x in logits]
    header = {
        "about": "Reference outputs of the random-weight BERT '%s' (a %s model) for the engine's golden "
                 "tests. Convert WORK/%s (made by the generator below) with tools/convert.py, run each case "
                 "as one batch of texts with the given ids and type_ids, and compare: 'logits' per text is "
                 "a list of rows (token classification: one row per token; sequence classification: one "
                 "row of label scores; embedding: one row, the pooler output tanh(cls(h[CLS]))); 'mean' is "
                 "the mean over the text's tokens of the last hidden state." % (shape, task, shape),
        "tool": "PyTorch %s float32 on CPU: hand-written BERT forward (tools/reference_bert.py), padded "
                "batch with attention mask as Hugging Face runs it" % torch.__version__,
        "regenerate": "make golden  (= /usr/bin/python3 tools/make_golden.py)",
        "model": {"shape": shape, "seed": seed, "task": task,
                  "generator": "tools/make_reference.py --shape %s" % shape,
                  "safetensors_sha256": sha, "hidden_size": spec["hidden"], "labels": spec["labels"]},
    }
    os.makedirs(out_dir, exist_ok=True)
    size = write_golden(os.path.join(out_dir, shape + ".json"), header, cases)
    flat = np.concatenate(all_logits)
    means = np.concatenate([m for c in cases for m in c["mean"]])
    print("%-7s %-24s max|logit| %.4f  std(logits) %.4f  std(mean) %.4f  %6.1f KB -> %s"
          % (shape, task, np.abs(flat).max(), flat.std(), means.std(), size / 1024,
             os.path.join(out_dir, shape + ".json")))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write the golden reference outputs (tests/fixtures/golden).")
    ap.add_argument("--out", default="tests/fixtures/golden", help="output folder (default tests/fixtures/golden)")
    ap.add_argument("--work", default="build/ref", help="where the reference checkpoints go (default build/ref)")
    ap.add_argument("--shapes", default="tiny,minilm,odd", help="comma-separated shapes (default tiny,minilm,odd)")
    args = ap.parse_args(argv)
    shapes = [s for s in args.shapes.split(",") if s]
    for s in shapes:
        if s not in make_reference.SHAPES:
            ap.error("unknown shape %r (known: %s)" % (s, ", ".join(make_reference.SHAPES)))
    torch.set_num_threads(1)
    for shape in shapes:
        golden_for_shape(shape, args.out, args.work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
