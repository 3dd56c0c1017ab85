"""report — the footprint-vs-accuracy trade-off table and plot of the shipped models (`make tradeoff`).

Usage:
    /usr/bin/python3 -m tools.tradeoff.report [--eval build/variants/eval.json] [--measure build/variants/measure.json]
                                              [--readme models/README.md] [--plot models/tradeoff.png]

Joins the task metrics of `make eval` (tools/eval/engine.py --json) with the sizes, memory and latencies of
tools/tradeoff/measure.mjs, per task and variant (f32, int8, q4, and any other build/variants file), and writes
one table per task between the markers of models/README.md plus a plot: task metric against file size, and
against the relaxed build's latency in Node.
"""

import argparse
import json
import os
import sys

from tools.formats import ggufio


def parameters(path):
    """The model's parameters: elements of every tensor but the int8 row scales (which are the weights' format)."""
    n = 0
    for name, t in ggufio.read_gguf(path).tensors.items():
        if not name.startswith("edgetag.row_scale."):
            p = 1
            for x in t.ne:
                p *= int(x)
            n += p
    return n

BEGIN, END = "<!-- tools/tradeoff begin -->", "<!-- tools/tradeoff end -->"
ORDER = ("f32", "int8", "q4", "pruned-f32", "pruned-int8", "pruned-q4")
METRIC = {"intent-clinc": ("accuracy", "accuracy"), "maint-ner": ("f1", "entity span F1"),
          "pii-ner": ("f1", "entity span F1")}


def eval_key(task, variant):
    return "%s.gguf" % task if variant == "int8" else "%s-%s.gguf" % (task, variant)


def rows_by_task(ev, me):
    out = {}
    for r in me["rows"]:
        e = ev.get(eval_key(r["task"], r["variant"]))
        metric = METRIC[r["task"]][0]
        out.setdefault(r["task"], []).append(dict(r, metric=e[metric] if e else None, eval=e,
                                                  params=parameters(r["file"])))
    for rows in out.values():
        rows.sort(key=lambda r: ORDER.index(r["variant"]) if r["variant"] in ORDER else len(ORDER))
    return out


def mib(n):
    return "%.1f MiB" % (n / 2 ** 20) if n else "—"


def ms(v):
    return "%.1f" % v if v is not None else "—"


def table(task, rows):
    name = METRIC[task][1]
    int8 = next((r for r in rows if r["variant"] == "int8"), None)
    lines = ["| variant | parameters | file | vs int8 | wasm memory, 128 tokens | Node SIMD128 / relaxed, ms | "
             "Chromium SIMD128 / relaxed, ms | %s (Δ vs int8, points) |" % name, "|---|---|---|---|---|---|---|---|"]
    full = rows[0]["params"] if rows else 0
    for r in rows:
        rel = "%.0f %%" % (100.0 * r["bytes"] / int8["bytes"]) if int8 else "—"
        if r["metric"] is None:
            m = "—"
        else:
            d = 100.0 * (r["metric"] - int8["metric"]) if int8 and int8["metric"] is not None else None
            m = "%.4f" % r["metric"] + (" (%+.2f)" % d if d is not None and r is not int8 else "")
        lines.append("| %s | %.2f M (%.0f %%) | %.2f MB | %s | %s | %s / %s | %s / %s | %s |" % (
            r["variant"], r["params"] / 1e6, 100.0 * r["params"] / full, r["bytes"] / 1e6, rel, mib(r.get("node_relaxed_memory")),
            ms(r.get("node_baseline_ms")), ms(r.get("node_relaxed_ms")),
            ms(r.get("chromium_baseline_ms")), ms(r.get("chromium_relaxed_ms")), m))
    return "\n".join(lines)


def plot(by_task, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    marks = {"f32": "o", "int8": "s", "q4": "^", "pruned-f32": "o", "pruned-int8": "D", "pruned-q4": "v"}
    for task, rows in by_task.items():
        pts = [r for r in rows if r["metric"] is not None]
        for ax, x in ((axes[0], lambda r: r["bytes"] / 1e6), (axes[1], lambda r: r.get("node_relaxed_ms"))):
            xs = [x(r) for r in pts]
            color = None
            for family in (False, True):  # a line through the unpruned variants, another through the pruned ones
                fam = sorted((xv, r["metric"]) for r, xv in zip(pts, xs) if ("pruned" in r["variant"]) == family)
                if fam:
                    line, = ax.plot([p[0] for p in fam], [p[1] for p in fam], "--" if family else "-", alpha=0.4,
                                    color=color)
                    color = line.get_color()
            for r, xv in zip(pts, xs):
                ax.plot(xv, r["metric"], marks.get(r["variant"], "x"), color=color,
                        label="%s %s" % (task, r["variant"]))
                ax.annotate(r["variant"], (xv, r["metric"]), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes[0].set_xlabel("file size (MB)")
    axes[1].set_xlabel("latency, 128 tokens, Node relaxed build (ms)")
    for ax in axes:
        ax.set_ylabel("task metric (accuracy / entity F1)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=7)
    fig.suptitle("edgetag shipped models: footprint and speed vs task metric (dev splits)")
    fig.tight_layout(rect=(0, 0, 0.82, 1))
    fig.savefig(path, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="report.py")
    ap.add_argument("--eval", default="build/variants/eval.json")
    ap.add_argument("--measure", default="build/variants/measure.json")
    ap.add_argument("--readme", default="models/README.md")
    ap.add_argument("--plot", default="models/tradeoff.png")
    args = ap.parse_args(argv)
    with open(args.eval, encoding="utf-8") as f:
        ev = json.load(f)
    with open(args.measure, encoding="utf-8") as f:
        me = json.load(f)
    by_task = rows_by_task(ev, me)
    parts = [BEGIN, "Measured %s UTC (load average %s): Node %s, %s; latency = logits of one 128-token text, "
             "median of %d runs after 15 warm-up runs, in a fresh engine per cell (a child process in Node, a fresh "
             "page in Chromium); wasm memory = the engine's memory after loading the file and running that text "
             "(relaxed build; the baseline build's is within 0.2 MiB). Metrics from `make eval` on the dev splits. "
             "Regenerate with `make tradeoff`." % (me["when"][:16].replace("T", " "), me["load"], me["node"],
                                                  "Chromium " + me["chromium"] if me["chromium"] else "no Chromium",
                                                  me["runs"]), ""]
    for task, rows in by_task.items():
        parts += ["**%s**" % task, "", table(task, rows), ""]
    parts += ["![metric against file size and latency](tradeoff.png)", END]
    block = "\n".join(parts)
    with open(args.readme, encoding="utf-8") as f:
        md = f.read()
    i, j = md.find(BEGIN), md.find(END)
    md = md[:i] + block + md[j + len(END):] if i >= 0 and j > i else md.rstrip("\n") + "\n\n" + block + "\n"
    with open(args.readme, "w", encoding="utf-8") as f:
        f.write(md)
    plot(by_task, args.plot)
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
