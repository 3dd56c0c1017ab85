"""engine — dev/val metrics of the shipped models, computed through the engine (`make eval`).

Usage:
    /usr/bin/python3 -m tools.eval.engine [--models models] [--variants build/variants] [--data ../shared/data]
                                          [--cli build/edgetag] [--json OUT]

For every model file models/<task>.gguf (int8) and models/<task>-f32.gguf it finds, and every derived variant
<task>-<variant>.gguf in --variants (`make variants`: -q4, 4-bit Q4_0 from the f32 file), it reads the task's dev
split (tools/data/tasks.py), runs every text through the native CLI in one process
(`edgetag classify|extract --jsonl`: the same C code as the wasm build), and scores the answers with
tools/eval/metrics.py:

    intent-clinc          accuracy, in-scope accuracy and out-of-scope precision/recall of the plain
                          answers, then at the model's stored threshold (escalate = the engine's flag):
                          the escalation rate, the in-scope accuracy of what stays local, oos recall
    maint-ner, pii-ner,   exact-match precision/recall/F1 of entity spans (type and character
    ner-general           boundaries, as seqeval's strict mode counts them), with aggregation "first"
                          (each word takes its first piece's tag, as the models were trained and as the
                          datasets label words), and the escalation rate

When both files of a model are there, it also compares them: the share of dev texts (intent-clinc) or dev
tokens (the token classifiers) whose arg-max label is the same in the int8 file as in the f32 one, and the
largest logit difference — the quantization's own cost, independent of the gold labels — with the int8
kernels of both wasm builds: "baseline" (8-bit activation levels) and "relaxed-dot16" (7-bit levels, the
relaxed build's; emulated exactly natively). Logits through `edgetag logits`, ids from `edgetag tokenize`.

Exit status 1 when a model cannot be evaluated; the data directory missing is reported and skipped (0).
"""

import argparse
import json
import os
import subprocess
import sys

from tools.eval import metrics
from tools.data import tasks
from tools.train.data import case_variants

RECASE_SEED = 20261205  # fixed: the re-cased dev copy is the same on every run

TASKS = ("intent-clinc", "maint-ner", "pii-ner", "ner-general")


def run_cli(cli, command, model, texts, extra=()):
    """One JSON answer per text, from `edgetag COMMAND --jsonl`."""
    stdin = "".join(json.dumps(t) + "\n" for t in texts)
    out = subprocess.run([cli, command, "--model", model, "--jsonl", *extra], input=stdin.encode("utf-8"),
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError("%s %s failed: %s" % (command, model, out.stderr.decode("utf-8", "replace").strip()))
    lines = out.stdout.decode("utf-8").splitlines()
    if len(lines) != len(texts):
        raise RuntimeError("%s %s: %d answers for %d texts" % (command, model, len(lines), len(texts)))
    return [json.loads(line) for line in lines]


def eval_intent(cli, model, examples):
    texts = [t for t, _ in examples]
    gold = [y for _, y in examples]
    answers = run_cli(cli, "classify", model, texts)
    pred = [a["label"] for a in answers]
    esc = [a["escalate"] for a in answers]
    plain = metrics.clinc_scores(gold, pred)
    kept = metrics.clinc_scores(gold, pred, escalated=esc)
    return {
        "texts": len(texts),
        "accuracy": plain["accuracy"],
        "in_scope_accuracy": plain["in_scope_accuracy"],
        "oos_recall": plain["oos_recall"],
        "oos_precision": plain["oos_precision"],
        "escalation_rate": sum(esc) / len(esc),
        "at_threshold": {
            "local_in_scope_accuracy": _local_in_scope_accuracy(gold, pred, esc),
            "oos_recall": kept["oos_recall"],
            "oos_precision": kept["oos_precision"],
        },
    }


def _local_in_scope_accuracy(gold, pred, esc):
    """Accuracy of the in-scope texts the model keeps (not escalated, not answered oos)."""
    kept = [i for i in range(len(gold)) if gold[i] != "oos" and not esc[i] and pred[i] != "oos"]
    return sum(1 for i in kept if pred[i] == gold[i]) / len(kept) if kept else 0.0


def eval_ner(cli, model, examples):
    texts = [t for t, _ in examples]
    answers = run_cli(cli, "extract", model, texts, ("--aggregation", "first"))
    gold = [[(s, e, y) for s, e, y in spans] for _, spans in examples]
    pred = [[(x["start"], x["end"], x["label"]) for x in a["entities"]] for a in answers]
    s = metrics.span_prf(gold, pred)
    esc = [a["escalate"] for a in answers]
    return {"texts": len(texts), "precision": s["precision"], "recall": s["recall"], "f1": s["f1"],
            "per_type": s["per_type"], "escalation_rate": sum(esc) / len(esc)}


def run_lines(cmd):
    out = subprocess.run(cmd, capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd[:2]), out.stderr.decode("utf-8", "replace").strip()))
    return [json.loads(line) for line in out.stdout.decode("utf-8").splitlines()]


