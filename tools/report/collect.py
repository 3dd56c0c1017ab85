"""The measurements of one model, run here and now: quality through the native engine, latency, tokens and memory
through the wasm build (measure.mjs), personal data through the pii-ner model, the cost model, the ownership
facts. Returns one dict (written as <model>.json beside the page) that render.py turns into HTML and Markdown."""

import gzip
import json
import os
import subprocess
import tempfile

from tools import ROOT
from tools.data import tasks as tasks_mod
from tools.eval.engine import run_cli
from tools.formats import ggufio
from tools.report import costs, quality

TASK_OF = {"intent-clinc": "intent-clinc", "maint-ner": "maint-ner", "pii-ner": "pii-ner"}


def percentile(values, q):
    """The q-th percentile by linear interpolation between closest ranks (numpy's default)."""
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def sample_indices(n, k):
    """k indices spread evenly over range(n) (all of them when k >= n)."""
    if k >= n:
        return list(range(n))
    return [int(i * n / k) for i in range(k)]


def gold_answer(kind, text, y):
    """What the cloud would answer, as JSON: the gold label or spans (their output tokens are counted)."""
    if kind == "classify":
        return {"label": y, "score": 0.9}
    return {"entities": [{"label": t, "text": text[s:e], "start": s, "end": e} for s, e, t in y]}


def run_measure(node, model, texts, answers, warmup, repeats=3, pattern_texts=()):
    """measure.mjs on the texts: its JSON, with p50/p95 added."""
    with tempfile.TemporaryDirectory() as d:
        inp, out = os.path.join(d, "in.json"), os.path.join(d, "out.json")
        with open(inp, "w") as f:
            json.dump({"texts": texts, "answers": answers, "warmup": warmup, "repeats": repeats,
                       "patternTexts": list(pattern_texts)}, f)
        subprocess.run(node + [os.path.join(ROOT, "tools", "report", "measure.mjs"), model, inp, out], check=True, cwd=ROOT)
        with open(out) as f:
            m = json.load(f)
    m["load_average"] = os.getloadavg()[0]
    m["p50_ms"] = percentile(m["latencyMs"], 50)
    m["p95_ms"] = percentile(m["latencyMs"], 95)
    return m


def sensitivity(cli, pii_model, texts, patterns):
    """Share of texts in which the pii-ner model flags at least one entity, overall and by type, with a few of
    its spans per type (for a reader to judge them: they are not checked against gold); and the share in which
    patternRedactor() finds an identifier of a checkable shape (patterns, from measure.mjs)."""
    answers = run_cli(cli, "extract", pii_model, texts)
    by_type, examples = {}, {}
    with_any = 0
    for a in answers:
        types = {e["label"] for e in a["entities"]}
        with_any += bool(types)
        for t in types:
            by_type[t] = by_type.get(t, 0) + 1
        for e in a["entities"]:
            seen = examples.setdefault(e["label"], [])
            if len(seen) < 4 and e["text"] not in seen:
                seen.append(e["text"])
    n = len(texts)
    return {"texts": n, "share_with_any": with_any / n if n else 0.0,
            "by_type": sorted(({"type": t, "texts": c, "share": c / n, "examples": examples.get(t, [])} for t, c in by_type.items()),
                              key=lambda r: (-r["texts"], r["type"])),
            "patterns": {"texts": patterns["texts"], "share_with_any": patterns["withAny"] / patterns["texts"] if patterns["texts"] else 0.0,
                         "by_type": dict(sorted(patterns["byType"].items(), key=lambda kv: -kv[1]))}}


def release_state(name, release_dir):
    """What models/manifest.json says of the model, and the release channel's manifest when one is given."""
    with open(os.path.join(ROOT, "models", "manifest.json")) as f:
        shipped = next((m for m in json.load(f)["models"] if m["name"] == name), None)
    channel = None
    if release_dir:
        path = os.path.join(release_dir, name, "stable.json")
        if os.path.exists(path):
            with open(path) as f:
                m = json.load(f)
            channel = {"channel": m["channel"], "version": m["version"], "rollout": m["rollout"],
                       "previous": (m.get("previous") or {}).get("version"), "createdAt": m["createdAt"],
                       "expiresAt": m["expiresAt"], "size": m["size"], "manifest": os.path.relpath(path, ROOT)}
    return {"shipped": shipped, "channel": channel}


