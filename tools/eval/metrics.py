"""metrics — evaluation measures of edgetag's student models, and the escalation-threshold rules. numpy only.

Entities (seqeval's strict mode with the IOB2 scheme, `classification_report(..., mode="strict",
scheme=IOB2)`), written from its definition:
    iob2_entities(tags)            [(type, start, end)] token-index entities, end exclusive: an entity is a
                                   B-X followed by zero or more I-X (same X); it ends at anything else. An
                                   I-X that does not continue a B-X/I-X of type X (after O, after another
                                   type, or first) belongs to no entity and starts none. Boundaries and type
                                   must then match exactly. E.g. [B-X I-X O I-Y] has one entity (X, 0, 2);
                                   [I-X I-X O] has none; [B-X I-Y] has (X, 0, 1).
    entity_prf(gold_seqs, pred_seqs)   micro precision / recall / F1 over all sequences, and per type
                                       ({"precision", "recall", "f1", "support"}); 0/0 counts as 0.
Character spans:
    span_prf(gold_spans, pred_spans)   the same over per-text sets of (start, end, type): exact match.
    tags_to_spans(tags, offsets)       strict IOB2 entities over tokens -> character spans
                                       (first token's start, last token's end).
Classification:
    accuracy(y_true, y_pred)
    clinc_scores(y_true, y_pred, escalated=None, oos="oos")
        in_scope_accuracy   over the examples whose true label is not oos: predicted label correct (and,
                            when `escalated` is given, not escalated)
        oos_recall          true-oos examples caught: labelled oos or escalated
        oos_precision       of the examples labelled oos or escalated, the share that are truly oos
        accuracy            plain accuracy of the labels (escalation ignored)
Calibration:
    ece(confidence, correct, bins=15)  expected calibration error: equal-width bins over [0, 1] (a value
                                       of exactly 1 goes to the last bin), sum over bins of
                                       (bin count / N) * |accuracy - mean confidence|.
Escalation thresholds (a case escalates when its score < threshold; see choose_* for the rules). Thresholds
are placed halfway between consecutive distinct scores, so float32 rounding in the engine does not move a
case across the line.
"""

import math

import numpy as np


# ------------------------------------------------------------------------------------------------
# Entities
# ------------------------------------------------------------------------------------------------


def _split(tag):
    if tag == "O" or tag is None:
        return "O", None
    if len(tag) < 2 or tag[1] != "-" or tag[0] not in "BI":
        raise ValueError("tag %r is not O, B-X or I-X" % (tag,))
    return tag[0], tag[2:]


def iob2_entities(tags):
    """[(type, start, end)] of a tag sequence, seqeval strict IOB2 (module docstring)."""
    out = []
    i, n = 0, len(tags)
    while i < n:
        p, t = _split(tags[i])
        if p != "B":
            i += 1
            continue
        j = i + 1
        while j < n and _split(tags[j]) == ("I", t):
            j += 1
        out.append((t, i, j))
        i = j
    return out


def _prf(tp, n_pred, n_gold):
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _score_sets(gold_sets, pred_sets):
    """gold_sets, pred_sets: per-item sets of (..., type) tuples, type last."""
    types = sorted({e[-1] for s in gold_sets for e in s} | {e[-1] for s in pred_sets for e in s})
    per = {t: [0, 0, 0] for t in types}  # tp, pred, gold
    for g, p in zip(gold_sets, pred_sets):
        for e in g:
            per[e[-1]][2] += 1
        for e in p:
            per[e[-1]][1] += 1
        for e in g & p:
            per[e[-1]][0] += 1
    tp = sum(v[0] for v in per.values())
    n_pred = sum(v[1] for v in per.values())
    n_gold = sum(v[2] for v in per.values())
    P, R, F = _prf(tp, n_pred, n_gold)
    out = {"precision": P, "recall": R, "f1": F, "support": n_gold, "predicted": n_pred, "correct": tp,
           "per_type": {}}
    for t in types:
        p, r, f = _prf(*per[t])
        out["per_type"][t] = {"precision": p, "recall": r, "f1": f, "support": per[t][2]}
    return out


