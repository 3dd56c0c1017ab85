"""Stage calibrate: temperature scaling and the escalation threshold of a fine-tuned folder, on the dev split.

Dev logits come from the saved folder through tools/eval/reference_bert.py (the PyTorch oracle). The
temperature is T = exp(s), s minimizing the dev NLL (LBFGS, strong Wolfe) over the examples (NER: over every
non-ignored token); the threshold follows the rules of tools/eval/metrics.py (choose_intent_threshold: oos
recall >= 0.90; choose_ner_threshold: at most 20% of dev texts escalated). Both go into edgetag.json with
the dev measures before and after, the rule, and the curve.
"""

import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from tools.data import tasks as tasks_mod
from tools.eval import metrics
from tools.eval.scores import evaluate, summary
from tools.train.data import encode_task, limit_examples, load_tokenizer, oracle_logits, read_vocab
from tools.train.model import setup_torch
from tools.train.runtime import log, read_json, write_json
from tools.train.settings import ESCALATION, PRESETS, preset_flag


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


def choose_threshold(task, curve):
    """(threshold, whether the rule was met on dev, the rule in words) from the dev escalation curve, by the
    rules of tools/eval/metrics.py and ESCALATION."""
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
    return row["threshold"], reached, rule


def print_curve(task, rows):
    """Logs the escalation curve's rows as a table."""
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
    """Calibrates the fine-tuned folder (default OUT/TASK) in place: fits the temperature and chooses the
    threshold on the dev split, and writes them with the dev measures and curve into its edgetag.json."""
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
    threshold, reached, rule = choose_threshold(task, curve)
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
