"""The report's figures (matplotlib, Agg): PNG bytes, sized for a page column, labelled for a reader who has not
read the code."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

WIDTH, HEIGHT, DPI = 7.2, 4.0, 110


def _png(fig):
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def threshold_curve(quality, name):
    """Escalation rate (x) against the quality of what stays local (y), the shipped threshold marked."""
    curve = [r for r in quality["curve"] if r["escalation_rate"] < 1.0]  # nothing kept: no accuracy to speak of
    key, what = ("local_accuracy", "accuracy of the texts kept local") if quality["kind"] == "classify" \
        else ("local_f1", "span F1 of the texts kept local")
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT))
    xs = [100 * r["escalation_rate"] for r in curve]
    ax.plot(xs, [r[key] for r in curve], color="#1f77b4", lw=2, label="every threshold")
    ax.scatter([100 * quality["escalation_rate"]], [quality["local_accuracy" if quality["kind"] == "classify" else "local_f1"]],
               s=90, color="#d62728", zorder=5, label="shipped threshold %.3f" % quality["threshold"])
    ax.annotate("shipped: %.1f %% escalated" % (100 * quality["escalation_rate"]),
                (100 * quality["escalation_rate"], quality["local_accuracy" if quality["kind"] == "classify" else "local_f1"]),
                textcoords="offset points", xytext=(12, -18), color="#d62728")
    ax.set_xlabel("texts escalated to the cloud (%)")
    ax.set_ylabel(what)
    ax.set_title("%s: the threshold curve (dev split, %d texts)" % (name, quality["texts"]))
    ax.set_xlim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _png(fig)


def latency(measured, cloud, name):
    """Histogram of local latency per text (log scale), the local p50/p95 and the stated cloud round trip."""
    import numpy as np
    lat = measured["latencyMs"]
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT + 0.9))
    lo, hi = max(min(lat) * 0.8, 0.05), max(cloud["p95_ms"] * 1.3, max(lat) * 1.2)
    bins = np.logspace(np.log10(lo), np.log10(hi), 60)
    ax.hist(lat, bins=bins, color="#1f77b4", alpha=0.85, label="local, per text (%d texts)" % len(lat))
    for v, style, label in ((measured["p50_ms"], "-", "local p50 %.1f ms"), (measured["p95_ms"], "--", "local p95 %.1f ms")):
        ax.axvline(v, color="#1f77b4", ls=style, lw=1.5, label=label % v)
    for v, style, label in ((cloud["p50_ms"], "-", "cloud p50 %d ms (stated)"), (cloud["p95_ms"], "--", "cloud p95 %d ms (stated)")):
        ax.axvline(v, color="#d62728", ls=style, lw=1.5, label=label % v)
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds per request (log scale)")
    ax.set_ylabel("texts")
    ax.set_title("%s: local latency through the wasm build (%s SIMD, Node %s)"
                 % (name, measured["engine"]["flavour"], measured["engine"]["node"]))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=3)
    return _png(fig)


def cost(rows_curve, cloud_only, shipped, name, edge_local):
    """Cost per million requests against the threshold: on the device, on an edge worker, and cloud only."""
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT))
    ts = [r["threshold"] for r in rows_curve]
    ax.plot(ts, [r["device_total"] for r in rows_curve], lw=2, color="#2ca02c", label="hybrid, local on the device")
    ax.plot(ts, [r["edge_total"] for r in rows_curve], lw=2, ls="--", color="#9467bd", label="hybrid, local on an edge worker (+$%.2f)" % edge_local)
    ax.axhline(cloud_only, color="#d62728", lw=1.5, label="cloud only $%.0f" % cloud_only)
    ax.axvline(shipped, color="black", lw=1, ls=":", label="shipped threshold %.3f" % shipped)
    ax.set_xlabel("escalation threshold (calibrated confidence)")
    ax.set_ylabel("US$ per million requests")
    ax.set_ylim(0, cloud_only * 1.1)
    ax.set_xlim(0, 1)
    ax.set_title("%s: cost per million requests" % name)
    top = ax.secondary_xaxis("top", functions=(lambda x: x, lambda x: x))
    top.set_ticks([r["threshold"] for r in rows_curve[::20]])
    top.set_xticklabels(["%.0f %%" % (100 * r["escalation_rate"]) for r in rows_curve[::20]])
    top.set_xlabel("escalated at that threshold", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)