def entity_prf(gold_seqs, pred_seqs):
    """seqeval strict IOB2 scores of tag sequences (lists of lists of tags)."""
    if len(gold_seqs) != len(pred_seqs):
        raise ValueError("%d gold sequences but %d predicted" % (len(gold_seqs), len(pred_seqs)))
    gold, pred = [], []
    for g, p in zip(gold_seqs, pred_seqs):
        if len(g) != len(p):
            raise ValueError("sequence lengths differ: %d gold tags, %d predicted" % (len(g), len(p)))
        gold.append({(s, e, t) for t, s, e in iob2_entities(g)})
        pred.append({(s, e, t) for t, s, e in iob2_entities(p)})
    return _score_sets(gold, pred)


def span_prf(gold_spans, pred_spans):
    """Exact-match scores of character spans: per text, iterables of (start, end, type)."""
    if len(gold_spans) != len(pred_spans):
        raise ValueError("%d gold texts but %d predicted" % (len(gold_spans), len(pred_spans)))
    return _score_sets([set(map(tuple, g)) for g in gold_spans], [set(map(tuple, p)) for p in pred_spans])


def tags_to_spans(tags, offsets):
    """Character spans [(start, end, type)] of the strict IOB2 entities of per-token tags with per-token
    [start, end) offsets."""
    return [(offsets[s][0], offsets[e - 1][1], t) for t, s, e in iob2_entities(tags)]


# ------------------------------------------------------------------------------------------------
# Classification and calibration
# ------------------------------------------------------------------------------------------------


def accuracy(y_true, y_pred):
    if len(y_true) != len(y_pred):
        raise ValueError("length mismatch")
    return sum(1 for a, b in zip(y_true, y_pred) if a == b) / len(y_true) if len(y_true) else 0.0


def clinc_scores(y_true, y_pred, escalated=None, oos="oos"):
    """CLINC150 measures (module docstring). escalated: per-example booleans or None."""
    n = len(y_true)
    esc = [False] * n if escalated is None else list(escalated)
    in_scope = [i for i in range(n) if y_true[i] != oos]
    out_scope = [i for i in range(n) if y_true[i] == oos]
    flagged = [i for i in range(n) if y_pred[i] == oos or esc[i]]
    caught = sum(1 for i in out_scope if y_pred[i] == oos or esc[i])
    return {
        "in_scope_accuracy": (sum(1 for i in in_scope if y_pred[i] == y_true[i] and not esc[i]) / len(in_scope)
                              if in_scope else 0.0),
        "oos_recall": caught / len(out_scope) if out_scope else 0.0,
        "oos_precision": (sum(1 for i in flagged if y_true[i] == oos) / len(flagged)) if flagged else 0.0,
        "accuracy": accuracy(y_true, y_pred),
    }