def argmax_agreement(cli, f32, i8, texts, kernels, chunk=16):
    """(share of logit rows whose arg-max is the same in both files, rows, max |logit difference|)."""
    ids = [r["ids"] for k in range(0, len(texts), 256)
           for r in run_lines([cli, "tokenize", "--model", f32, "--", *texts[k:k + 256]])]
    if len(ids) != len(texts):
        raise RuntimeError("tokenize %s: %d answers for %d texts" % (f32, len(ids), len(texts)))
    agree = total = 0
    worst = 0.0
    for k in range(0, len(ids), chunk):
        args = ["--kernels", kernels] + [a for x in ids[k:k + chunk] for a in ("--ids", ",".join(map(str, x)))]
        a = run_lines([cli, "logits", "--model", f32, *args])
        b = run_lines([cli, "logits", "--model", i8, *args])
        for ra, rb in zip(a, b):
            for x, y in zip(ra["logits"], rb["logits"]):
                agree += max(range(len(x)), key=x.__getitem__) == max(range(len(y)), key=y.__getitem__)
                total += 1
                worst = max(worst, max(abs(p - q) for p, q in zip(x, y)))
    return agree / total, total, worst


def main(argv=None):
    ap = argparse.ArgumentParser(prog="eval.py", description="Dev metrics of the shipped models through the engine.")
    ap.add_argument("--models", default="models")
    ap.add_argument("--variants", default=None, help="a folder of <task>-<variant>.gguf files made from the shipped ones")
    ap.add_argument("--data", default=tasks.DEFAULT_DATA_DIR)
    ap.add_argument("--cli", default="build/edgetag")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.data):
        print("eval: %s is absent: the dev splits live there; nothing to evaluate" % args.data)
        return 0
    results, failed = {}, False
    for name in TASKS:
        task = None
        candidates = [os.path.join(args.models, name + suffix + ".gguf") for suffix in ("", "-f32")]
        if args.variants and os.path.isdir(args.variants):
            candidates += sorted(os.path.join(args.variants, f) for f in os.listdir(args.variants)
                                 if f.startswith(name + "-") and f.endswith(".gguf"))
        for model in candidates:
            if not os.path.exists(model):
                continue
            task = task or tasks.get(name, args.data)
            dev = task.examples("dev", args.data)
            try:
                r = eval_intent(args.cli, model, dev) if name == "intent-clinc" else eval_ner(args.cli, model, dev)
            except RuntimeError as e:
                print("eval: %s" % e, file=sys.stderr)
                failed = True
                continue
            if name == "maint-ner":
                # MaintIE is all lower case; users are not: the same dev texts re-cased as people type them.
                r["as_typed"] = eval_ner(args.cli, model, case_variants(dev, 1.0, RECASE_SEED))
            results[os.path.basename(model)] = r
            if name == "intent-clinc":
                t = r["at_threshold"]
                print("%-26s %5d texts  accuracy %.4f  in-scope %.4f  oos recall %.3f precision %.3f | threshold: "
                      "escalate %.1f%%, local in-scope accuracy %.4f, oos recall %.3f"
                      % (os.path.basename(model), r["texts"], r["accuracy"], r["in_scope_accuracy"], r["oos_recall"],
                         r["oos_precision"], 100 * r["escalation_rate"], t["local_in_scope_accuracy"], t["oos_recall"]))
            else:
                print("%-26s %5d texts  entity span F1 %.4f (P %.4f R %.4f)  escalate %.1f%%"
                      % (os.path.basename(model), r["texts"], r["f1"], r["precision"], r["recall"],
                         100 * r["escalation_rate"]))
                if "as_typed" in r:
                    print("%-26s as typed (dev re-cased: capitalized, title or upper case): F1 %.4f (P %.4f R %.4f)"
                          % ("", r["as_typed"]["f1"], r["as_typed"]["precision"], r["as_typed"]["recall"]))
                print("%-26s per type F1: %s" % ("", ", ".join(
                    "%s %.3f (%d)" % (t, v["f1"], v["support"]) for t, v in sorted(r["per_type"].items()))))
        f32 = os.path.join(args.models, name + "-f32.gguf")
        quantized = [m for m in candidates if m != f32 and os.path.basename(m) in results
                     and "-pruned" not in os.path.basename(m)]  # a pruned model is another network: no arg-max pairing
        if os.path.basename(f32) in results:
            texts = [t for t, _ in task.examples("dev", args.data)]
            unit = "texts" if name == "intent-clinc" else "tokens"
            for q in quantized:
                what = "int8" if q.endswith(name + ".gguf") else os.path.basename(q)[len(name) + 1:-len(".gguf")]
                for kernels in ("baseline", "relaxed-dot16"):
                    try:
                        share, rows, worst = argmax_agreement(args.cli, f32, q, texts, kernels)
                    except RuntimeError as e:
                        print("eval: %s" % e, file=sys.stderr)
                        failed = True
                        continue
                    print("%-26s %s vs f32 (%s kernels): the same arg-max for %.2f%% of %d dev %s, max |logit "
                          "difference| %.4f" % ("", what, kernels, 100 * share, rows, unit, worst))
                    results[os.path.basename(q)]["agreement_with_f32_" + kernels] = {"share": share, unit: rows,
                                                                                     "max_abs_logit_diff": worst}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    if not results:
        print("eval: no models found in %s" % args.models)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
