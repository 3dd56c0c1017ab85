"""Dev measures of a task from per-example logits, at a temperature and, given one, an escalation threshold:
intent-clinc's accuracy, in-scope accuracy and oos precision/recall; NER's seqeval-strict entity scores over
subword tags, character-span scores (also with first-subword decoding) and, for word-level datasets, word-level
entity scores; NLL and ECE for both. The training pipeline selects epochs and calibrates with them, and
tools/eval/pytorch.py reports them. numpy only.
"""

import numpy as np

from tools.data import datasets
from tools.eval import metrics


def word_tags(text, spans):
    """Word-level IOB2 gold tags of a text made of space-joined words (MaintIE, BTC, WNUT)."""
    words = text.split(" ")
    offs = datasets.token_offsets(words)
    tags = ["O"] * len(words)
    for s, e, typ in spans:
        for k, (a, b) in enumerate(offs):
            if a >= s and b <= e:
                tags[k] = ("B-" if a == s else "I-") + typ
    return offs, tags


def evaluate(task, encoded, logits, temperature=1.0, threshold=None):
    """Dev measures of per-example logits at a temperature (and threshold, when given). Returns
    (metrics dict, curve rows, per-example details)."""
    labels = task.labels
    if task.kind == "sequence_classification":
        L = np.stack(logits).astype(np.float64)
        P = metrics.softmax(L, temperature)
        y = np.array([e["label"] for e in encoded])
        pred = P.argmax(1)
        top = P.max(1)
        yt = [labels[i] for i in y]
        yp = [labels[i] for i in pred]
        m = metrics.clinc_scores(yt, yp)
        m["nll"] = metrics.nll(P[np.arange(len(y)), y])
        m["ece"] = metrics.ece(top, pred == y)
        m["n"] = len(y)
        curve = metrics.intent_curve(yt, yp, top)
        if threshold is not None:
            esc = [bool(p < threshold) or l == "oos" for p, l in zip(top, yp)]
            at = metrics.clinc_scores(yt, yp, esc)
            del at["accuracy"]
            at["escalation_rate"] = sum(esc) / len(esc)
            kept = [i for i in range(len(y)) if not esc[i]]
            at["local_accuracy"] = sum(1 for i in kept if yp[i] == yt[i]) / len(kept) if kept else 1.0
            m["at_threshold"] = at
        return m, curve, {"pred": yp, "top": top.tolist()}
    # token classification
    label2id = {l: i for i, l in enumerate(labels)}
    gold_tags, pred_tags, gold_spans, pred_spans, text_scores = [], [], [], [], []
    tok_conf, tok_ok, tok_ptrue = [], [], []
    gold_words, pred_words, first_spans = [], [], []
    word_level = task.name in ("maint-ner", "ner-general")
    for e, lg in zip(encoded, logits):
        P = metrics.softmax(np.asarray(lg, dtype=np.float64)[1:-1], temperature)
        pi = P.argmax(1)
        pt = [labels[i] for i in pi]
        gi = np.array([label2id[t] for t in e["tags"]], dtype=np.int64)
        conf = P.max(1)
        tok_conf += conf.tolist()
        tok_ok += (pi == gi).tolist()
        tok_ptrue += P[np.arange(len(gi)), gi].tolist()
        gold_tags.append(e["tags"])
        pred_tags.append(pt)
        offs = e["offsets"][1:-1]
        ents = metrics.iob2_entities(pt)
        spans = [(offs[s][0], offs[t - 1][1], typ) for typ, s, t in ents]
        scores = [float(conf[s:t].mean()) for _, s, t in ents]
        pred_spans.append(spans)
        gold_spans.append(e["spans"])
        # "first subword" decoding: a ## continuation takes the tag of the piece before it (B-X/I-X -> I-X)
        pf = list(pt)
        for k, piece in enumerate(e["tokens"][1:-1]):
            if k and piece.startswith("##"):
                pf[k] = "O" if pf[k - 1] == "O" else "I-" + pf[k - 1][2:]
        first_spans.append(metrics.tags_to_spans(pf, offs))
        text_scores.append(min(scores) if scores else float("inf"))
        if word_level:
            woffs, wg = word_tags(e["text"], e["spans"])
            wp = ["O"] * len(woffs)
            starts = {a: k for k, (a, _) in enumerate(woffs)}
            for k, (a, _) in enumerate(offs):
                if a in starts and wp[starts[a]] == "O":
                    wp[starts[a]] = pt[k]
            gold_words.append(wg)
            pred_words.append(wp)
    ent = metrics.entity_prf(gold_tags, pred_tags)
    sp = metrics.span_prf(gold_spans, pred_spans)
    m = {"entity_f1": ent["f1"], "entity_precision": ent["precision"], "entity_recall": ent["recall"],
         "span_f1": sp["f1"], "span_precision": sp["precision"], "span_recall": sp["recall"],
         "token_accuracy": float(np.mean(tok_ok)), "nll": metrics.nll(tok_ptrue), "ece": metrics.ece(tok_conf, tok_ok),
         "per_type_entity": {t: v for t, v in ent["per_type"].items()},
         "per_type_span": {t: v for t, v in sp["per_type"].items()},
         "texts": len(encoded), "tokens": len(tok_ok), "gold_entities": sp["support"]}
    fs = metrics.span_prf(gold_spans, first_spans)
    m["span_f1_first_subword"] = fs["f1"]
    m["span_precision_first_subword"] = fs["precision"]
    m["span_recall_first_subword"] = fs["recall"]
    if word_level:
        w = metrics.entity_prf(gold_words, pred_words)
        m["word_entity_f1"] = w["f1"]
        m["word_entity_precision"] = w["precision"]
        m["word_entity_recall"] = w["recall"]
        m["per_type_word_entity"] = w["per_type"]
    curve = metrics.ner_curve(gold_spans, pred_spans, text_scores)
    if threshold is not None:
        keep = [i for i in range(len(encoded)) if not text_scores[i] < threshold]
        s = metrics.span_prf([gold_spans[i] for i in keep], [pred_spans[i] for i in keep])
        m["at_threshold"] = {"escalation_rate": 1 - len(keep) / len(encoded), "local_f1": s["f1"],
                             "local_precision": s["precision"], "local_recall": s["recall"]}
    return m, curve, {"pred_tags": pred_tags, "pred_spans": pred_spans, "text_scores": text_scores}


def selection_score(task, m):
    """The measure by which the best epoch is chosen: accuracy (intent), span F1 (NER)."""
    return m["accuracy"] if task.kind == "sequence_classification" else m["span_f1"]


def summary(task, m):
    """One line of the main measures, for the log."""
    if task.kind == "sequence_classification":
        s = "accuracy %.4f in-scope %.4f oos recall %.3f precision %.3f nll %.4f ece %.4f" % (
            m["accuracy"], m["in_scope_accuracy"], m["oos_recall"], m["oos_precision"], m["nll"], m["ece"])
    else:
        s = "entity F1 %.4f (P %.3f R %.3f) span F1 %.4f token acc %.4f nll %.4f ece %.4f" % (
            m["entity_f1"], m["entity_precision"], m["entity_recall"], m["span_f1"], m["token_accuracy"],
            m["nll"], m["ece"])
        if "word_entity_f1" in m:
            s += " word-level entity F1 %.4f" % m["word_entity_f1"]
        if "span_f1_first_subword" in m:
            s += " first-subword span F1 %.4f" % m["span_f1_first_subword"]
    if "at_threshold" in m:
        s += " | at threshold: " + ", ".join("%s %.4f" % kv for kv in m["at_threshold"].items())
    return s