def ece(confidence, correct, bins=15):
    """Expected calibration error with `bins` equal-width bins."""
    conf = np.asarray(confidence, dtype=np.float64)
    corr = np.asarray(correct, dtype=np.float64)
    if conf.size == 0:
        return 0.0
    idx = np.minimum((conf * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / conf.size * abs(corr[m].mean() - conf[m].mean())
    return float(total)


def nll(probs_of_truth):
    p = np.clip(np.asarray(probs_of_truth, dtype=np.float64), 1e-12, 1.0)
    return float(-np.log(p).mean()) if p.size else 0.0


# ------------------------------------------------------------------------------------------------
# Escalation thresholds
# ------------------------------------------------------------------------------------------------


def candidate_thresholds(scores):
    """0, the midpoints between consecutive distinct scores, and 1 + (something above every score):
    every distinct way of splitting the cases by `score < threshold`, lowest first."""
    s = np.unique(np.asarray(scores, dtype=np.float64))
    out = [0.0]
    out += [float((a + b) / 2) for a, b in zip(s[:-1], s[1:])]
    if s.size:
        out.append(float(max(1.0, s[-1]) + 1e-6))
    return out


def intent_curve(y_true, y_pred, top_prob, oos="oos", thresholds=None):
    """Per threshold t (escalate when top_prob < t or the label is oos): escalation rate, clinc_scores
    with escalation, and local_accuracy = accuracy over the cases kept local (oos cases kept count as
    wrong)."""
    top = np.asarray(top_prob, dtype=np.float64)
    ts = candidate_thresholds(top) if thresholds is None else thresholds
    curve = []
    for t in ts:
        esc = [bool(p < t) or y == oos for p, y in zip(top, y_pred)]
        kept = [i for i in range(len(y_true)) if not esc[i]]
        row = {"threshold": float(t), "escalation_rate": sum(esc) / len(esc) if esc else 0.0}
        row.update(clinc_scores(y_true, y_pred, esc, oos))
        row["local_accuracy"] = (sum(1 for i in kept if y_pred[i] == y_true[i]) / len(kept)) if kept else 1.0
        kept_in = [i for i in kept if y_true[i] != oos]
        row["kept_in_scope_accuracy"] = (sum(1 for i in kept_in if y_pred[i] == y_true[i]) / len(kept_in)
                                         if kept_in else 1.0)
        del row["accuracy"]
        curve.append(row)
    return curve


def choose_intent_threshold(curve, min_oos_recall=0.90):
    """The intent-clinc rule. Escalate when the calibrated top probability < threshold or the label is oos.
    Among the thresholds whose oos recall (an oos case is caught when escalated or labelled oos) is at least
    min_oos_recall, take the one with the highest in-scope accuracy, counting an escalated in-scope case as
    not answered locally (clinc_scores' in_scope_accuracy with escalation); ties -> the lowest threshold.
    Measured as an accuracy over the kept cases alone, the objective would grow until everything is
    escalated; counted this way it falls as the threshold rises, so the rule picks the lowest threshold
    that reaches the recall floor, i.e. the fewest escalations. When no threshold reaches the floor: the
    one with the highest oos recall (then the lowest). Returns (row, reached)."""
    ok = [r for r in curve if r["oos_recall"] >= min_oos_recall]
    if ok:
        best = max(ok, key=lambda r: (r["in_scope_accuracy"], -r["threshold"]))
        return best, True
    return max(curve, key=lambda r: (r["oos_recall"], -r["threshold"])), False


def ner_curve(gold_spans, pred_spans, text_scores, thresholds=None):
    """Per threshold t: a text escalates when its score (the lowest entity score; texts without a
    predicted entity have score inf and never escalate) < t. Escalation rate, and span P/R/F1 over the
    texts kept local."""
    sc = np.asarray(text_scores, dtype=np.float64)
    finite = sc[np.isfinite(sc)]
    ts = candidate_thresholds(finite) if thresholds is None else thresholds
    curve = []
    n = len(gold_spans)
    for t in ts:
        keep = [i for i in range(n) if not sc[i] < t]
        s = span_prf([gold_spans[i] for i in keep], [pred_spans[i] for i in keep])
        curve.append({"threshold": float(t), "escalation_rate": (n - len(keep)) / n if n else 0.0,
                      "local_precision": s["precision"], "local_recall": s["recall"], "local_f1": s["f1"],
                      "kept_texts": len(keep)})
    return curve


def choose_ner_threshold(curve, max_escalation=0.20):
    """The NER rule: among the thresholds escalating at most max_escalation of the texts, the one with the
    highest span F1 over the texts kept local; ties -> the lowest threshold (fewest escalations)."""
    ok = [r for r in curve if r["escalation_rate"] <= max_escalation + 1e-12]
    return max(ok, key=lambda r: (r["local_f1"], -r["threshold"]))


def thin_curve(curve, points=21):
    """A readable subset of a curve: the rows nearest to escalation rates 0, 1/(points-1), ..., 1, each
    row once, in threshold order."""
    if len(curve) <= points:
        return list(curve)
    keep = set()
    for k in range(points):
        target = k / (points - 1)
        keep.add(min(range(len(curve)), key=lambda i: (abs(curve[i]["escalation_rate"] - target), i)))
    return [curve[i] for i in sorted(keep)]


def softmax(logits, temperature=1.0, axis=-1):
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def isclose(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
