"""Boundedness: the engine's answers (edgetag classify|extract --jsonl on the int8 file, as tools/eval/engine.py
runs it) turned into the measures, the per-class weak spots and the threshold curve. Scores are the model's
calibrated ones; a text escalates as the library decides: intent below the threshold or the abstain label;
extraction when its least confident entity is below the threshold (a text without entities never does)."""

import math

from tools.eval import metrics
from tools.eval.engine import run_cli


def intent(cli, model, examples, threshold, abstain="oos"):
    """Measures of a classifier on (text, label) examples; per-text answers kept for the other sections."""
    texts = [t for t, _ in examples]
    gold = [y for _, y in examples]
    answers = run_cli(cli, "classify", model, texts)
    pred = [a["label"] for a in answers]
    score = [a["score"] for a in answers]
    esc = [s < threshold or p == abstain for s, p in zip(score, pred)]
    plain = metrics.clinc_scores(gold, pred, oos=abstain)
    kept = [i for i in range(len(gold)) if not esc[i]]
    per = {}
    for g, p in zip(gold, pred):
        for lab, key in ((g, "support"), (p, "predicted")):
            per.setdefault(lab, {"support": 0, "predicted": 0, "correct": 0})[key] += 1
        if g == p:
            per[g]["correct"] += 1
    classes = []
    for lab, c in per.items():
        prec = c["correct"] / c["predicted"] if c["predicted"] else 0.0
        rec = c["correct"] / c["support"] if c["support"] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        if c["support"]:
            classes.append({"label": lab, "precision": prec, "recall": rec, "f1": f1, "support": c["support"]})
    classes.sort(key=lambda c: (c["f1"], c["label"]))
    return {
        "kind": "classify", "texts": len(texts), "accuracy": plain["accuracy"],
        "in_scope_accuracy": plain["in_scope_accuracy"], "oos_recall": plain["oos_recall"],
        "escalation_rate": sum(esc) / len(esc),
        "local_accuracy": sum(1 for i in kept if pred[i] == gold[i]) / len(kept) if kept else 1.0,
        "threshold": threshold, "abstain": abstain, "classes": classes,
        "curve": metrics.intent_curve(gold, pred, score, oos=abstain),
        "per_text": {"score": score, "escalate": esc, "pred": pred},
    }


def text_score(entities):
    """The least confident entity's score; inf for a text without entities (it never escalates)."""
    return min((e["score"] for e in entities), default=math.inf)


def extract(cli, model, examples, threshold):
    """Measures of a token classifier on (text, spans) examples (exact-match character spans)."""
    texts = [t for t, _ in examples]
    answers = run_cli(cli, "extract", model, texts, ("--aggregation", "first"))
    gold = [[(s, e, y) for s, e, y in spans] for _, spans in examples]
    pred = [[(x["start"], x["end"], x["label"]) for x in a["entities"]] for a in answers]
    scores = [text_score(a["entities"]) for a in answers]
    esc = [s < threshold for s in scores]
    s = metrics.span_prf(gold, pred)
    keep = [i for i in range(len(texts)) if not esc[i]]
    local = metrics.span_prf([gold[i] for i in keep], [pred[i] for i in keep])
    types = [{"label": t, **v} for t, v in s["per_type"].items()]
    types.sort(key=lambda c: (c["f1"], c["label"]))
    return {
        "kind": "extract", "texts": len(texts), "precision": s["precision"], "recall": s["recall"], "f1": s["f1"],
        "escalation_rate": sum(esc) / len(esc), "local_f1": local["f1"], "threshold": threshold, "classes": types,
        "curve": metrics.ner_curve(gold, pred, scores),
        "per_text": {"score": [x if math.isfinite(x) else None for x in scores], "escalate": esc},
    }


def escalates(quality, i, threshold):
    """Whether text i escalates at `threshold` (the curve's rule, for the cost model)."""
    s = quality["per_text"]["score"][i]
    if quality["kind"] == "classify":
        return s < threshold or quality["per_text"]["pred"][i] == quality["abstain"]
    return s is not None and s < threshold