def distill_state(name, decision_path):
    """The last distillation round of this model (tools/distill's decision.json), in figures, or None."""
    if not decision_path or not os.path.exists(decision_path):
        return None
    with open(decision_path) as f:
        d = json.load(f)
    if not str(d.get("model", "")).startswith(name) or "old" not in d:
        return None
    return {"from": d["model"], "accepted": d["accepted"], "reasons": d["reasons"], "version": d.get("version"),
            "teacher_examples": d["teacher_examples"], "heldout_texts": d["old"]["n"],
            "old_accuracy": d["old"]["accuracy"], "new_accuracy": d["new"]["accuracy"],
            "matched": d["matched"], "decision": os.path.relpath(decision_path, ROOT)}


def collect(name, args):
    """All the measures of models/<name>.gguf (module docstring)."""
    model = os.path.join(args.models, name + ".gguf")
    f32 = os.path.join(args.models, name + "-f32.gguf")
    kv = ggufio.read_gguf(model).kv
    threshold = kv.get("edgetag.escalation.threshold")
    task = tasks_mod.get(TASK_OF[name], args.data)
    examples = task.examples("dev", args.data)
    if args.limit:
        examples = examples[:args.limit]
    if task.kind == "sequence_classification":
        q = quality.intent(args.cli, model, examples, threshold, kv.get("edgetag.escalation.abstain_label") or "oos")
        kind = "classify"
    else:
        q = quality.extract(args.cli, model, examples, threshold)
        kind = "extract"
    sample = sample_indices(len(examples), args.latency_texts)
    texts = [examples[i][0] for i in sample]
    all_texts = [t for t, _ in examples]
    measured = run_measure(args.node, model, texts, [gold_answer(kind, *examples[i]) for i in sample], args.warmup,
                           pattern_texts=all_texts)
    prices = {"input": args.price_input, "output": args.price_output}
    edge = {"per_million_requests": args.edge_per_million, "per_million_cpu_ms": args.edge_per_million_cpu_ms}
    shown = sorted({0.3, 0.5, round(threshold, 4), 0.9, 0.95, 0.99})
    table = costs.table(q, sample, measured, prices, edge, shown, quality.escalates)
    grid = costs.table(q, sample, measured, prices, edge, [i / 100 for i in range(0, 101)], quality.escalates)[1:]
    with open(model, "rb") as f:
        update_gzip = len(gzip.compress(f.read(), 9))
    return {
        "name": name, "task": task.kind, "task_name": task.name, "description": task.description,
        "labels": len(kv.get("bert.classifier.output_labels") or []), "version": kv.get("edgetag.model.version"),
        "threshold": threshold, "temperature": kv.get("edgetag.calibration.temperature"),
        "quality": q, "measured": {k: v for k, v in measured.items()},
        "latency": {"texts": len(texts), "p50_ms": measured["p50_ms"], "p95_ms": measured["p95_ms"],
                    "mean_text_tokens": sum(measured["textTokens"]) / len(texts),
                    "max_text_tokens": max(measured["textTokens"]), "cloud": args.cloud,
                    "repeats": measured["repeats"], "load_average": measured["load_average"]},
        "sensitivity": sensitivity(args.cli, os.path.join(args.models, "pii-ner.gguf"), all_texts, measured["patterns"]),
        "cost": {"prices": prices, "edge": edge, "rows": table, "grid": grid,
                 "mean_input_tokens": sum(measured["inputTokens"]) / len(texts),
                 "mean_output_tokens": sum(measured["outputTokens"]) / len(texts)},
        "ownership": {"int8_bytes": os.path.getsize(model), "f32_bytes": os.path.getsize(f32) if os.path.exists(f32) else None,
                      "update_gzip_bytes": update_gzip, "wasm_memory_after_load": measured["memoryAfterLoad"],
                      "wasm_memory_after_runs": measured["memoryAfterRuns"], "load_ms": measured["loadMs"],
                      "engine": measured["engine"], "release": release_state(name, args.release),
                      "distill": distill_state(name, args.distill)},
    }
