"""Old and new student measured alike on a portion: accuracy, in-scope accuracy and oos recall of the argmax,
then with escalation (calibrated top probability < threshold, or the abstain label) the escalation rate and
the accuracy of what stays local; and the escalation a model needs to keep a given local accuracy."""

import numpy as np

from tools.eval import metrics


def predictions(labels, logits, temperature):
    """(predicted labels, calibrated top probabilities) of per-example logits."""
    P = metrics.softmax(np.stack(logits).astype(np.float64), temperature)
    return [labels[i] for i in P.argmax(1)], P.max(1)


def measure(labels, gold, logits, temperature, threshold, abstain="oos"):
    """The measures of one model on one portion (see the module docstring), with its escalation curve."""
    pred, top = predictions(labels, logits, temperature)
    plain = metrics.clinc_scores(gold, pred, oos=abstain)
    esc = [bool(p < threshold) or y == abstain for p, y in zip(top, pred)]
    kept = [i for i in range(len(gold)) if not esc[i]]
    return {
        "n": len(gold),
        "accuracy": plain["accuracy"],
        "in_scope_accuracy": plain["in_scope_accuracy"],
        "oos_recall": plain["oos_recall"],
        "threshold": float(threshold),
        "temperature": float(temperature),
        "escalation_rate": sum(esc) / len(esc),
        "local_accuracy": sum(1 for i in kept if pred[i] == gold[i]) / len(kept) if kept else 1.0,
        "curve": metrics.intent_curve(gold, pred, top, oos=abstain),
    }


def escalation_for(curve, local_accuracy):
    """The least escalation at which the kept-local accuracy reaches `local_accuracy`: {threshold,
    escalation_rate, local_accuracy} of that curve row (everything escalated, 1.0, if none reaches it)."""
    ok = [r for r in curve if r["local_accuracy"] >= local_accuracy - 1e-12]
    if not ok:
        return {"threshold": None, "escalation_rate": 1.0, "local_accuracy": None}
    best = min(ok, key=lambda r: (r["escalation_rate"], r["threshold"]))
    return {k: best[k] for k in ("threshold", "escalation_rate", "local_accuracy")}


def compare(old, new, min_gain=0.0):
    """The gate: (accepted, reasons, matched). The new student must (1) beat the old one's accuracy on the
    held-out portion by more than min_gain, and (2) need no more escalation than the old one to keep the old
    one's kept-local accuracy at its shipped threshold. Every failed condition is a reason."""
    target = old["local_accuracy"]
    matched = {"target_local_accuracy": target, "old": escalation_for(old["curve"], target),
               "new": escalation_for(new["curve"], target)}
    reasons = []
    gain = new["accuracy"] - old["accuracy"]
    if not gain > min_gain:
        reasons.append("held-out accuracy %.4f is not above the old student's %.4f by more than %.4f"
                       % (new["accuracy"], old["accuracy"], min_gain))
    if matched["new"]["escalation_rate"] > matched["old"]["escalation_rate"]:
        reasons.append("to keep the old student's kept-local accuracy %.4f the new one escalates %.1f %% of "
                       "held-out texts, the old one %.1f %%" % (target, 100 * matched["new"]["escalation_rate"],
                                                                 100 * matched["old"]["escalation_rate"]))
    return not reasons, reasons, matched
